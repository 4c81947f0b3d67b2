/**
 * Every feature registers its subcommands here: one entry per command module,
 * naming the top-level commands it registers, how each appears in
 * `bootcard --help`, and how to load it.
 *
 * A module is imported only when its command runs (or its help is asked for):
 * the modules pull in etcher-sdk, drivelist, zod contracts, the serve stack and
 * crypto, and loading them all made `bootcard --help` take most of a second.
 * The top-level help is drawn from `help` below instead, which
 * tests/cli-startup checks word for word against the loaded modules.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export type CommandRegistrar = (program: Command, ctx: CliContext) => void;

export interface CommandHelp {
  readonly name: string;
  /** The command as the top-level help lists it, e.g. `flash [options] <image>`. */
  readonly term: string;
  readonly description: string;
}

export interface CommandModule {
  /** The top-level commands the module registers, in its order. */
  readonly help: readonly CommandHelp[];
  readonly load: () => Promise<CommandRegistrar>;
}

export const commandModules: readonly CommandModule[] = [
  {
    help: [{ name: 'info', term: 'info [options]', description: 'print the bootcard version and platform' }],
    load: async () => (await import('./info.js')).registerInfoCommand,
  },
  {
    help: [{ name: 'serve', term: 'serve [options]', description: 'run the wizard in a browser: serves it on loopback and prints a URL with an access token' }],
    load: async () => (await import('./serve.js')).registerServeCommand,
  },
  {
    help: [{ name: 'sd', term: 'sd', description: "SD card write protection (the CSD register's write-protect bits, set with CMD27)" }],
    load: async () => (await import('./sd.js')).registerSdCommands,
  },
  {
    help: [{ name: 'eeprom', term: 'eeprom', description: 'read, check, explain and build Raspberry Pi 4/5 bootloader EEPROM images (pieeprom.bin)' }],
    load: async () => (await import('./eeprom.js')).registerEepromCommands,
  },
  {
    help: [{ name: 'uefi', term: 'uefi', description: "UEFI firmware settings stored in RPI_EFI.fd (the pftf/RPi4 firmware's NVRAM)" }],
    load: async () => (await import('./uefi.js')).registerUefiCommands,
  },
  {
    help: [{ name: 'card', term: 'card', description: 'compose UEFI firmware and EEPROM recovery cards; inspect cards' }],
    load: async () => (await import('./card.js')).registerCardCommands,
  },
  {
    help: [
      { name: 'drives', term: 'drives [options]', description: 'list the SD cards (and other disks) bootcard can write; system drives only with --all' },
      { name: 'flash', term: 'flash [options] <image>', description: 'write a disk image file to one or more cards at once, then read each back to verify' },
    ],
    load: async () => (await import('./drives.js')).registerDrivesCommands,
  },
  {
    help: [{ name: 'netboot', term: 'netboot', description: 'the server half of network boot: per-Pi TFTP folders and NFS roots, the dnsmasq/NFS config, and a check' }],
    load: async () => (await import('./netboot.js')).registerNetbootCommands,
  },
];
