/**
 * Finding the bootloader files the wizard builds from: a firmware folder as
 * rpi-eeprom ships it (firmware-2711/default: pieeprom-2026-05-17.bin +
 * recovery.bin), a folder of board-named files (pieeprom-2711-....bin +
 * recovery-2711.bin), an rpi-eeprom checkout, or one pieeprom .bin with its
 * recovery.bin beside it. The base image is parsed, so a Pi 5 image never
 * goes on a Pi 4 card.
 */
import path from 'node:path';
import { BootcardError, CommonErrorCode } from '../../core/errors.js';
import { inputKind } from '../../core/files/input-file.io.js';
import { parseEepromImage, readBootConf, type Board } from '../../core/eeprom/index.js';
import { readEepromImageFile } from '../../core/eeprom/files.io.js';
import { resolveRecoveryFiles } from '../../core/card/recovery-files.io.js';
import { CardErrorCode } from '../../core/card/errors.js';

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

const boardName = (b: Board) => (b === '2711' ? 'Pi 4 (2711)' : 'Pi 5 (2712)');

export async function locateEepromFirmware(given: string, board: Board, cwd: string, signal?: AbortSignal): Promise<EepromFirmware> {
  const where = path.resolve(cwd, given);
  // From the opened handle: a FIFO or a device node is refused at once (the open never waits), a missing path said so.
  const kind = await inputKind(where, { what: 'firmware', ...(signal ? { signal } : {}) }).catch((error: unknown) => {
    if (BootcardError.is(error, CommonErrorCode.FILE_NOT_FOUND)) {
      throw new BootcardError(WizardErrorCode.FIRMWARE_NOT_FOUND, `${where} does not exist. Name a firmware folder or a pieeprom .bin file.`, { path: where });
    }
    throw error;
  });
  // One finder for the CLI and the wizard: a folder, or one pieeprom .bin with its recovery.bin beside it.
  const paths = await resolveRecoveryFiles(board, kind === 'folder' ? { firmwareDir: where } : { firmwareDir: path.dirname(where), eeprom: where }).catch((error: unknown) => {
    if (BootcardError.is(error, CardErrorCode.FIRMWARE_DIR_INCOMPLETE)) {
      throw new BootcardError(
        WizardErrorCode.FIRMWARE_NOT_FOUND,
        `${error.message.replace(/ Point --firmware-dir at .*$/, '')} Use rpi-eeprom's firmware-${board}/default folder (on Raspberry Pi OS: /lib/firmware/raspberrypi/bootloader-${board}/default).`,
        { path: where },
      );
    }
    throw error;
  });
  const base = await readEepromImageFile(paths.pieeprom, signal ? { signal } : {});
  const image = parseEepromImage(base);
  if (image.board !== board) {
    throw new BootcardError(
      WizardErrorCode.FIRMWARE_WRONG_BOARD,
      `${paths.pieeprom} is a ${boardName(image.board)} bootloader, but this card is for a ${boardName(board)}. Pick the firmware-${board} folder.`,
      { path: paths.pieeprom, board: image.board },
    );
  }
  return {
    board,
    basePath: paths.pieeprom,
    recoveryPath: paths.recovery,
    ...(paths.vl805 ? { vl805Path: paths.vl805 } : {}),
    base,
    currentConfig: readBootConf(base, image),
  };
}
