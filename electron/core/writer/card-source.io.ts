/**
 * etcher-sdk sources for bootcard's images. etcher-sdk streams "blocks" (byte
 * ranges) from a source to a block device and verifies them by reading back
 * with checksums; bootcard hands it the ranges of its write plan, so only those
 * ranges are written, in the plan's order (partition table last).
 */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { sourceDestination, sparseStream, constants as etcherConstants } from 'etcher-sdk';
import { readSparse, type SparseImage } from '../image/sparse-image.js';
import { BootcardError } from '../errors.js';
import type { PlannedBlock } from './layout.js';
import { WriteErrorCode } from './types.js';

/** Reads `length` image bytes at `position` into `buffer` at `bufferOffset`, zeros past the image's end. */
export type ImageReader = (buffer: Buffer, bufferOffset: number, length: number, position: number) => Promise<void>;

/** A reader over an image of `size` bytes read through `read` (which only ever sees ranges inside the image): zeros past its end. */
export function boundedImageReader(size: number, read: ImageReader): ImageReader {
  return async (buffer, bufferOffset, length, position) => {
    const inside = Math.max(0, Math.min(length, size - position));
    if (inside > 0) await read(buffer, bufferOffset, inside, position);
    buffer.fill(0, bufferOffset + inside, bufferOffset + length);
  };
}

/** What a card should hold: the image, then zeros up to the card's size. */
export class CardContentSource extends sourceDestination.SourceDestination {
  constructor(
    private readonly readImage: ImageReader,
    private readonly cardSize: number,
  ) {
    super();
  }

  override async canRead(): Promise<boolean> {
    return true;
  }

  override async canCreateSparseReadStream(): Promise<boolean> {
    return true;
  }

  protected override async _getMetadata() {
    return { size: this.cardSize };
  }

  override async read(buffer: Buffer, bufferOffset: number, length: number, sourceOffset: number) {
    await this.readImage(buffer, bufferOffset, length, sourceOffset);
    return { buffer, bytesRead: length };
  }
}

export function sparseImageReader(image: SparseImage): ImageReader {
  return async (buffer, bufferOffset, length, position) => {
    const bytes = readSparse(image, position, Math.max(0, Math.min(length, image.size - position)));
    buffer.set(bytes, bufferOffset);
    buffer.fill(0, bufferOffset + bytes.length, bufferOffset + length);
  };
}

/** An image file read whole; the handle stays open until `close()`. */
export async function fileImageReader(path: string): Promise<{ read: ImageReader; size: number; close(): Promise<void> }> {
  const handle: FileHandle = await open(path, 'r');
  const size = (await handle.stat()).size;
  return { size, close: () => handle.close(), read: handleImageReader(handle, size) };
}

