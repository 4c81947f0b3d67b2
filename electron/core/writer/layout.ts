/**
 * The order and extent of every write to one card (pure).
 *
 * Zero blocks are the regions that must read as zero afterwards: the first
 * 4 MiB (MBR, primary GPT header and table, old boot code, the start of the
 * old first partition), the last 1 MiB (where a GPT keeps its backup header
 * and table), and the image's own zero ranges (e.g. the unused parts of the
 * FATs), each minus what the image's data covers.
 *
 * 1. Write zeros over the partition table area (sectors 0-33: the MBR and a
 *    GPT's primary header and entry table) unconditionally, before anything
 *    else: from then on the card has no partition table (without a protective
 *    MBR in sector 0 no tool takes the backup GPT either), so an interrupted
 *    write leaves a card that plainly looks empty instead of one that looks
 *    valid.
 * 2. Clear the other zero blocks by read-compare-write: read them, and write
 *    zeros only over the ZERO_GRANULE-sized pieces that are not zero already
 *    (reads are cheap on SD cards; writes are slow and wear the flash).
 * 3. Write the image's data ranges, except the one at offset 0.
 * 4. Write the range at offset 0 (the partition table) last.
 *
 * Verification reads back every zero block (it must be zero) and every data
 * range (its SHA-256).
 */
import type { ImageRange } from '../image/sparse-image.js';

export const HEAD_WIPE_BYTES = 4 * 1024 * 1024;
export const TAIL_WIPE_BYTES = 1024 * 1024;
/** Sectors 0-33: the MBR plus a GPT's primary header (LBA 1) and 32 sectors of partition entries. */
export const TABLE_WIPE_BYTES = 34 * 512;
/** Zero blocks are read in chunks of this size ... */
export const ZERO_CHECK_CHUNK = 1024 * 1024;
/** ... and rewritten in pieces of this size (aligned on the card) where they are not zero. */
export const ZERO_GRANULE = 4096;

export interface PlannedBlock {
  readonly offset: number;
  readonly length: number;
  /** 'data' comes from the image; 'zero' must read as zero. */
  readonly kind: 'data' | 'zero';
}

export interface CardWritePlan {
  /** Step 1: written with zeros, unconditionally, first. */
  readonly tableWipe: PlannedBlock;
  /** Step 2: read, and zeroed where they are not zero (offset order; never overlaps the table wipe or data). */
  readonly zeroBlocks: readonly PlannedBlock[];
  /** Steps 3-4: the data ranges, the partition table last. */
  readonly dataBlocks: readonly PlannedBlock[];
  /** Read back when verifying: every zero block (the table wipe's included, minus data) and every data block. */
  readonly verifyBlocks: readonly PlannedBlock[];
  /** Bytes the write phase goes through: table wipe, zero blocks checked, data written (the progress bar's total). */
  readonly bytesToProcess: number;
  /** Bytes read back when verifying. */
  readonly bytesToVerify: number;
}

/** `ranges` as offsets and lengths only (the plan never needs the data). */
export type RangeExtent = Pick<ImageRange, 'offset'> & { readonly length: number };

/** Sorts and merges overlapping or touching extents. */
function union(extents: readonly RangeExtent[]): RangeExtent[] {
  const sorted = extents.filter((e) => e.length > 0).sort((a, b) => a.offset - b.offset);
  const out: { offset: number; length: number }[] = [];
  for (const e of sorted) {
    const last = out.at(-1);
    if (last && e.offset <= last.offset + last.length) last.length = Math.max(last.length, e.offset + e.length - last.offset);
    else out.push({ offset: e.offset, length: e.length });
  }
  return out;
}

/** `from` minus `remove` (both sorted and non-overlapping after union). */
function subtract(from: readonly RangeExtent[], remove: readonly RangeExtent[]): RangeExtent[] {
  const out: RangeExtent[] = [];
  const cut = union(remove);
  for (const f of union(from)) {
    let cursor = f.offset;
    const end = f.offset + f.length;
    for (const r of cut) {
      const rEnd = r.offset + r.length;
      if (rEnd <= cursor || r.offset >= end) continue;
      if (r.offset > cursor) out.push({ offset: cursor, length: r.offset - cursor });
      cursor = Math.max(cursor, rEnd);
    }
    if (cursor < end) out.push({ offset: cursor, length: end - cursor });
  }
  return out;
}

const asBlocks = (extents: readonly RangeExtent[], kind: 'data' | 'zero'): PlannedBlock[] => extents.map((e) => ({ offset: e.offset, length: e.length, kind }));

