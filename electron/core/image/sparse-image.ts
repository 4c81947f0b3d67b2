/**
 * A sparse disk image: the total size of a card image plus the byte ranges
 * that carry data. Everything outside the ranges reads as zeros. The card
 * composer produces one; the writer writes only its ranges (after clearing
 * stale signatures) and verifies them by reading back; `saveSparseImage`
 * writes it as a plain `.img` file with holes.
 *
 * `zeroRanges` (optional) are regions that MUST read as zero on the card after
 * writing, e.g. the unused parts of the FATs, where a reused card would
 * otherwise keep old cluster chains. They carry no bytes: a writer makes them
 * zero however is cheapest (bootcard's device writer reads them and writes
 * zeros only where the card is not zero already; a new image file is all holes
 * anyway) and verifies that they read as zero. Outside both kinds of range the
 * card's old contents may stay. `readSparse` returns zeros for them like for
 * any hole, and `dataBytes` counts data ranges only.
 *
 * Invariants (checked by `assertSparseImage`): ranges are sorted by offset,
 * do not overlap, are non-empty, lie inside `size`, and every offset and length
 * is a multiple of 512 (the sector size the writer's direct I/O needs). The
 * same holds for zero ranges, which also never overlap a data range.
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

/** A region that must read as zero after writing (no bytes carried). */
export interface ZeroRange {
  readonly offset: number;
  readonly length: number;
}

export interface SparseImage {
  readonly size: number;
  readonly ranges: readonly ImageRange[];
  /** Regions that must read as zero on the card after writing; see the header. */
  readonly zeroRanges?: readonly ZeroRange[];
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
  end = 0;
  let next = 0;
  for (const z of image.zeroRanges ?? []) {
    if (!Number.isSafeInteger(z.offset) || !Number.isSafeInteger(z.length) || z.offset < 0 || z.length <= 0) fail(`zero range at ${z.offset} (+${z.length}) is empty or invalid`);
    if (z.offset % SECTOR_SIZE !== 0 || z.length % SECTOR_SIZE !== 0) fail(`zero range at ${z.offset} (+${z.length}) is not sector aligned`);
    if (z.offset < end) fail(`zero range at ${z.offset} overlaps or is out of order`);
    end = z.offset + z.length;
    if (end > image.size) fail(`zero range at ${z.offset} ends past the image size ${image.size}`);
    // Both lists are sorted: skip data ranges that end before this zero range, then check the next one.
    while (next < image.ranges.length && image.ranges[next]!.offset + image.ranges[next]!.data.length <= z.offset) next++;
    const r = image.ranges[next];
    if (r && r.offset < end) fail(`zero range at ${z.offset} overlaps the data range at ${r.offset}`);
  }
}

/** The image's zero ranges (none for an image without them). */
export function zeroRangesOf(image: SparseImage): readonly ZeroRange[] {
  return image.zeroRanges ?? [];
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