/** Positional reads of an open image file of `size` bytes, zeros past its end; readers may share the handle (positional reads do not interfere). */
export function handleImageReader(handle: FileHandle, size: number): ImageReader {
  return async (buffer, bufferOffset, length, position) => {
    let done = 0;
    while (done < length && position + done < size) {
      const { bytesRead } = await handle.read(buffer, bufferOffset + done, Math.min(length - done, size - position - done), position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    buffer.fill(0, bufferOffset + done, bufferOffset + length);
  };
}

/** Bytes per read and write: 4 MiB, like `dd bs=4M` (etcher-sdk's default is 1 MiB). */
export const PLAN_CHUNK_SIZE = 4 * 1024 * 1024;
/** Aligned buffers per card: one being written, one being read, one spare (16 MiB of memory per card at 4 MiB chunks). */
export const PLAN_BUFFERS = 4;

/** The blocks to stream, without checksums (the checksums are computed once per image, not once per card). */
export function writeBlocks(blocks: readonly PlannedBlock[]): sparseStream.BlocksWithChecksum[] {
  return blocks.map((b) => ({ blocks: [{ offset: b.offset, length: b.length }] }));
}

/** One SHA-256 group per planned block, so a verify failure says where. */
export function verifyBlocks(blocks: readonly PlannedBlock[], checksumOf: (block: PlannedBlock) => string): sparseStream.BlocksWithChecksum[] {
  return blocks.map((b) => ({ blocks: [{ offset: b.offset, length: b.length }], checksumType: 'sha256' as const, checksum: checksumOf(b) }));
}

export function createPlanReadStream(source: CardContentSource, blocks: sparseStream.BlocksWithChecksum[], alignment: number | undefined): sparseStream.SparseReadStream {
  return new sparseStream.SparseReadStream({
    source,
    blocks,
    chunkSize: PLAN_CHUNK_SIZE,
    verify: false,
    generateChecksums: false,
    alignment,
    numBuffers: PLAN_BUFFERS,
  });
}

/**
 * One pass over the image's extents (in offset order): the SHA-256 of each
 * extent and of all of them together.
 */
export async function extentDigests(
  reader: ImageReader,
  extents: readonly { offset: number; length: number }[],
  signal?: AbortSignal,
): Promise<{ overall: string; each: Map<number, string> }> {
  const overall = createHash('sha256');
  const each = new Map<number, string>();
  const chunk = Buffer.alloc(PLAN_CHUNK_SIZE);
  for (const e of extents) {
    const hash = createHash('sha256');
    for (let done = 0; done < e.length; ) {
      // A multi-gigabyte image takes minutes to hash: a cancel must not wait for it.
      if (signal?.aborted) throw new BootcardError(WriteErrorCode.CANCELLED, 'Cancelled before any card was written; nothing was written.');
      const n = Math.min(chunk.length, e.length - done);
      await reader(chunk, 0, n, e.offset + done);
      hash.update(chunk.subarray(0, n));
      overall.update(chunk.subarray(0, n));
      done += n;
    }
    each.set(e.offset, hash.digest('hex'));
  }
  return { overall: overall.digest('hex'), each };
}

/** SHA-256 over `blocks` of the image (in the given order), read through `reader`. */
export async function digestOf(reader: ImageReader, blocks: readonly { offset: number; length: number }[]): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.alloc(etcherConstants.CHUNK_SIZE * 4);
  for (const b of blocks) {
    for (let done = 0; done < b.length; ) {
      const n = Math.min(chunk.length, b.length - done);
      await reader(chunk, 0, n, b.offset + done);
      hash.update(chunk.subarray(0, n));
      done += n;
    }
  }
  return hash.digest('hex');
}

/**
 * One pass over a whole raw image: the SHA-256 of all of it (what `sha256sum`
 * prints for the image file, which the result reports) and of each extent
 * that is written (what each card is verified against).
 */
export async function wholeImageDigests(
  reader: ImageReader,
  size: number,
  extents: readonly { offset: number; length: number }[],
  signal?: AbortSignal,
): Promise<{ overall: string; each: Map<number, string> }> {
  const overall = createHash('sha256');
  const each = new Map<number, string>();
  const chunk = Buffer.alloc(PLAN_CHUNK_SIZE);
  let next = 0;
  let current: { offset: number; length: number; hash: ReturnType<typeof createHash> } | undefined;
  for (let position = 0; position < size; ) {
    if (signal?.aborted) throw new BootcardError(WriteErrorCode.CANCELLED, 'Cancelled before any card was written; nothing was written.');
    // Chunks end where extents start or end, so each extent's hash takes exactly its bytes.
    let end = Math.min(size, position + chunk.length);
    const e = current ?? extents[next];
    if (e) {
      const boundary = position < e.offset ? e.offset : e.offset + e.length;
      if (boundary > position) end = Math.min(end, boundary);
    }
    const n = end - position;
    await reader(chunk, 0, n, position);
    const bytes = chunk.subarray(0, n);
    overall.update(bytes);
    if (!current && e && position === e.offset) {
      current = { ...e, hash: createHash('sha256') };
      next++;
    }
    if (current) {
      current.hash.update(bytes);
      if (end === current.offset + current.length) {
        each.set(current.offset, current.hash.digest('hex'));
        current = undefined;
      }
    }
    position = end;
  }
  return { overall: overall.digest('hex'), each };
}