/**
 * `ranges` are the image's data extents, `zeroRanges` its must-be-zero extents
 * (both sorted, not overlapping each other), `cardSize` the target's size.
 */
export function planCardWrite(ranges: readonly RangeExtent[], cardSize: number, zeroRanges: readonly RangeExtent[] = []): CardWritePlan {
  const tableWipe: PlannedBlock = { offset: 0, length: Math.min(TABLE_WIPE_BYTES, cardSize), kind: 'zero' };
  const mustBeZero = subtract(
    [{ offset: 0, length: Math.min(HEAD_WIPE_BYTES, cardSize) }, { offset: Math.max(0, cardSize - TAIL_WIPE_BYTES), length: Math.min(TAIL_WIPE_BYTES, cardSize) }, ...zeroRanges],
    ranges,
  );
  const zeroBlocks = asBlocks(subtract(mustBeZero, [tableWipe]), 'zero');
  const partitionTable = ranges.filter((r) => r.offset === 0);
  const rest = ranges.filter((r) => r.offset !== 0);
  const dataBlocks = [...asBlocks(rest, 'data'), ...asBlocks(partitionTable, 'data')];
  const verifyBlocks = [...asBlocks(mustBeZero, 'zero'), ...dataBlocks];
  const sum = (blocks: readonly PlannedBlock[]) => blocks.reduce((s, b) => s + b.length, 0);
  return {
    tableWipe,
    zeroBlocks,
    dataBlocks,
    verifyBlocks,
    bytesToProcess: tableWipe.length + sum(zeroBlocks) + sum(dataBlocks),
    bytesToVerify: sum(verifyBlocks),
  };
}

/**
 * The pieces of `chunk` (read from the card at `offset`) that are not all
 * zero, as card extents on a `granule` grid (aligned to the card, clipped to
 * the chunk), adjacent pieces merged: what step 2 rewrites with zeros.
 */
export function nonZeroPieces(chunk: Uint8Array, offset: number, granule: number = ZERO_GRANULE): RangeExtent[] {
  const out: { offset: number; length: number }[] = [];
  const isZero = zeroTest(chunk);
  const end = offset + chunk.length;
  for (let start = offset; start < end; ) {
    const stop = Math.min(end, (Math.floor(start / granule) + 1) * granule);
    if (!isZero(start - offset, stop - offset)) {
      const last = out.at(-1);
      if (last && last.offset + last.length === start) last.length += stop - start;
      else out.push({ offset: start, length: stop - start });
    }
    start = stop;
  }
  return out;
}

/** Whether chunk[from, to) is all zero; 32 bits at a time where the buffer allows (the writer's aligned buffers and sector offsets do). */
function zeroTest(chunk: Uint8Array): (from: number, to: number) => boolean {
  if (chunk.byteOffset % 4 === 0 && chunk.length % 4 === 0) {
    const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length / 4);
    return (from, to) => {
      if (from % 4 !== 0 || to % 4 !== 0) return bytesZero(chunk, from, to);
      for (let i = from / 4, j = to / 4; i < j; i++) if (words[i] !== 0) return false;
      return true;
    };
  }
  return (from, to) => bytesZero(chunk, from, to);
}

function bytesZero(chunk: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (chunk[i] !== 0) return false;
  return true;
}

/** A full raw image is one range covering it all (split so the first 4 MiB still go last). */
export function rawImageRanges(size: number): RangeExtent[] {
  if (size <= HEAD_WIPE_BYTES) return [{ offset: 0, length: size }];
  return [
    { offset: 0, length: HEAD_WIPE_BYTES },
    { offset: HEAD_WIPE_BYTES, length: size - HEAD_WIPE_BYTES },
  ];
}

/**
 * A raw image's used extents (image/used-extents.ts) with any extent that
 * crosses HEAD_WIPE_BYTES split there, so the one at offset 0 (the partition
 * table and what follows it up to 4 MiB) still goes last, as for a whole image.
 */
export function splitAtHead(extents: readonly RangeExtent[]): RangeExtent[] {
  return extents.flatMap((e) =>
    e.offset < HEAD_WIPE_BYTES && e.offset + e.length > HEAD_WIPE_BYTES
      ? [
          { offset: e.offset, length: HEAD_WIPE_BYTES - e.offset },
          { offset: HEAD_WIPE_BYTES, length: e.offset + e.length - HEAD_WIPE_BYTES },
        ]
      : [e],
  );
}
