/** A regular file as a target: bootcard writes the image as a `.img` file and reads it back. */
import { randomBytes } from 'node:crypto';
import { copyFile, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import type { SparseImage } from '../image/sparse-image.js';
import { saveSparseImage } from '../image/sparse-image.io.js';
import { digestOf, fileImageReader } from './card-source.io.js';
import type { PreparedImage } from './prepared-image.io.js';
import { ProgressMeter } from './progress.js';
import { isSparseSource, WriteErrorCode, type WriteRequest, type WriteResult } from './types.js';

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
      await copyFile(image.sourcePath!, temp);
      const handle = await open(temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
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
