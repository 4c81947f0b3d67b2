/**
 * Reading an RPI_EFI.fd from where a user has one: the file itself (or any edk2 VARS file), a card
 * image (.img), or a card (/dev/sdX, /dev/mmcblkN), where it lies in the root of the FAT32 boot
 * partition; and writing an edited firmware file safely (temp file + rename, never a partial file).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError } from '../errors.js';
import { openByteReader } from '../fat32/byte-reader.io.js';
import { readFatImage } from '../fat32/reader.js';
import { UefiErrorCode } from './errors.js';
import { writeFileAtomically } from '../files/atomic-write.io.js';

export const RPI_EFI_FD_NAME = 'RPI_EFI.fd';
/** Largest file read whole as a firmware file (AAVMF VARS files are 64 MiB). */
export const MAX_FIRMWARE_FILE_SIZE = 128 * 1024 * 1024;

export interface FirmwareSource {
  readonly fd: Uint8Array;
  /** 'firmware' for a firmware file, 'card' for a card or card image. */
  readonly kind: 'firmware' | 'card';
  readonly path: string;
}

/** Reads the firmware from a firmware file, a card image or a card (read-only). */
export async function readFirmwareSource(file: string, options: { readonly signal?: AbortSignal } = {}): Promise<FirmwareSource> {
  // A regular file or a block device only, checked on the opened handle: a FIFO or /dev/zero is refused at once.
  const reader = await openByteReader(file, { what: 'firmware file, card image or card', ...options });
  try {
    let fat;
    try {
      fat = await readFatImage(reader);
    } catch (error) {
      if (!(error instanceof BootcardError) || !error.code.startsWith('FAT_')) throw error;
    }
    if (fat) {
      const entries = await fat.volume.list('');
      const entry = entries.find((e) => e.name.toUpperCase() === RPI_EFI_FD_NAME.toUpperCase() && !e.directory);
      if (!entry) {
        throw new BootcardError(UefiErrorCode.NV_REGION_NOT_FOUND, `${file} holds a FAT32 file system without ${RPI_EFI_FD_NAME} in its root: it is not a pftf UEFI card.`, { path: file });
      }
      // The size comes from the card's own directory entry: a hostile image may claim up to 4 GiB.
      if (entry.size > MAX_FIRMWARE_FILE_SIZE) {
        throw new BootcardError(UefiErrorCode.NV_REGION_NOT_FOUND, `${file}: its ${RPI_EFI_FD_NAME} is ${entry.size} bytes, far larger than a firmware file: it is not a pftf UEFI card.`, { path: file, size: entry.size });
      }
      return { fd: await fat.volume.readFile(entry.path), kind: 'card', path: file };
    }
    if (reader.size > MAX_FIRMWARE_FILE_SIZE) {
      throw new BootcardError(UefiErrorCode.NV_REGION_NOT_FOUND, `${file} is neither a card with a FAT32 boot partition nor a firmware file (${reader.size} bytes is too big for one).`, { path: file });
    }
    return { fd: await reader.read(0, reader.size), kind: 'firmware', path: file };
  } finally {
    await reader.close();
  }
}

/** Writes `bytes` to `file` through a temporary file in the same folder and a rename. */
export async function writeFirmwareFile(file: string, bytes: Uint8Array): Promise<void> {
  const target = path.resolve(file);
  const existing = await stat(target).catch(() => undefined);
  if (existing && !existing.isFile()) {
    throw new BootcardError(UefiErrorCode.BAD_VARIABLE, `${file} is not a regular file; bootcard only writes firmware files (to change a card, compose a new one with \`bootcard card uefi\`).`, { path: file });
  }
  await writeFileAtomically(target, bytes, { mode: existing ? existing.mode & 0o777 : 0o644 });
}
