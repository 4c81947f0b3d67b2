/**
 * The image `bootcard flash` writes: the file itself when it is a raw image,
 * or, when its first bytes say it is compressed (.xz, .gz, .bz2, .zst, a .zip
 * holding one image), that image decompressed once, for every card, into a
 * sparse file in a private temporary folder (mode 0700; zero blocks stay
 * holes, so it costs what the image holds). The writer then reads that file
 * like any raw image: each card is verified against the SHA-256 of the
 * decompressed bytes, never the compressed file's.
 *
 * Decompressing happens with the rights of whoever runs bootcard; the
 * privileged writer only ever sees the bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BootcardError } from '../errors.js';
import { decompressToSparseFile, detectCompression } from './compressed-image.io.js';
import type { Compression } from './compression.js';
import { ImageErrorCode } from './errors.js';

export interface FlashImage {
  /** The raw image to write: the given file, or the decompressed copy. */
  readonly path: string;
  /** The file the user named. */
  readonly givenPath: string;
  readonly compression: Compression;
  /** The raw image's size (what lands on each card). */
  readonly size: number;
  /** The given file's size. */
  readonly compressedSize: number;
  /** Removes the decompressed copy (nothing for a raw image). */
  dispose(): Promise<void>;
}

export interface DecompressProgress {
  readonly compression: Compression;
  /** Compressed bytes read so far, of `total`. */
  readonly read: number;
  readonly total: number;
}

export interface FlashImageOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DecompressProgress) => void;
  /** Where the decompressed copy goes (default: the system's temporary folder). */
  readonly tmpdir?: string;
}

export async function prepareFlashImage(file: string, sizeOfRaw: number, options: FlashImageOptions = {}): Promise<FlashImage> {
  const compression = await detectCompression(file);
  if (compression === 'none') {
    return { path: file, givenPath: file, compression, size: sizeOfRaw, compressedSize: sizeOfRaw, dispose: async () => undefined };
  }
  const folder = await mkdtemp(path.join(options.tmpdir ?? os.tmpdir(), 'bootcard-flash-'));
  const dispose = () => rm(folder, { recursive: true, force: true });
  try {
    const raw = path.join(folder, 'image.img');
    const unpacked = await decompressToSparseFile(file, raw, options.signal, (read, total) => options.onProgress?.({ compression, read, total }));
    if (unpacked.size === 0 || unpacked.size % 512 !== 0) {
      throw new BootcardError(
        ImageErrorCode.NOT_WHOLE_SECTORS,
        `${file} is ${compression}-compressed and decompresses to ${unpacked.size} bytes, which is not a disk image (a non-empty whole number of 512-byte sectors). Nothing was written. Check that it is the OS image itself and download it again.`,
        { path: file, compression, size: unpacked.size },
      );
    }
    return { path: raw, givenPath: file, compression, size: unpacked.size, compressedSize: unpacked.compressedSize, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}
