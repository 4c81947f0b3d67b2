/**
 * Saves a sparse image as a plain `.img` file whose unwritten ranges are holes.
 * The file is always new (a temporary file, renamed), so its holes, and with
 * them the image's zero ranges, read as zeros without writing them.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { toBootcardError } from '../errors.js';
import { assertSparseImage, type SparseImage } from './sparse-image.js';

/** Written to a temporary file beside `file` and renamed into place, so a failure leaves nothing behind. */
export async function saveSparseImage(image: SparseImage, file: string): Promise<void> {
  assertSparseImage(image);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.partial`);
  try {
    const before = await stat(file).then((st) => (st.isFile() ? st : null), () => null);
    // A replaced image keeps its permission bits (and owner, as root), as atomic-write.io.ts does for every output.
    const handle = await open(temp, 'w', before ? 0o600 : 0o644);
    try {
      if (before) {
        if (process.getuid?.() === 0) await handle.chown(before.uid, before.gid);
        await handle.chmod(before.mode & 0o777);
      }
      await handle.truncate(image.size);
      for (const r of image.ranges) {
        let written = 0;
        while (written < r.data.length) {
          const { bytesWritten } = await handle.write(r.data, written, r.data.length - written, r.offset + written);
          written += bytesWritten;
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw toBootcardError(error, `Could not save the image to ${file}`);
  }
}
