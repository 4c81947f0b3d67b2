/**
 * Every feature registers its subcommands here, one line each.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerInfoCommand } from './info.js';
import { registerServeCommand } from './serve.js';
import { registerSdCommands } from './sd.js';
import { registerEepromCommands } from './eeprom.js';
import { registerUefiCommands } from './uefi.js';
import { registerCardCommands } from './card.js';
import { registerDrivesCommands } from './drives.js';
import { registerNetbootCommands } from './netboot.js';

export type CommandRegistrar = (program: Command, ctx: CliContext) => void;

export const commandRegistrars: readonly CommandRegistrar[] = [
  registerInfoCommand,
  registerServeCommand,
  registerSdCommands,
  registerEepromCommands,
  registerUefiCommands,
  registerCardCommands,
  registerDrivesCommands,
  registerNetbootCommands,
];
