/**
 * Where firmware comes from: a local file, folder or zip the user names, or a
 * download with its progress.
 */
import { z } from 'zod';
import { channel } from '../define.js';
import { filePathSchema } from './common.js';
import { boardSchema, type Board } from './eeprom.js';

export type FirmwareLocation =
  | {
      readonly kind: 'eeprom';
      readonly board: Board;
      /** The bootloader image the card's pieeprom.bin is built from. */
      readonly basePath: string;
      /** The recovery.bin the Pi runs from the card to flash its EEPROM. */
      readonly recoveryPath: string;
      /** The bootloader config the base image carries now; the wizard's settings are merged into it. */
      readonly currentConfig: string;
    }
  | {
      readonly kind: 'uefi';
      /** The pftf RPi4 UEFI firmware zip or unpacked folder. */
      readonly path: string;
      readonly fileCount: number;
      /** The firmware's own config.txt; the wizard shows it with the user's edits applied. */
      readonly configTxt: string;
    };

export type FirmwareDownloadProgress = { readonly type: 'download'; readonly received: number; readonly total: number | null };

export interface FirmwareDownloadResult {
  /** The zip in bootcard's download cache. */
  readonly path: string;
  readonly version: string;
  readonly sha256: string;
  /** True when it was already in the cache. */
  readonly cached: boolean;
}

export const firmwareChannels = {
  'firmware.locate': channel<FirmwareLocation>()(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('eeprom'), board: boardSchema, path: filePathSchema }).strict(),
      z.object({ kind: z.literal('uefi'), path: filePathSchema }).strict(),
    ]),
  ),
  /** Downloads the pftf RPi4 UEFI firmware release zip (cached; checksum-checked on reuse). */
  'firmware.download': channel<FirmwareDownloadResult, FirmwareDownloadProgress>()(
    z.object({ version: z.string().max(16).regex(/^v?\d+\.\d+$/, 'a release such as v1.39').optional() }).strict(),
  ),
};
