/**
 * The one way bootcard opens a file or folder a user named as an input
 * (firmware zips and folders, RPI_EFI.fd, EEPROM images, configs, CSVs, keys,
 * signatures, recovery.bin, vl805, card images).
 *
 * A path can name anything: a FIFO (whose plain open waits for a writer and
 * holds one of Node's four file threads for ever), /dev/zero or /dev/urandom
 * (endless), a terminal, a socket, a folder, a device whose open acts on its
 * own (/dev/watchdog). So the node a path leads to is taken with O_PATH (not
 * opened) and a node of the wrong kind is refused from that handle; the rest
 * is opened through that handle (never the name again) with O_NONBLOCK |
 * O_NOCTTY (the open never waits and never takes a terminal) and checked again
 * on the opened handle (fstat: the same node, of the right kind); its size is
 * capped before a byte is read, and reading stops at a cancel between chunks.
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { formatBytes } from '../units.js';

/** Reads go in chunks this big, so a cancel is seen within one chunk. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024;

export interface OpenInputOptions {
  /** Names the input in messages: "firmware zip", "config", "recovery.bin". */
  readonly what: string;
  /** Larger regular files are refused before a byte is read. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
  /** A block device (a card) is accepted as well as a regular file; its size is then not known from fstat. */
  readonly allowBlockDevice?: boolean;
  /** Refuse a symbolic link as the last part of the path (entries inside a firmware folder). */
  readonly noFollow?: boolean;
}

