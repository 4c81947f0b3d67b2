/**
 * The one way bootcard opens a file or folder a user named as an input
 * (firmware zips and folders, RPI_EFI.fd, EEPROM images, configs, CSVs, keys,
 * signatures, recovery.bin, vl805, card images).
 *
 * A path can name anything: a FIFO (whose plain open waits for a writer and
 * holds one of Node's four file threads for ever), /dev/zero or /dev/urandom
 * (endless), a terminal, a socket, a folder, a device whose open acts on its
 * own (/dev/watchdog). So a path whose node is the wrong kind is refused from
 * stat without being opened; the rest is opened with O_NONBLOCK | O_NOCTTY
 * (the open never waits and never takes a terminal) and checked again on the
 * opened handle (fstat: the same node, of the right kind, so what was checked
 * is what gets read even if the path is swapped in between); its size is
 * capped before a byte is read, and reading stops at a cancel between chunks.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, open, stat as statPath, type FileHandle } from 'node:fs/promises';
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
async function statBeforeOpen(path: string, options: { what: string; noFollow?: boolean }, accept: (stat: Stats) => boolean, refuse: (stat: Stats) => BootcardError): Promise<Stats> {
  let before: Stats;
  try {
    before = options.noFollow ? await lstat(path) : await statPath(path);
  } catch (error) {
    throw toBootcardError(error, `Could not open the ${options.what} ${path}`);
  }
  if (options.noFollow && before.isSymbolicLink()) throw linkRefused(path, options.what);
  if (!accept(before)) throw refuse(before);
  return before;
}

async function openNonBlocking(path: string, flags: number, what: string): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY | flags);
  } catch (error) {
    if ((error as { code?: string }).code === 'ELOOP') throw linkRefused(path, what);
    throw toBootcardError(error, `Could not open the ${what} ${path}`);
  }
}

/** The opened node must be the one looked at (the path was not swapped between the look and the open). */
function checkSameNode(path: string, before: Stats, opened: Stats, what: string): void {
  if (before.dev !== opened.dev || before.ino !== opened.ino) {
    throw new BootcardError(CommonErrorCode.FILE_UNREADABLE, `The ${what} ${path} changed while it was being opened. Try again.`, { path, reason: 'changed' });
  }
}

/** Opens a regular file (or, if allowed, a block device) for reading; see the module comment. */
export async function openInputFile(path: string, options: OpenInputOptions): Promise<InputFile> {
  throwIfCancelled(options.signal, options.what);
  const accepts = (st: Stats) => st.isFile() || (options.allowBlockDevice === true && st.isBlockDevice());
  const before = await statBeforeOpen(path, options, accepts, (st) => notAFile(path, st, options));
  const handle = await openNonBlocking(path, options.noFollow ? constants.O_NOFOLLOW : 0, options.what);
  try {
    const stat = await handle.stat();
    if (!accepts(stat)) throw notAFile(path, stat, options);
    checkSameNode(path, before, stat, options.what);
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
  const before = await statBeforeOpen(path, options, accepts, refuse);
  const handle = await openNonBlocking(path, 0, options.what);
  try {
    const stat = await handle.stat();
    if (!accepts(stat)) throw refuse(stat);
    checkSameNode(path, before, stat, options.what);
    return stat.isFile() ? 'file' : 'folder';
  } catch (error) {
    throw toBootcardError(error, `Could not read the ${options.what} ${path}`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
