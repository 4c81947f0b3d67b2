/**
 * Reads an OS image that may be compressed, as a stream of the image's bytes,
 * and can unpack it into a sparse file (zero blocks become holes, so an 8 GB
 * image that is mostly free space costs what it holds). Used by `netboot tree`
 * and by `bootcard flash` (flash-image.io.ts).
 *
 * The format comes from the first bytes (compression.ts), never the name.
 * gzip and a zip's deflate go through Node's zlib. xz, zstd and bzip2 go
 * through the Debian tools (xz-utils, zstd, bzip2) as child processes: Node
 * 20's zlib has no xz or zstd; etcher-sdk's compressed sources cover xz
 * (lzma-native, which loads here from its shipped prebuilds although its
 * install script is not allowed) and bzip2 (unbzip2-stream, pure JS, several
 * times slower than the C tool) but not zstd; and a tool decodes in its own
 * process, on the second core, leaving this process's event loop and thread
 * pool to the cards being written.
 *
 * The file is opened once, here, and every byte the decompressor sees comes
 * from that handle through this process, which counts them: the progress of a
 * decompression is the compressed bytes read out of the file's size.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { createGunzip, createInflateRaw, crc32 } from 'node:zlib';
import {
  EOCD_SEARCH_BYTES,
  LOCAL_HEADER_SIZE,
  METHOD_DEFLATED,
  METHOD_STORED,
  ZIP64_EOCD_MIN_SIZE,
  ZIP64_LOCATOR_SIZE,
  locateCentralDirectory,
  localDataOffset,
  parseCentralDirectory,
  readZip64Record,
  zip64RecordOffset,
  type ZipEntry,
  type ZipLocation,
} from '../card/zip-directory.js';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { COMPRESSION_MAGIC_BYTES, DECOMPRESSOR, compressionOf, type Compression } from './compression.js';
import { ImageErrorCode } from './errors.js';

async function openImage(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (error) {
    throw toBootcardError(error, `Could not open the image ${file}`);
  }
}

async function compressionOfHandle(handle: FileHandle): Promise<Compression> {
  const head = new Uint8Array(COMPRESSION_MAGIC_BYTES);
  await handle.read(head, 0, head.length, 0);
  return compressionOf(head);
}

export async function detectCompression(file: string): Promise<Compression> {
  const handle = await openImage(file);
  try {
    return await compressionOfHandle(handle);
  } finally {
    await handle.close();
  }
}

export interface DecompressedStream {
  readonly compression: Compression;
  /** The size of the file as given (compressed bytes), which `onCompressedBytes` counts towards. */
  readonly compressedSize: number;
  readonly stream: Readable;
  /** Resolves when the decompressor ended well; rejects with a BootcardError otherwise. */
  readonly finished: Promise<void>;
  /** Stops the decompressor; resolves once its child process (if any) is gone. */
  cancel(): Promise<void>;
}

export interface DecompressOptions {
  readonly signal?: AbortSignal;
  /** Compressed bytes read from the file so far, and the file's size. */
  readonly onCompressedBytes?: (read: number, total: number) => void;
}

function failed(file: string, compression: Compression, why: string): BootcardError {
  return new BootcardError(ImageErrorCode.DECOMPRESS_FAILED, `Could not decompress ${file} (${compression}): ${why}. Download the image again, or decompress it yourself and give the .img.`, { path: file, compression });
}

const cancelledError = () => new BootcardError(CommonErrorCode.CANCELLED, 'Cancelled while decompressing the image.');

/** The most entries a zip holding one image may list (folders and a readme besides the image are fine). */
const MAX_ZIP_ENTRIES = 64;
const MAX_ZIP_DIRECTORY_BYTES = 1024 * 1024;

async function readExactly(handle: FileHandle, offset: number, length: number, file: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  const { bytesRead } = await handle.read(bytes, 0, length, offset);
  if (bytesRead !== length) throw failed(file, 'zip', 'the archive is cut short');
  return bytes;
}

