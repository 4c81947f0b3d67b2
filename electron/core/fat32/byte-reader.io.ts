/** ByteReaders over an image file or a block device (read-only). */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { toBootcardError } from '../errors.js';
import { openInputFile } from '../files/input-file.io.js';
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
  /** Names the input in messages (default "card or card image"). */
  readonly what?: string;
  readonly signal?: AbortSignal;
}

/**
 * Opens `path` read-only through the input opener: a regular file or a block
 * device only (a FIFO, /dev/zero or a folder is refused on the opened handle,
 * and the open never waits). For a block device the size comes from seeking
 * to its end (stat reports 0 for devices).
 */
export async function openByteReader(path: string, options: OpenByteReaderOptions = {}): Promise<FileByteReader> {
  const input = await openInputFile(path, {
    what: options.what ?? 'card or card image',
    maxBytes: Number.MAX_SAFE_INTEGER,
    allowBlockDevice: true,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    await options.check?.(input.stat);
    const size = input.stat.isBlockDevice() ? await blockDeviceSize(input.handle) : input.size;
    return {
      size,
      read: (offset: number, length: number) => input.read(offset, length).then((bytes) => (bytes.length === length ? bytes : padded(bytes, length))),
      close: () => input.close(),
    };
  } catch (error) {
    await input.close();
    throw toBootcardError(error, `Could not read ${path}`);
  }
}

/** Past the end a ByteReader reads zeros, as before (the FAT reader checks sizes itself). */
function padded(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(bytes);
  return out;
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
