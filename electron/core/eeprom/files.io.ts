/**
 * File I/O for the EEPROM commands: reading an image without trusting its
 * size; outputs go through the shared atomic writer.
 */
import { readFile, stat } from 'node:fs/promises';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { EepromErrorCode } from './codes.js';
import { boardForImageSize, IMAGE_SIZE_BY_BOARD } from './image.js';
import { formatBytes } from '../units.js';

/** Reads a pieeprom image; refuses (EEPROM_BAD_IMAGE_SIZE) before reading a file of the wrong size. */
export async function readEepromImageFile(file: string): Promise<Uint8Array> {
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new BootcardError(CommonErrorCode.FILE_UNREADABLE, `${file} is not a file.`, { path: file });
    boardForImageSize(info.size);
    return new Uint8Array(await readFile(file));
  } catch (error) {
    if (error instanceof BootcardError) throw new BootcardError(error.code, `${file}: ${error.message}`, { ...error.details, path: file });
    throw toBootcardError(error, `Could not read ${file}`);
  }
}

/**
 * Inputs read whole (configs, CSVs, keys, signatures, recovery.bin): none is
 * near this size, so a larger file is a wrong path (an OS image, a card) and
 * is refused by its size before a byte is read.
 */
export const MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024;

/** Reads a small input file whole; `what` names it in messages ("config", "recovery.bin"). */
export async function readBinaryFile(file: string, what: string, maxBytes = MAX_INPUT_FILE_BYTES): Promise<Uint8Array> {
  try {
    const info = await stat(file);
    if (info.isFile() && info.size > maxBytes) {
      throw new BootcardError(
        CommonErrorCode.FILE_UNREADABLE,
        `The ${what} ${file} is ${formatBytes(info.size)}, far larger than a ${what} can be: check the path.`,
        { path: file, size: info.size, max: maxBytes },
      );
    }
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw toBootcardError(error, `Could not read the ${what} ${file}`);
  }
}

/** Reads a UTF-8 text file; refuses other bytes rather than changing them (the config goes into the image as is). */
export async function readTextFile(file: string, what: string): Promise<string> {
  const bytes = await readBinaryFile(file, what);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new BootcardError(EepromErrorCode.CONFIG_NOT_TEXT, `The ${what} ${file} is not UTF-8 text; save it as plain ASCII text.`, { path: file });
  }
}

/** A file that may be an EEPROM image (by its size: 512 KiB or 2 MiB) or a config text. */
export async function readConfigOrImage(file: string): Promise<{ kind: 'image'; bytes: Uint8Array } | { kind: 'text'; text: string }> {
  let size = -1;
  try {
    size = (await stat(file)).size;
  } catch {
    // readTextFile reports it
  }
  if (Object.values(IMAGE_SIZE_BY_BOARD).includes(size)) return { kind: 'image', bytes: await readEepromImageFile(file) };
  return { kind: 'text', text: await readTextFile(file, 'config') };
}

export async function pathExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

export { writeFilesAtomically, type OutputFile } from '../files/atomic-write.io.js';
