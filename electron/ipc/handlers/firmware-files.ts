/**
 * Finding the bootloader files the wizard builds from: a firmware folder as
 * rpi-eeprom ships it (firmware-2711/default: pieeprom-2026-05-17.bin +
 * recovery.bin), a folder of board-named files (pieeprom-2711-....bin +
 * recovery-2711.bin), an rpi-eeprom checkout, or one pieeprom .bin with its
 * recovery.bin beside it. The base image is parsed, so a Pi 5 image never
 * goes on a Pi 4 card.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../../core/errors.js';
import { parseEepromImage, readBootConf, type Board } from '../../core/eeprom/index.js';

export const WizardErrorCode = {
  FIRMWARE_NOT_FOUND: 'WIZARD_FIRMWARE_NOT_FOUND',
  FIRMWARE_WRONG_BOARD: 'WIZARD_FIRMWARE_WRONG_BOARD',
} as const;

export interface EepromFirmware {
  readonly board: Board;
  readonly basePath: string;
  readonly recoveryPath: string;
  /** Pi 4: the newest vl805-*.bin beside the image (the USB 3 controller firmware the card also updates). */
  readonly vl805Path?: string;
  readonly base: Uint8Array;
  readonly currentConfig: string;
}

const BASE_RE = /^pieeprom-(?:(2711|2712)-)?(\d{4}-\d{2}-\d{2})\.bin$/;
const boardName = (b: Board) => (b === '2711' ? 'Pi 4 (2711)' : 'Pi 5 (2712)');

async function isDir(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isDirectory() ?? false;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isFile() ?? false;
}

async function findRecovery(dir: string, board: Board): Promise<string | null> {
  for (const name of [`recovery-${board}.bin`, 'recovery.bin']) {
    if (await isFile(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

async function newestBase(dir: string, board: Board): Promise<string | null> {
  const names = (await readdir(dir)).filter((n) => {
    const m = BASE_RE.exec(n);
    return m !== null && (m[1] === undefined || m[1] === board);
  });
  // Newest release first: compare the date, not the board prefix.
  names.sort((a, b) => BASE_RE.exec(b)![2]!.localeCompare(BASE_RE.exec(a)![2]!));
  return names[0] ? path.join(dir, names[0]) : null;
}

export async function locateEepromFirmware(given: string, board: Board, cwd: string): Promise<EepromFirmware> {
  let where = path.resolve(cwd, given);
  if (!(await isDir(where)) && !(await isFile(where))) {
    throw new BootcardError(WizardErrorCode.FIRMWARE_NOT_FOUND, `${where} does not exist. Name a firmware folder or a pieeprom .bin file.`, { path: where });
  }
  for (const sub of [`firmware-${board}/default`, 'default']) {
    if (await isDir(path.join(where, sub))) where = path.join(where, sub);
  }
  const basePath = (await isDir(where)) ? await newestBase(where, board) : where;
  if (!basePath) {
    throw new BootcardError(
      WizardErrorCode.FIRMWARE_NOT_FOUND,
      `No ${boardName(board)} bootloader image (pieeprom-YYYY-MM-DD.bin) in ${where}. Use rpi-eeprom's firmware-${board}/default folder.`,
      { path: where },
    );
  }
  const recoveryPath = await findRecovery(path.dirname(basePath), board);
  if (!recoveryPath) {
    throw new BootcardError(
      WizardErrorCode.FIRMWARE_NOT_FOUND,
      `No recovery.bin beside ${basePath}: the card needs the recovery loader from the same firmware folder.`,
      { path: basePath },
    );
  }
  let base: Uint8Array;
  try {
    base = new Uint8Array(await readFile(basePath));
  } catch (error) {
    throw toBootcardError(error, `Cannot read ${basePath}`);
  }
  const image = parseEepromImage(base);
  if (image.board !== board) {
    throw new BootcardError(
      WizardErrorCode.FIRMWARE_WRONG_BOARD,
      `${basePath} is a ${boardName(image.board)} bootloader, but this card is for a ${boardName(board)}. Pick the firmware-${board} folder.`,
      { path: basePath, board: image.board },
    );
  }
  const vl805 = board === '2711' ? (await readdir(path.dirname(basePath))).filter((n) => /^vl805-[0-9a-f]+\.bin$/i.test(n)).sort().at(-1) : undefined;
  return {
    board,
    basePath,
    recoveryPath,
    ...(vl805 ? { vl805Path: path.join(path.dirname(basePath), vl805) } : {}),
    base,
    currentConfig: readBootConf(base, image),
  };
}
