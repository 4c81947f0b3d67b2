/**
 * The image to write, prepared once for all targets: its data extents, a
 * reader per target, and (with verify) the SHA-256 of every extent, computed
 * once here rather than once per card.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { deviceNumberOf } from '../drives/enumerate.io.js';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { assertSparseImage, zeroRangesOf } from '../image/sparse-image.js';
import { extentDigests, fileImageReader, sparseImageReader, type ImageReader } from './card-source.io.js';
import { rawImageRanges, type RangeExtent } from './layout.js';
import { isSparseSource, WriteErrorCode, type WriteRequest } from './types.js';

export interface PreparedImage {
  readonly size: number;
  readonly extents: readonly RangeExtent[];
  /** Regions that must read as zero after writing (a composed image's zero ranges; none for an image file). */
  readonly zeroExtents: readonly RangeExtent[];
  readonly sourcePath?: string;
  readonly sourceDeviceNumber?: string;
  /** A fresh reader per target (each has its own file handle). */
  openReader(): Promise<{ read: ImageReader; close(): Promise<void> }>;
  /** With verify: SHA-256 of all extents in offset order (what the result reports), and of each extent by offset. */
  readonly sha256?: string;
  readonly extentSha256?: ReadonlyMap<number, string>;
}

export async function prepareImage(request: WriteRequest, onBehalfOfUid: number | undefined): Promise<PreparedImage> {
  const image = request.image;
  if (isSparseSource(image)) {
    assertSparseImage(image);
    const extents = image.ranges.map((r) => ({ offset: r.offset, length: r.data.length }));
    const reader = sparseImageReader(image);
    const digests = request.verify ? await extentDigests(reader, extents) : undefined;
    return {
      size: image.size,
      extents,
      zeroExtents: zeroRangesOf(image),
      openReader: async () => ({ read: reader, close: async () => undefined }),
      ...(digests ? { sha256: digests.overall, extentSha256: digests.each } : {}),
    };
  }
  const sourcePath = path.resolve(image.path);
  let info;
  try {
    info = await stat(sourcePath);
  } catch (error) {
    throw toBootcardError(error, `Cannot read the image ${image.path}`);
  }
  if (!info.isFile()) throw new BootcardError(WriteErrorCode.BAD_REQUEST, `${image.path} is not an image file.`);
  const WORLD_READABLE = 0o004;
  if (onBehalfOfUid !== undefined && info.uid !== onBehalfOfUid && (info.mode & WORLD_READABLE) === 0) {
    throw new BootcardError(
      CommonErrorCode.PERMISSION_DENIED,
      `${image.path} is neither yours nor readable by everyone, so the privileged writer will not read it for you. Copy it somewhere of yours first.`,
      { path: image.path },
    );
  }
  if (info.size === 0 || info.size % 512 !== 0) {
    throw new BootcardError(WriteErrorCode.BAD_REQUEST, `${image.path} is ${info.size} bytes; a disk image is a non-empty whole number of 512-byte sectors.`);
  }
  const extents = rawImageRanges(info.size);
  let digests: { overall: string; each: Map<number, string> } | undefined;
  if (request.verify) {
    const reader = await fileImageReader(sourcePath);
    try {
      digests = await extentDigests(reader.read, extents);
    } finally {
      await reader.close();
    }
  }
  return {
    size: info.size,
    extents,
    zeroExtents: [],
    sourcePath,
    sourceDeviceNumber: deviceNumberOf(info.dev),
    openReader: () => fileImageReader(sourcePath),
    ...(digests ? { sha256: digests.overall, extentSha256: digests.each } : {}),
  };
}
