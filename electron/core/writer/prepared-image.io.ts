/**
 * The image to write, prepared once for all targets: its data extents, a
 * reader per target, and (with verify) the SHA-256 of every extent, computed
 * once here rather than once per card.
 *
 * A raw image (a file, or bytes streamed from the parent) is written only
 * where it matters: its used extents (image/used-extents.ts: everything but
 * the blocks its ext2/3/4 and FAT32 file systems mark free, which no file
 * system reads as data; the rule is in that module). Its reported SHA-256 is
 * still that of the whole image, as `sha256sum` prints it; each card is
 * verified extent by extent against the same pass's checksums.
 */
import path from 'node:path';
import { deviceNumberOf } from '../drives/enumerate.io.js';
import { BootcardError, CommonErrorCode } from '../errors.js';
import { assertImageNotTruncated } from '../fat32/reader.js';
import { assertSparseImage, zeroRangesOf } from '../image/sparse-image.js';
import { usedImageExtents, type UsedImage } from '../image/used-extents.js';
import { openInputFile } from '../files/input-file.io.js';
import { boundedImageReader, extentDigests, handleImageReader, sparseImageReader, wholeImageDigests, type ImageReader } from './card-source.io.js';
import { splitAtHead, type RangeExtent } from './layout.js';
import { isSparseSource, isStreamSource, WriteErrorCode, type StreamSource, type WriteRequest } from './types.js';

export interface PreparedImage {
  readonly size: number;
  readonly extents: readonly RangeExtent[];
  /** Regions that must read as zero after writing (a composed image's zero ranges; none for an image file). */
  readonly zeroExtents: readonly RangeExtent[];
  readonly sourcePath?: string;
  readonly sourceDeviceNumber?: string;
  /** The bytes arrive through a reader (the privileged child): there is no file here to copy, so no file target. */
  readonly streamed?: boolean;
  /** A reader per target (positional reads: an image file's one handle is shared; closing the reader leaves it open, `release` closes it). */
  openReader(): Promise<{ read: ImageReader; close(): Promise<void> }>;
  /** With verify: SHA-256 of all extents in offset order (what the result reports), and of each extent by offset. */
  readonly sha256?: string;
  readonly extentSha256?: ReadonlyMap<number, string>;
  /** A raw image's file systems and what of them is written (absent for a composed image). */
  readonly used?: UsedImage;
  /** Closes what the image holds open (an image file's one handle); runWrite calls it when every target is done. */
  readonly release?: () => Promise<void>;
}

/** A raw image's used extents, read through `read`. */
async function rawImageExtents(read: ImageReader, size: number): Promise<{ extents: RangeExtent[]; used: UsedImage }> {
  const used = await usedImageExtents(async (offset, length) => {
    const bytes = Buffer.alloc(length);
    await read(bytes, 0, length, offset);
    return bytes;
  }, size);
  return { extents: splitAtHead(used.extents), used };
}

export async function prepareImage(request: WriteRequest, onBehalfOfUid: number | undefined): Promise<PreparedImage> {
  const image = request.image;
  if (isSparseSource(image)) {
    assertSparseImage(image);
    const extents = image.ranges.map((r) => ({ offset: r.offset, length: r.data.length }));
    const reader = sparseImageReader(image);
    const digests = request.verify ? await extentDigests(reader, extents, request.signal) : undefined;
    return {
      size: image.size,
      extents,
      zeroExtents: zeroRangesOf(image),
      openReader: async () => ({ read: reader, close: async () => undefined }),
      ...(digests ? { sha256: digests.overall, extentSha256: digests.each } : {}),
    };
  }
  if (isStreamSource(image)) return prepareStream(image, request);
  if (onBehalfOfUid !== undefined) {
    // Root opening a path a user named would read what that user cannot (another user's 0700 folder, a symlink swapped after a check).
    throw new BootcardError(
      CommonErrorCode.PERMISSION_DENIED,
      `The privileged writer does not open image files for a user (${image.path}); bootcard opens the image with your own rights and hands the writer its bytes.`,
      { path: image.path },
    );
  }
  const sourcePath = path.resolve(image.path);
  // One handle for everything (checks, checksums, every reader, the copy to an image file): the name is
  // followed once, and a link swapped afterwards (or a FIFO put in its place) changes nothing.
  const input = await openInputFile(sourcePath, { what: 'image', maxBytes: MAX_IMAGE_FILE_BYTES, ...(request.signal ? { signal: request.signal } : {}) });
  try {
    const info = input.stat;
    assertDiskImageSize(image.path, info.size);
    const read = handleImageReader(input.handle, info.size);
    await assertWholeImage({ read, close: async () => undefined }, info.size);
    const { extents, used } = await rawImageExtents(read, info.size);
    const digests = request.verify ? await wholeImageDigests(read, info.size, extents, request.signal) : undefined;
    return {
      size: info.size,
      extents,
      zeroExtents: [],
      sourcePath,
      sourceDeviceNumber: deviceNumberOf(info.dev),
      openReader: async () => ({ read, close: async () => undefined }),
      release: () => input.close(),
      used,
      ...(digests ? { sha256: digests.overall, extentSha256: digests.each } : {}),
    };
  } catch (error) {
    await input.close().catch(() => undefined);
    throw error;
  }
}

/** The largest image file bootcard writes: 2 TiB, as the writer's protocol. */
const MAX_IMAGE_FILE_BYTES = 2 ** 41;

export function assertDiskImageSize(name: string, size: number): void {
  if (size === 0 || size % 512 !== 0) {
    throw new BootcardError(WriteErrorCode.BAD_REQUEST, `${name} is ${size} bytes; a disk image is a non-empty whole number of 512-byte sectors.`);
  }
}

/** A partition table in sector 0 that runs past the end of the file: a cut-short download, refused before any card is touched. */
async function assertWholeImage(reader: { read: ImageReader; close(): Promise<void> }, size: number): Promise<void> {
  try {
    const sector0 = Buffer.alloc(512);
    await reader.read(sector0, 0, 512, 0);
    assertImageNotTruncated(sector0, size);
  } finally {
    await reader.close();
  }
}

/** An image whose bytes arrive through `read` (the child's pull from its parent): checksums come from what arrived. */
async function prepareStream(image: StreamSource, request: WriteRequest): Promise<PreparedImage> {
  assertDiskImageSize(image.sourcePath ?? 'The image', image.size);
  const read = boundedImageReader(image.size, image.read);
  await assertWholeImage({ read, close: async () => undefined }, image.size);
  const { extents, used } = await rawImageExtents(read, image.size);
  const digests = request.verify ? await wholeImageDigests(read, image.size, extents, request.signal) : undefined;
  return {
    size: image.size,
    extents,
    zeroExtents: [],
    // Only compared with each target (a card must not hold its own image); the writer never opens it.
    ...(image.sourcePath ? { sourcePath: image.sourcePath } : {}),
    ...(image.sourceDeviceNumber ? { sourceDeviceNumber: image.sourceDeviceNumber } : {}),
    streamed: true,
    used,
    openReader: async () => ({ read, close: async () => undefined }),
    ...(digests ? { sha256: digests.overall, extentSha256: digests.each } : {}),
  };
}