export interface InputFile {
  readonly path: string;
  /** The opened handle's stat. */
  readonly stat: Stats;
  /** The regular file's size (0 for a block device: the caller measures it). */
  readonly size: number;
  readonly handle: FileHandle;
  /** Reads `length` bytes at `offset` (fewer only at the end of the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Reads the whole regular file (never more than the size fstat gave). */
  readAll(): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** What a non-regular file is, in the words a message uses. */
export function describeFileKind(stat: Stats): string {
  if (stat.isFile()) return 'a regular file';
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'a character device (like /dev/zero or a terminal)';
  if (stat.isBlockDevice()) return 'a block device (a disk)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export function throwIfCancelled(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new BootcardError(CommonErrorCode.CANCELLED, `Reading the ${what} was cancelled.`);
}

function notAFile(path: string, stat: Stats, options: OpenInputOptions): BootcardError {
  const expected = options.allowBlockDevice ? 'a file or a card' : 'a file';
  return new BootcardError(
    CommonErrorCode.FILE_UNREADABLE,
    `The ${options.what} ${path} is ${describeFileKind(stat)}, not ${expected}: name the ${options.what} itself.`,
    { path, reason: 'not-a-file', kind: describeFileKind(stat) },
  );
}

export function tooLarge(path: string, size: number, options: Pick<OpenInputOptions, 'what' | 'maxBytes'>): BootcardError {
  return new BootcardError(
    CommonErrorCode.FILE_UNREADABLE,
    `The ${options.what} ${path} is ${formatBytes(size)}, far larger than a ${options.what} can be: check the path.`,
    { path, reason: 'too-large', size, max: options.maxBytes },
  );
}

const linkRefused = (path: string, what: string) =>
  new BootcardError(CommonErrorCode.FILE_UNREADABLE, `The ${what} ${path} is a symbolic link, which bootcard does not follow here.`, { path, reason: 'link' });

/**
 * Looks at the path before opening it: opening a device node can act on its
 * own (as root, opening /dev/watchdog arms the watchdog), so a path whose
 * node is not one `accept` wants is refused without ever being opened.
 */
/**
 * O_PATH (Linux): a handle on the node a name leads to, without opening it: no
 * driver code runs (a watchdog is not armed) and a FIFO's waiting writer is
 * not released. The node is checked on this handle and only then opened,
 * through the handle (/proc/self/fd), never through the name again: a
 * stat-then-open by name loses to a link swapped in between (a FIFO writer
 * was released within 100 tries).
 */
const O_PATH = 0o10000000;

async function openChecked(
  path: string,
  options: { what: string; noFollow?: boolean },
  accept: (stat: Stats) => boolean,
  refuse: (stat: Stats) => BootcardError,
): Promise<{ handle: FileHandle; stat: Stats }> {
  let node: FileHandle;
  try {
    node = await open(path, O_PATH | (options.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (error) {
    throw toBootcardError(error, `Could not open the ${options.what} ${path}`);
  }
  try {
    const before = await node.stat();
    if (options.noFollow && before.isSymbolicLink()) throw linkRefused(path, options.what);
    if (!accept(before)) throw refuse(before);
    let handle: FileHandle;
    try {
      handle = await open(`/proc/self/fd/${node.fd}`, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (error) {
      throw toBootcardError(Object.assign(error as Error, { path }), `Could not open the ${options.what} ${path}`);
    }
    try {
      const stat = await handle.stat();
      if (!accept(stat)) throw refuse(stat);
      checkSameNode(path, before, stat, options.what);
      return { handle, stat };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  } finally {
    await node.close().catch(() => undefined);
  }
}

function checkSameNode(path: string, before: Stats, opened: Stats, what: string): void {
  if (before.dev !== opened.dev || before.ino !== opened.ino) {
    throw new BootcardError(CommonErrorCode.FILE_UNREADABLE, `The ${what} ${path} changed while it was being opened. Try again.`, { path, reason: 'changed' });
  }
}

/** Opens a regular file (or, if allowed, a block device) for reading; see the module comment. */
export async function openInputFile(path: string, options: OpenInputOptions): Promise<InputFile> {
  throwIfCancelled(options.signal, options.what);
  const accepts = (st: Stats) => st.isFile() || (options.allowBlockDevice === true && st.isBlockDevice());
  const { handle, stat } = await openChecked(path, options, accepts, (st) => notAFile(path, st, options));
  try {
    if (stat.isFile() && stat.size > options.maxBytes) throw tooLarge(path, stat.size, options);
    const size = stat.isFile() ? stat.size : 0;
    const read = async (offset: number, length: number): Promise<Uint8Array> => {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        throwIfCancelled(options.signal, options.what);
        const { bytesRead } = await handle.read(out, done, Math.min(length - done, READ_CHUNK_BYTES), offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? out : out.subarray(0, done);
    };
    return {
      path,
      stat,
      size,
      handle,
      read,
      async readAll() {
        const bytes = await read(0, size);
        if (bytes.length !== size) {
          throw new BootcardError(CommonErrorCode.FILE_UNREADABLE, `The ${options.what} ${path} changed while it was read (it is shorter than it was). Try again.`, { path });
        }
        return bytes;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw toBootcardError(error, `Could not read the ${options.what} ${path}`);
  }
}

/** Opens, reads whole and closes a regular file of at most `maxBytes`. */
export async function readInputFile(path: string, options: OpenInputOptions): Promise<Uint8Array> {
  const file = await openInputFile(path, options);
  try {
    return await file.readAll();
  } finally {
    await file.close();
  }
}

export type InputKind = 'file' | 'folder';

/**
 * Whether `path` is a regular file or a folder, from the opened handle (the
 * open cannot hang on a FIFO); anything else is refused with a clear error.
 * Only tells which reader to use: that reader checks its own handle again.
 */
export async function inputKind(path: string, options: Pick<OpenInputOptions, 'what' | 'signal'>): Promise<InputKind> {
  throwIfCancelled(options.signal, options.what);
  const refuse = (st: Stats) =>
    new BootcardError(
      CommonErrorCode.FILE_UNREADABLE,
      `The ${options.what} ${path} is ${describeFileKind(st)}, not a file or a folder: name the ${options.what} itself.`,
      { path, reason: 'not-a-file', kind: describeFileKind(st) },
    );
  const accepts = (st: Stats) => st.isFile() || st.isDirectory();
  const { handle, stat } = await openChecked(path, options, accepts, refuse);
  try {
    return stat.isFile() ? 'file' : 'folder';
  } catch (error) {
    throw toBootcardError(error, `Could not read the ${options.what} ${path}`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
