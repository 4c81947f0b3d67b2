/**
 * A sparse disk image: the total size of a card image plus the byte ranges
 * that carry data. Everything outside the ranges reads as zeros. The card
 * composer produces one; the writer writes only its ranges (after clearing
 * stale signatures) and verifies them by reading back; `saveSparseImage`
 * writes it as a plain `.img` file with holes.
 *
 * Invariants (checked by `assertSparseImage`): ranges are sorted by offset,
 * do not overlap, are non-empty, lie inside `size`, and every offset and length
 * is a multiple of 512 (the sector size the writer's direct I/O needs).
 *
 * The range that starts at offset 0 holds the partition table. Writers write
 * it last so that an interrupted write never leaves a card that looks valid.
 */
import { BootcardError } from '../errors.js';

export const SECTOR_SIZE = 512;

export interface ImageRange {
  readonly offset: number;
  readonly data: Uint8Array;
}

export interface SparseImage {
  readonly size: number;
  readonly ranges: readonly ImageRange[];
}

export const SparseImageErrorCode = {
  INVALID: 'IMAGE_INVALID_SPARSE',
} as const;

export function dataBytes(image: SparseImage): number {
  return image.ranges.reduce((sum, r) => sum + r.data.length, 0);
}

export function assertSparseImage(image: SparseImage): void {
  const fail = (why: string) => {
    throw new BootcardError(SparseImageErrorCode.INVALID, `Internal image error: ${why}.`, { why });
  };
  if (!Number.isSafeInteger(image.size) || image.size <= 0 || image.size % SECTOR_SIZE !== 0) fail(`size ${image.size} is not a positive multiple of ${SECTOR_SIZE}`);
  let end = 0;
  for (const r of image.ranges) {
    if (r.data.length === 0) fail(`empty range at ${r.offset}`);
    if (r.offset % SECTOR_SIZE !== 0 || r.data.length % SECTOR_SIZE !== 0) fail(`range at ${r.offset} (+${r.data.length}) is not sector aligned`);
    if (r.offset < end) fail(`range at ${r.offset} overlaps or is out of order`);
    end = r.offset + r.data.length;
    if (end > image.size) fail(`range at ${r.offset} ends past the image size ${image.size}`);
  }
}

/** Reads `length` bytes at `offset` as the image would read on a card (zeros outside the ranges). */
export function readSparse(image: SparseImage, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const end = offset + length;
  for (const r of image.ranges) {
    const rEnd = r.offset + r.data.length;
    if (rEnd <= offset || r.offset >= end) continue;
    const from = Math.max(offset, r.offset);
    const to = Math.min(end, rEnd);
    out.set(r.data.subarray(from - r.offset, to - r.offset), from - offset);
  }
  return out;
}
