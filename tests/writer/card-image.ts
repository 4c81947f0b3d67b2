/** Test images: a real FAT32 card image (the card composer's) with random file data, and helpers to read loop backing files. */
import { randomBytes } from 'node:crypto';
import { openSync, readSync, closeSync, writeSync } from 'node:fs';
import { composeFat32Image } from '../../electron/core/fat32/compose.js';
import { readSparse, type SparseImage } from '../../electron/core/image/sparse-image.js';

export const MiB = 1024 * 1024;

/** A 44 MiB card: MBR + one 40 MiB FAT32 partition at 4 MiB holding `fileMiB` MiB of random files. */
export function testCardImage(fileMiB = 3): SparseImage {
  return composeFat32Image({
    files: [
      { path: 'start4.elf', data: randomBytes(fileMiB * MiB - 1000) },
      { path: 'config.txt', data: new TextEncoder().encode('arm_64bit=1\nenable_uart=1\n') },
      { path: 'overlays/README', data: randomBytes(1000) },
    ],
    partitionSize: 40 * MiB,
    partitionType: 0x0c,
    imageSize: 44 * MiB,
    label: 'BOOTCARD',
    timestamp: 1_700_000_000,
  });
}

export function readFileRange(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const out = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The bytes a freshly written card holds over the image's extent. */
export function rendered(image: SparseImage): Buffer {
  return Buffer.from(readSparse(image, 0, image.size));
}

/** Overwrites `length` bytes of `file` at `offset` with random bytes (an old card's leftovers). */
export function fillRandom(file: string, offset: number, length: number): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, randomBytes(length), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}
