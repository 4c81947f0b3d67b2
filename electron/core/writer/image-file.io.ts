/** A regular file as a target: bootcard writes the image as a `.img` file and reads it back. */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import type { SparseImage } from '../image/sparse-image.js';
import { saveSparseImage } from '../image/sparse-image.io.js';
import { digestOf, fileImageReader, type ImageReader } from './card-source.io.js';
import type { PreparedImage } from './prepared-image.io.js';
import { ProgressMeter } from './progress.js';
import { isSparseSource, WriteErrorCode, type WriteRequest, type WriteResult } from './types.js';

const COPY_CHUNK = 1024 * 1024;
const HOLE_GRAIN = 64 * 1024;
/** Compared against, never written. */
const ZERO_CHUNK = Buffer.alloc(HOLE_GRAIN);

/**
 * Copies `size` bytes of an image file, leaving a hole for every all-zero chunk (as
 * `cp --sparse=always` does, and as `card --out` saves a composed image): a 260 MiB card
 * image with 3 MiB of data takes 3 MiB of disk. The file is new, so its holes read as zeros.
 */
async function copyWithHoles(read: ImageReader, target: string, size: number, replaces: string): Promise<void> {
  const before = await stat(replaces).then((st) => (st.isFile() ? st : null), () => null);
  // A replaced image keeps its permission bits (and owner, as root), as every bootcard output does.
  const output = await open(target, 'wx', before ? 0o600 : 0o644);
  try {
    if (before) {
      if (process.getuid?.() === 0) await output.chown(before.uid, before.gid);
      await output.chmod(before.mode & 0o777);
    }
    await output.truncate(size);
    const chunk = Buffer.alloc(COPY_CHUNK);
    for (let at = 0; at < size; at += COPY_CHUNK) {
      const length = Math.min(COPY_CHUNK, size - at);
      await read(chunk, 0, length, at);
      // Holes at HOLE_GRAIN: finer than the read, so data scattered in a composed card's FAT leaves the zeros between it unwritten.
      for (let from = 0; from < length; from += HOLE_GRAIN) {
        const piece = chunk.subarray(from, Math.min(length, from + HOLE_GRAIN));
        if (piece.equals(ZERO_CHUNK.subarray(0, piece.length))) continue;
        for (let written = 0; written < piece.length; ) written += (await output.write(piece, written, piece.length - written, at + from + written)).bytesWritten;
      }
    }
    await output.sync();
  } finally {
    await output.close();
  }
}

/** A regular file as the target: the image is saved as a .img file (temp file + rename), then read back. */
export async function writeImageFile(
  file: string,
  image: PreparedImage,
  request: WriteRequest,
  now: () => number,
  started: number,
  progress: { bytesWritten: number },
): Promise<WriteResult> {
  if (image.streamed || !image.sourcePath && !isSparseSource(request.image)) {
    // The privileged child has no image file of its own to copy, and writes no files at all.
    throw new BootcardError(WriteErrorCode.REFUSED, `${file} is a file; the privileged writer writes only to cards. Nothing was written.`, { target: file });
  }
  const meter = new ProgressMeter(file, 'write', image.size);
  request.onProgress?.(meter.sample(0, now()));
  if (isSparseSource(request.image)) {
    await saveSparseImage(request.image as SparseImage, file);
  } else {
    const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.partial`);
    try {
      // Streamed (images can be gigabytes), so not through the in-memory atomic writer; same temp + fsync + rename.
      const reader = await image.openReader();
      try {
        await copyWithHoles(reader.read, temp, image.size, file);
      } finally {
        await reader.close();
      }
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw toBootcardError(error, `Could not write ${file}`);
    }
  }
  progress.bytesWritten = image.extents.reduce((s, e) => s + e.length, 0);
  request.onProgress?.(meter.sample(image.size, now()));
  let sha256: string | undefined;
  if (request.verify) {
    const reader = await fileImageReader(file);
    try {
      sha256 = await digestOf(reader.read, isSparseSource(request.image) ? image.extents : [{ offset: 0, length: reader.size }]);
    } finally {
      await reader.close();
    }
    if (sha256 !== image.sha256) {
      throw new BootcardError(WriteErrorCode.VERIFY_FAILED, `${file} reads back different data than was written; check the disk it is on.`, { target: file });
    }
  }
  return {
    target: file,
    ok: true,
    kind: 'file',
    bytesWritten: progress.bytesWritten,
    durationMs: now() - started,
    verified: request.verify,
    ...(sha256 ? { sha256 } : {}),
  };
}
