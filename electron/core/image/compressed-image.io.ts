/**
 * Reads an OS image that may be compressed, as a stream of the image's bytes,
 * and can unpack it into a sparse file (zero blocks become holes, so an 8 GB
 * image that is mostly free space costs what it holds).
 *
 * gzip goes through Node's zlib. xz, zstd and bzip2 go through the Debian
 * tools (xz-utils, zstd, bzip2) as child processes: Node 20's zlib has no xz
 * or zstd, the npm xz/zstd bindings need native install scripts (which npm 11
 * skips, and lzma-native is listed as not allowed), and the pure-JS decoders
 * are several times slower than the maintained C tools on a multi-GB image.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { COMPRESSION_MAGIC_BYTES, DECOMPRESSOR, compressionOf, type Compression } from './compression.js';
import { NetbootErrorCode } from './errors.js';

export async function detectCompression(file: string): Promise<Compression> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw toBootcardError(error, `Could not open the image ${file}`);
  }
  try {
    const head = new Uint8Array(COMPRESSION_MAGIC_BYTES);
    await handle.read(head, 0, head.length, 0);
    return compressionOf(head);
  } finally {
    await handle.close();
  }
}

export interface DecompressedStream {
  readonly compression: Compression;
  readonly stream: Readable;
  /** Resolves when the decompressor ended well; rejects with a BootcardError otherwise. */
  readonly finished: Promise<void>;
  /** Stops the decompressor; resolves once its child process (if any) is gone. */
  cancel(): Promise<void>;
}

function failed(file: string, compression: Compression, why: string): BootcardError {
  return new BootcardError(NetbootErrorCode.DECOMPRESS_FAILED, `Could not decompress ${file} (${compression}): ${why}. Download the image again, or decompress it yourself and give the .img.`, { path: file, compression });
}

/** The image's bytes, decompressed when its first bytes say it is compressed. */
export async function openDecompressed(file: string, signal?: AbortSignal): Promise<DecompressedStream> {
  const compression = await detectCompression(file);
  if (compression === 'none' || compression === 'gzip') {
    const source = createReadStream(file);
    const stream = compression === 'gzip' ? source.pipe(createGunzip()) : source;
    const finished = new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => reject(compression === 'gzip' ? failed(file, compression, error.message) : toBootcardError(error, `Could not read ${file}`));
      source.on('error', fail);
      stream.on('error', fail);
      stream.on('end', resolve);
    });
    finished.catch(() => undefined);
    return {
      compression,
      stream,
      finished,
      cancel: async () => {
        stream.destroy();
      },
    };
  }
  const tool = DECOMPRESSOR[compression];
  // The tool reads the file this process opened (its stdin), not a path it would resolve again.
  const input = await open(file, 'r').catch((error: unknown) => {
    throw toBootcardError(error, `Could not open the image ${file}`);
  });
  const child: ChildProcess = spawn(tool.command, ['-dc'], { stdio: [input.fd, 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' });
  const closeInput = () => void input.close().catch(() => undefined);
  child.on('spawn', closeInput);
  child.on('error', closeInput);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined && (signal?.aborted || child.killed)) return; // answered on 'close'
      reject(
        error.code === 'ENOENT'
          ? new BootcardError(NetbootErrorCode.DECOMPRESS_FAILED, `${file} is ${compression}-compressed and the ${tool.command} command is missing: install it (apt install ${tool.debianPackage}), or decompress the image yourself.`, { path: file, compression })
          : failed(file, compression, error.message),
      );
    });
    child.on('close', (code, killedBy) => {
      if (code === 0) resolve();
      else if (signal?.aborted) reject(new BootcardError(CommonErrorCode.CANCELLED, 'Cancelled while decompressing the image.'));
      else reject(failed(file, compression, killedBy ? `${tool.command} was stopped (${killedBy})` : stderr.trim() || `${tool.command} exited with ${code}`));
    });
  });
  finished.catch(() => undefined);
  return {
    compression,
    stream: child.stdout!,
    finished,
    cancel: async () => {
      child.kill('SIGKILL');
      if (child.pid !== undefined) await exited;
    },
  };
}

const BLOCK = 64 * 1024;

function isZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Unpacks `file` into `dest` (created, mode 0600), leaving holes for zero blocks. Returns the image size. */
export async function decompressToSparseFile(file: string, dest: string, signal?: AbortSignal): Promise<{ compression: Compression; size: number }> {
  const source = await openDecompressed(file, signal);
  const out = await open(dest, 'wx', 0o600);
  let position = 0;
  try {
    for await (const chunk of source.stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw new BootcardError(CommonErrorCode.CANCELLED, 'Cancelled while decompressing the image.');
      for (let at = 0; at < chunk.length; at += BLOCK) {
        const block = chunk.subarray(at, Math.min(chunk.length, at + BLOCK));
        if (!isZero(block)) await out.write(block, 0, block.length, position);
        position += block.length;
      }
    }
    await source.finished;
    await out.truncate(position);
    return { compression: source.compression, size: position };
  } catch (error) {
    await source.cancel();
    throw error instanceof BootcardError ? error : failed(file, source.compression, error instanceof Error ? error.message : String(error));
  } finally {
    await out.close();
  }
}
