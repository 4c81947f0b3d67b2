/**
 * The order and extent of every write to one card (pure).
 *
 * 1. Clear the first 4 MiB (MBR, primary GPT header and table, old boot code,
 *    the start of the old first partition) before anything else: from then on
 *    the card has no partition table (without a protective MBR in sector 0 no
 *    tool takes the backup GPT either), so an interrupted write leaves a card
 *    that plainly looks empty instead of one that looks valid.
 * 2. Zero the last 1 MiB of the card (where a GPT keeps its backup header and
 *    table) wherever the image has no data.
 * 3. Write the image's data ranges, except the one at offset 0.
 * 4. Write the range at offset 0 (the partition table) last.
 *
 * Verification reads back steps 2-4 (step 1 is overwritten by the image or was
 * zero anyway).
 */
import type { ImageRange } from '../image/sparse-image.js';

export const HEAD_WIPE_BYTES = 4 * 1024 * 1024;
export const TAIL_WIPE_BYTES = 1024 * 1024;

export interface PlannedBlock {
  readonly offset: number;
  readonly length: number;
  /** 'data' comes from the image; 'zero' clears stale metadata. */
  readonly kind: 'data' | 'zero';
}

export interface CardWritePlan {
  /** Written with zeros first, never verified. */
  readonly headWipe: PlannedBlock;
  /** Written in this order and verified: tail zeros, data ranges, then the partition table. */
  readonly blocks: readonly PlannedBlock[];
  /** Bytes written in all: head wipe plus blocks. */
  readonly bytesToWrite: number;
  /** Bytes read back when verifying. */
  readonly bytesToVerify: number;
}

/** `ranges` as offsets and lengths only (the plan never needs the data). */
export type RangeExtent = Pick<ImageRange, 'offset'> & { readonly length: number };

/** Parts of [start, end) not covered by the sorted, non-overlapping `ranges`. */
function gaps(start: number, end: number, ranges: readonly RangeExtent[]): PlannedBlock[] {
  const out: PlannedBlock[] = [];
  let cursor = start;
  for (const r of ranges) {
    const rEnd = r.offset + r.length;
    if (rEnd <= cursor || r.offset >= end) continue;
    if (r.offset > cursor) out.push({ offset: cursor, length: r.offset - cursor, kind: 'zero' });
    cursor = Math.max(cursor, rEnd);
  }
  if (cursor < end) out.push({ offset: cursor, length: end - cursor, kind: 'zero' });
  return out;
}

export function planCardWrite(ranges: readonly RangeExtent[], cardSize: number): CardWritePlan {
  const headWipe: PlannedBlock = { offset: 0, length: Math.min(HEAD_WIPE_BYTES, cardSize), kind: 'zero' };
  const tailStart = Math.max(0, cardSize - TAIL_WIPE_BYTES);
  const partitionTable = ranges.filter((r) => r.offset === 0);
  const rest = ranges.filter((r) => r.offset !== 0);
  const blocks: PlannedBlock[] = [
    ...gaps(tailStart, cardSize, ranges),
    ...rest.map((r) => ({ offset: r.offset, length: r.length, kind: 'data' as const })),
    ...partitionTable.map((r) => ({ offset: r.offset, length: r.length, kind: 'data' as const })),
  ];
  const bytesToVerify = blocks.reduce((sum, b) => sum + b.length, 0);
  return { headWipe, blocks, bytesToWrite: headWipe.length + bytesToVerify, bytesToVerify };
}

/** A full raw image is one range covering it all (split so the first 4 MiB still go last). */
export function rawImageRanges(size: number): RangeExtent[] {
  if (size <= HEAD_WIPE_BYTES) return [{ offset: 0, length: size }];
  return [
    { offset: 0, length: HEAD_WIPE_BYTES },
    { offset: HEAD_WIPE_BYTES, length: size - HEAD_WIPE_BYTES },
  ];
}
