/**
 * The IPC contract: every channel between a front end (the Electron renderer,
 * or a browser behind `bootcard serve`) and the core. Each feature declares its
 * channels in `channels/<area>.ts`; this module joins them. Main registers one
 * handler per channel (`handlers/`), the renderer gets a typed client
 * (`client.ts`), and the transport in between is interchangeable.
 */
import type { z } from 'zod';
import { appChannels } from './channels/app.js';
import { cardChannels } from './channels/card.js';
import { driveChannels } from './channels/drives.js';
import { eepromChannels } from './channels/eeprom.js';
import { firmwareChannels } from './channels/firmware.js';
import { manifestChannels } from './channels/manifest.js';
import { netbootChannels } from './channels/netboot.js';
import { profileChannels } from './channels/profiles.js';
import { fileChannels } from './channels/files.js';
import { sdlockChannels } from './channels/sdlock.js';
import { stationChannels } from './channels/station.js';
import { uefiChannels } from './channels/uefi.js';

export const contract = {
  ...appChannels,
  ...eepromChannels,
  ...firmwareChannels,
  ...cardChannels,
  ...driveChannels,
  ...sdlockChannels,
  ...uefiChannels,
  ...manifestChannels,
  ...netbootChannels,
  ...profileChannels,
  ...fileChannels,
  ...stationChannels,
} as const;

export type Contract = typeof contract;
export type Channel = keyof Contract;
/** What a front end sends (schema input: defaults may be omitted). */
export type RequestOf<C extends Channel> = z.input<Contract[C]['request']>;
/** What a handler receives after validation (schema output). */
export type ParsedRequestOf<C extends Channel> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends Channel> = Contract[C]['response'];
export type ProgressOf<C extends Channel> = Contract[C]['progress'];

export function isChannel(name: string): name is Channel {
  return Object.prototype.hasOwnProperty.call(contract, name);
}
