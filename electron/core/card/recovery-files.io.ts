/**
 * Finds and reads the files of a recovery card: from an rpi-eeprom style
 * folder (e.g. /lib/firmware/raspberrypi/bootloader-2711/default on Raspberry
 * Pi OS, or firmware-2711/default in the rpi-eeprom repository) the newest
 * pieeprom-YYYY-MM-DD.bin, recovery.bin and, for a Pi 4, the newest
 * vl805-*.bin; explicit paths override each.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import { readBinaryFile, readEepromImageFile } from '../eeprom/files.io.js';
import type { Board } from '../eeprom/image.js';
import { CardErrorCode } from './errors.js';

export interface RecoveryFilePaths {
  readonly pieeprom: string;
  readonly recovery: string;
  readonly vl805?: string;
}

export interface RecoveryFileChoice {
  readonly firmwareDir?: string;
  readonly eeprom?: string;
  readonly recovery?: string;
  readonly vl805?: string;
}

const PIEEPROM_RE = /^pieeprom-\d{4}-\d{2}-\d{2}\.bin$/;
const VL805_RE = /^vl805-[0-9a-f]+\.bin$/i;

/** The newest file by name (dates and hex versions sort as text). */
const newest = (names: string[], re: RegExp) => names.filter((n) => re.test(n)).sort().at(-1);

export async function resolveRecoveryFiles(board: Board, choice: RecoveryFileChoice): Promise<RecoveryFilePaths> {
  let names: string[] = [];
  if (choice.firmwareDir) {
    try {
      names = await readdir(choice.firmwareDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw new BootcardError(CardErrorCode.FIRMWARE_DIR_INCOMPLETE, `${choice.firmwareDir} is not a folder: --firmware-dir takes an rpi-eeprom folder such as /lib/firmware/raspberrypi/bootloader-${board}/default.`);
      }
      throw toBootcardError(error, `Could not read the firmware folder ${choice.firmwareDir}`);
    }
  }
  const inDir = (name: string | undefined) => (name && choice.firmwareDir ? path.join(choice.firmwareDir, name) : undefined);
  const pieeprom = choice.eeprom ?? inDir(newest(names, PIEEPROM_RE));
  const recovery = choice.recovery ?? inDir(names.includes('recovery.bin') ? 'recovery.bin' : undefined);
  const vl805 = choice.vl805 ?? (board === '2711' ? inDir(newest(names, VL805_RE)) : undefined);
  const missing = [!pieeprom && 'pieeprom-YYYY-MM-DD.bin (or --eeprom FILE)', !recovery && 'recovery.bin (or --recovery FILE)'].filter(Boolean);
  if (missing.length > 0) {
    throw new BootcardError(
      CardErrorCode.FIRMWARE_DIR_INCOMPLETE,
      `${choice.firmwareDir ? `${choice.firmwareDir} has no ` : 'Missing: '}${missing.join(' and ')}. Point --firmware-dir at an rpi-eeprom folder such as /lib/firmware/raspberrypi/bootloader-${board}/default, or give the files.`,
      { firmwareDir: choice.firmwareDir ?? null },
    );
  }
  return { pieeprom: pieeprom!, recovery: recovery!, ...(vl805 ? { vl805 } : {}) };
}

export interface RecoveryFileBytes {
  readonly pieeprom: Uint8Array;
  readonly recovery: Uint8Array;
  readonly vl805?: Uint8Array;
}

/** Reads the files, refusing a pieeprom of the wrong size and a far too large recovery.bin or vl805 before reading them. */
export async function readRecoveryFiles(paths: RecoveryFilePaths): Promise<RecoveryFileBytes> {
  return {
    pieeprom: await readEepromImageFile(paths.pieeprom),
    recovery: await readBinaryFile(paths.recovery, 'recovery.bin'),
    ...(paths.vl805 ? { vl805: await readBinaryFile(paths.vl805, 'VL805 firmware') } : {}),
  };
}
