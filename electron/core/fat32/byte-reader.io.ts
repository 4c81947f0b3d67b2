/** ByteReaders over an image file or a block device (read-only). */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { toBootcardError } from '../errors.js';
import type { ByteReader } from './reader.js';

export interface FileByteReader extends ByteReader {
  close(): Promise<void>;
}

export interface OpenByteReaderOptions {
  /**
   * Runs on the opened file's own stat before anything is read; throw to
   * refuse it. Checking the handle (not the path) means what was checked is
   * what gets read, even if the path is swapped in between.
   */
  readonly check?: (stat: Stats) => void | Promise<void>;
}

/**
 * Opens `path` read-only. For a block device the size comes from seeking to
 * its end (stat reports 0 for devices). O_NONBLOCK so that a FIFO at the path
 * cannot hang the open (it changes nothing for files and block devices).
 */
export async function openByteReader(path: string, options: OpenByteReaderOptions = {}): Promise<FileByteReader> {
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw toBootcardError(error, `Could not open ${path}`);
  }
  try {
    const stat = await handle.stat();
    await options.check?.(stat);
    let size = stat.size;
    if (stat.isBlockDevice()) size = await blockDeviceSize(handle);
    return {
      size,
      async read(offset: number, length: number) {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(out, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return out;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw toBootcardError(error, `Could not read ${path}`);
  }
}

/** Finds a block device's size by bisecting for the last readable byte (no ioctl in Node). */
async function blockDeviceSize(handle: FileHandle): Promise<number> {
  const probe = new Uint8Array(1);
  const readable = async (offset: number) => (await handle.read(probe, 0, 1, offset)).bytesRead === 1;
  if (!(await readable(0))) return 0;
  let low = 0;
  let high = 1;
  while (await readable(high * 512)) high *= 2;
  // The last readable sector is in [low, high).
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (await readable(mid * 512)) low = mid;
    else high = mid;
  }
  return (low + 1) * 512;
}