/** The one image file a zip holds, and where its data lies. */
async function zipImageEntry(handle: FileHandle, size: number, file: string): Promise<{ entry: ZipEntry; start: number }> {
  const tailLength = Math.min(size, EOCD_SEARCH_BYTES);
  const limits = { maxEntries: MAX_ZIP_ENTRIES, maxDirectoryBytes: MAX_ZIP_DIRECTORY_BYTES };
  const found = locateCentralDirectory(await readExactly(handle, size - tailLength, tailLength, file), size, file, limits);
  let location: ZipLocation = found;
  if (found.zip64LocatorAt !== undefined) {
    if (found.zip64LocatorAt < 0) throw failed(file, 'zip', 'a ZIP64 archive without its ZIP64 locator');
    const recordOffset = zip64RecordOffset(await readExactly(handle, found.zip64LocatorAt, ZIP64_LOCATOR_SIZE, file), file);
    if (recordOffset + ZIP64_EOCD_MIN_SIZE > found.zip64LocatorAt) throw failed(file, 'zip', 'its ZIP64 end record lies outside the file');
    location = readZip64Record(await readExactly(handle, recordOffset, ZIP64_EOCD_MIN_SIZE, file), recordOffset, file, limits);
  }
  const entries = parseCentralDirectory(await readExactly(handle, location.directoryOffset, location.directorySize, file), location, file);
  // Folders, and small notes beside the image (a README, a checksum file), are not images.
  const files = entries.filter((e) => !e.name.endsWith('/') && e.uncompressedSize >= 1024 * 1024);
  if (files.length !== 1) {
    throw new BootcardError(
      ImageErrorCode.ZIP_NOT_ONE_IMAGE,
      files.length === 0
        ? `${file} is a zip without a disk image in it (no file of 1 MiB or more). Give the image itself, or a zip holding just that image.`
        : `${file} is a zip holding ${files.length} files that could be images (${files.slice(0, 4).map((e) => e.name).join(', ')}): bootcard writes a zip that holds one image. Unzip it and give the .img you mean.`,
      { path: file, entries: files.map((e) => e.name) },
    );
  }
  const entry = files[0]!;
  if ((entry.flags & 0x0001) !== 0) throw new BootcardError(ImageErrorCode.ZIP_NOT_ONE_IMAGE, `${file} holds ${entry.name} encrypted; unzip it yourself (with its password) and give the .img.`, { path: file });
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) {
    throw new BootcardError(ImageErrorCode.ZIP_NOT_ONE_IMAGE, `${file} holds ${entry.name} with compression method ${entry.method}; bootcard reads stored and deflated zips. Unzip it yourself and give the .img.`, { path: file, method: entry.method });
  }
  if (entry.localHeaderOffset + LOCAL_HEADER_SIZE + entry.nameBytes.length > location.directoryOffset) throw failed(file, 'zip', `the local header of ${entry.name} lies outside the archive data`);
  const header = await readExactly(handle, entry.localHeaderOffset, LOCAL_HEADER_SIZE + entry.nameBytes.length, file);
  const start = localDataOffset(header, entry, file);
  if (start + entry.compressedSize > location.directoryOffset) throw failed(file, 'zip', `${entry.name} runs past the end of the archive data`);
  if (entry.method === METHOD_STORED && entry.compressedSize !== entry.uncompressedSize) throw failed(file, 'zip', `${entry.name} is stored with a size other than it declares`);
  return { entry, start };
}

/** Passes an entry's bytes on, never more than it declared, and checks its length and CRC-32 at the end. */
function zipEntryCheck(entry: ZipEntry, file: string): Transform {
  let length = 0;
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      length += chunk.length;
      if (length > entry.uncompressedSize) return done(failed(file, 'zip', `${entry.name} unpacks to more than the ${entry.uncompressedSize} bytes it declares`));
      crc = crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      if (length !== entry.uncompressedSize) return done(failed(file, 'zip', `${entry.name} unpacks to ${length} bytes, not the ${entry.uncompressedSize} it declares`));
      if (crc >>> 0 !== entry.crc32 >>> 0) return done(failed(file, 'zip', `${entry.name} does not match its CRC-32`));
      done();
    },
  });
}

