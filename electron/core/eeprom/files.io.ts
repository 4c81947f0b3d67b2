/**
 * File I/O for the EEPROM commands: reading inputs through the one input
 * opener (no FIFO, device or folder is ever read, sizes are checked before
 * reading); outputs go through the shared atomic writer.
 */
import { stat } from 'node:fs/promises';
import { BootcardError, toBootcardError } from '../errors.js';
import { openInputFile, readInputFile } from '../files/input-file.io.js';
import { EepromErrorCode } from './codes.js';
import { boardForImageSize, IMAGE_SIZE_BY_BOARD } from './image.js';

export interface ReadInputOptions {
  readonly signal?: AbortSignal;
}

/** Reads a pieeprom image; refuses (EEPROM_BAD_IMAGE_SIZE) before reading a file of the wrong size. */
export async function readEepromImageFile(file: string, options: ReadInputOptions = {}): Promise<Uint8Array> {
  // The size check is boardForImageSize's: only 512 KiB and 2 MiB are images, refused before any read.
  const input = await openInputFile(file, { what: 'EEPROM image', maxBytes: Number.MAX_SAFE_INTEGER, ...options });
  try {
    boardForImageSize(input.size);
    return await input.readAll();
  } catch (error) {
    if (error instanceof BootcardError && error.code === EepromErrorCode.BAD_IMAGE_SIZE) {
      throw new BootcardError(error.code, `${file}: ${error.message}`, { ...error.details, path: file });
    }
    throw toBootcardError(error, `Could not read ${file}`);
  } finally {
    await input.close();
  }
}

/**
 * Inputs read whole (configs, CSVs, keys, signatures, recovery.bin): none is
 * near this size, so a larger file is a wrong path (an OS image, a card) and
 * is refused by its size before a byte is read.
 */
export const MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024;

/** Reads a small input file whole; `what` names it in messages ("config", "recovery.bin"). */
export async function readBinaryFile(file: string, what: string, maxBytes = MAX_INPUT_FILE_BYTES, options: ReadInputOptions = {}): Promise<Uint8Array> {
  return readInputFile(file, { what, maxBytes, ...options });
}

function decodeText(bytes: Uint8Array, file: string, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new BootcardError(EepromErrorCode.CONFIG_NOT_TEXT, `The ${what} ${file} is not UTF-8 text; save it as plain ASCII text.`, { path: file });
  }
}

/** Reads a UTF-8 text file; refuses other bytes rather than changing them (the config goes into the image as is). */
export async function readTextFile(file: string, what: string, options: ReadInputOptions = {}): Promise<string> {
  return decodeText(await readBinaryFile(file, what, MAX_INPUT_FILE_BYTES, options), file, what);
}

/** A file that may be an EEPROM image (by its size: 512 KiB or 2 MiB) or a config text. */
export async function readConfigOrImage(file: string, options: ReadInputOptions = {}): Promise<{ kind: 'image'; bytes: Uint8Array } | { kind: 'text'; text: string }> {
  // One opened handle decides and is read, so the kind and the bytes belong to the same file.
  const input = await openInputFile(file, { what: 'config', maxBytes: MAX_INPUT_FILE_BYTES, ...options });
  try {
    const bytes = await input.readAll();
    if (Object.values(IMAGE_SIZE_BY_BOARD).includes(bytes.length)) return { kind: 'image', bytes };
    return { kind: 'text', text: decodeText(bytes, file, 'config') };
  } finally {
    await input.close();
  }
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
