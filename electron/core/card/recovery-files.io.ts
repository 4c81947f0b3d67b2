/**
 * Finds and reads the files of a recovery card, for the CLI and the wizard:
 * from an rpi-eeprom style folder (e.g. /lib/firmware/raspberrypi/bootloader-2711/default
 * on Raspberry Pi OS, firmware-2711/default in the rpi-eeprom repository, or
 * the checkout itself) the newest pieeprom-YYYY-MM-DD.bin (or
 * pieeprom-2711-YYYY-MM-DD.bin), recovery.bin (or recovery-2711.bin) and, for
 * a Pi 4, the newest vl805-*.bin; explicit paths override each.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, inWizardWords, toBootcardError } from '../errors.js';
import { MAX_INPUT_FILE_BYTES, readBinaryFile, readEepromImageFile } from '../eeprom/files.io.js';
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

/** pieeprom-2026-05-17.bin as rpi-eeprom ships it, or pieeprom-2711-2026-05-17.bin when boards share a folder. */
const PIEEPROM_RE = /^pieeprom-(?:(2711|2712)-)?(\d{4}-\d{2}-\d{2})\.bin$/;
const VL805_RE = /^vl805-[0-9a-f]+\.bin$/i;

/** The newest pieeprom for this board, by its release date. */
function newestPieeprom(names: readonly string[], board: Board): string | undefined {
  const dated = names
    .map((name) => ({ name, m: PIEEPROM_RE.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null && (e.m[1] === undefined || e.m[1] === board));
  dated.sort((a, b) => a.m[2]!.localeCompare(b.m[2]!));
  return dated.at(-1)?.name;
}

const isFolder = async (p: string) => (await stat(p).catch(() => null))?.isDirectory() ?? false;

/**
 * The folder that holds the files: the one given, or its firmware-<board>/default
 * or default subfolder (an rpi-eeprom checkout or its firmware folder).
 */
async function firmwareFolder(dir: string, board: Board): Promise<{ dir: string; names: string[] }> {
  let where = dir;
  for (const sub of [`firmware-${board}/default`, 'default']) {
    if (await isFolder(path.join(where, sub))) where = path.join(where, sub);
  }
  try {
    return { dir: where, names: await readdir(where) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new BootcardError(CardErrorCode.FIRMWARE_DIR_INCOMPLETE, `${dir} is not a folder: --firmware-dir takes an rpi-eeprom folder such as /lib/firmware/raspberrypi/bootloader-${board}/default.`, inWizardWords(`${dir} is not a folder: choose an rpi-eeprom folder such as /lib/firmware/raspberrypi/bootloader-${board}/default.`));
    }
    throw toBootcardError(error, `Could not read the firmware folder ${dir}`);
  }
}

export async function resolveRecoveryFiles(board: Board, choice: RecoveryFileChoice): Promise<RecoveryFilePaths> {
  const folder = choice.firmwareDir ? await firmwareFolder(choice.firmwareDir, board) : { dir: '', names: [] as string[] };
  const inDir = (name: string | undefined) => (name && choice.firmwareDir ? path.join(folder.dir, name) : undefined);
  const recoveryName = [`recovery-${board}.bin`, 'recovery.bin'].find((n) => folder.names.includes(n));
  const pieeprom = choice.eeprom ?? inDir(newestPieeprom(folder.names, board));
  const recovery = choice.recovery ?? inDir(recoveryName);
  const vl805 = choice.vl805 ?? (board === '2711' ? inDir(folder.names.filter((n) => VL805_RE.test(n)).sort().at(-1)) : undefined);
  const missing = [!pieeprom && 'pieeprom-YYYY-MM-DD.bin (or --eeprom FILE)', !recovery && 'recovery.bin (or --recovery FILE)'].filter(Boolean);
  if (missing.length > 0) {
    throw new BootcardError(
      CardErrorCode.FIRMWARE_DIR_INCOMPLETE,
      `${choice.firmwareDir ? `${folder.dir} has no ` : 'Missing: '}${missing.join(' and ')}. Point --firmware-dir at an rpi-eeprom folder such as /lib/firmware/raspberrypi/bootloader-${board}/default, or give the files.`,
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
export async function readRecoveryFiles(paths: RecoveryFilePaths, options: { readonly signal?: AbortSignal } = {}): Promise<RecoveryFileBytes> {
  return {
    pieeprom: await readEepromImageFile(paths.pieeprom, options),
    recovery: await readBinaryFile(paths.recovery, 'recovery.bin', MAX_INPUT_FILE_BYTES, options),
    ...(paths.vl805 ? { vl805: await readBinaryFile(paths.vl805, 'VL805 firmware', MAX_INPUT_FILE_BYTES, options) } : {}),
  };
}