/** The image's bytes, decompressed when its first bytes say it is compressed. */
export async function openDecompressed(file: string, options: DecompressOptions | AbortSignal = {}): Promise<DecompressedStream> {
  const { signal, onCompressedBytes } = options instanceof AbortSignal ? { signal: options, onCompressedBytes: undefined } : options;
  const handle = await openImage(file);
  let child: ChildProcess | undefined;
  try {
    const compressedSize = (await handle.stat()).size;
    const compression = await compressionOfHandle(handle);
    const zip = compression === 'zip' ? await zipImageEntry(handle, compressedSize, file) : undefined;
    const source = zip
      ? handle.createReadStream({ start: zip.start, end: zip.start + zip.entry.compressedSize - 1, autoClose: false, highWaterMark: 1024 * 1024 })
      : handle.createReadStream({ start: 0, autoClose: false, highWaterMark: 1024 * 1024 });
    let read = zip ? zip.start : 0;
    source.on('data', (chunk: string | Buffer) => {
      read += chunk.length;
      onCompressedBytes?.(read, compressedSize);
    });
    const closeHandle = () => void handle.close().catch(() => undefined);
    source.once('close', closeHandle);
    const errors: Promise<never>[] = [];
    const failOn = (stream: NodeJS.EventEmitter, wrap: (error: Error) => BootcardError) =>
      errors.push(new Promise<never>((_, reject) => stream.once('error', (error: Error) => reject(BootcardError.is(error) ? error : wrap(error)))));
    failOn(source, (error) => toBootcardError(error, `Could not read ${file}`));

    let stream: Readable;
    let exited: Promise<void> = Promise.resolve();
    if (compression === 'none' || compression === 'gzip' || compression === 'zip') {
      stream = source;
      if (compression === 'gzip') stream = source.pipe(createGunzip());
      if (zip?.entry.method === METHOD_DEFLATED) stream = source.pipe(createInflateRaw());
      if (zip) {
        const inflated = stream;
        if (inflated !== source) failOn(inflated, (error) => failed(file, compression, error.message));
        stream = inflated.pipe(zipEntryCheck(zip.entry, file));
      }
      if (stream !== source) failOn(stream, (error) => failed(file, compression, error.message));
    } else {
      const tool = DECOMPRESSOR[compression];
      const spawned = spawn(tool.command, compression === 'xz' ? ['-dc', '-T0'] : ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'], killSignal: 'SIGKILL' });
      child = spawned;
      let stderr = '';
      spawned.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
      // A decompressor that stops early (damaged input) closes its input: that is its exit status's to explain.
      spawned.stdin!.on('error', () => undefined);
      source.pipe(spawned.stdin!);
      stream = spawned.stdout!;
      exited = new Promise<void>((resolve) => spawned.once('close', () => resolve()));
      errors.push(
        new Promise<never>((_, reject) => {
          spawned.once('error', (error: NodeJS.ErrnoException) => {
            reject(
              error.code === 'ENOENT'
                ? new BootcardError(ImageErrorCode.DECOMPRESS_FAILED, `${file} is ${compression}-compressed and the ${tool.command} command is missing: install it (apt install ${tool.debianPackage}), or decompress the image yourself.`, { path: file, compression })
                : failed(file, compression, error.message),
            );
          });
          spawned.once('close', (code, killedBy) => {
            if (code === 0) return;
            if (signal?.aborted) reject(cancelledError());
            else reject(failed(file, compression, killedBy ? `${tool.command} was stopped (${killedBy})` : stderr.trim() || `${tool.command} exited with ${code}`));
          });
        }),
      );
    }
    const ended = new Promise<void>((resolve) => stream.once('end', resolve));
    const finished = Promise.race([Promise.all([ended, exited]).then(() => undefined), ...errors]);
    finished.catch(() => undefined);
    const cancel = async () => {
      source.destroy();
      stream.destroy();
      child?.kill('SIGKILL');
      await exited;
    };
    const onAbort = () => void cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    void finished.then(
      () => signal?.removeEventListener('abort', onAbort),
      () => signal?.removeEventListener('abort', onAbort),
    );
    return { compression, compressedSize, stream, finished, cancel };
  } catch (error) {
    child?.kill('SIGKILL');
    await handle.close().catch(() => undefined);
    throw error;
  }
}

const BLOCK = 64 * 1024;

const ZEROS = Buffer.alloc(BLOCK);

/** A native compare: a multi-GB image is mostly checked here. */
function isZero(bytes: Buffer): boolean {
  return bytes.equals(ZEROS.subarray(0, bytes.length));
}

async function writeAll(out: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await out.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Unpacks `file` into `dest` (created, mode 0600), leaving holes for zero blocks. Returns the image size. */
export async function decompressToSparseFile(
  file: string,
  dest: string,
  signal?: AbortSignal,
  onCompressedBytes?: (read: number, total: number) => void,
): Promise<{ compression: Compression; size: number; compressedSize: number }> {
  const source = await openDecompressed(file, { ...(signal ? { signal } : {}), ...(onCompressedBytes ? { onCompressedBytes } : {}) });
  let out: FileHandle;
  try {
    out = await open(dest, 'wx', 0o600);
  } catch (error) {
    // The decompressor already runs (a child process for xz, zstd, bzip2) and holds the image open: end both.
    await source.cancel();
    throw toBootcardError(error, `Could not create the decompressed image ${dest}`);
  }
  let position = 0;
  try {
    // Errors (a damaged archive, a failing tool) end the loop by rejecting `finished` first, or by the stream's own error.
    const consume = (async () => {
      for await (const chunk of source.stream as AsyncIterable<Buffer>) {
        if (signal?.aborted) throw cancelledError();
        // Runs of non-zero blocks go out as one write each; zero blocks are skipped (holes).
        let run = -1;
        for (let at = 0; ; at += BLOCK) {
          const last = at >= chunk.length;
          const zero = last || isZero(chunk.subarray(at, Math.min(chunk.length, at + BLOCK)));
          if (!zero && run < 0) run = at;
          if (zero && run >= 0) {
            const end = Math.min(chunk.length, at);
            await writeAll(out, chunk.subarray(run, end), position + run);
            run = -1;
          }
          if (last) break;
        }
        position += chunk.length;
      }
    })();
    await Promise.all([consume, source.finished]);
    if (signal?.aborted) throw cancelledError();
    await out.truncate(position);
    // A zip's directory after the image is never read as data: the file is done all the same.
    onCompressedBytes?.(source.compressedSize, source.compressedSize);
    return { compression: source.compression, size: position, compressedSize: source.compressedSize };
  } catch (error) {
    await source.cancel();
    if (signal?.aborted) throw cancelledError();
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new BootcardError(
        ImageErrorCode.NO_SPACE,
        `No room to decompress ${file}: the folder ${path.dirname(dest)} filled up after ${position} bytes of the image. Free some space there, set TMPDIR to a folder with more room, or decompress the image yourself and give the .img.`,
        { path: file, folder: path.dirname(dest), decompressedSoFar: position },
      );
    }
    throw error instanceof BootcardError ? error : failed(file, source.compression, error instanceof Error ? error.message : String(error));
  } finally {
    await out.close();
  }
}
