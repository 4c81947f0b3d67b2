/**
 * Reads the pftf firmware from a zip or an unpacked folder, as hostile input.
 * The zip's central directory is read first (zip-directory.ts) and every entry
 * checked before anything is extracted: at most MAX_FIRMWARE_ENTRIES entries,
 * names that are what they say (UTF-8 or ASCII), no absolute paths, no `..`,
 * no links, RPI_EFI.fd, start4.elf and config.txt at the top level, and the
 * declared unpacked size must fit the partition. Each entry is then inflated
 * with zlib's output capped at its declared size (a zip bomb stops there, it
 * is never inflated whole) and its CRC-32 checked. The work runs on zlib's
 * threads in chunks, so the event loop is never held for long.
 */
import zlib from 'node:zlib';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { inputKind, openInputFile, readInputFile, throwIfCancelled, type InputFile } from '../files/input-file.io.js';
import { CardErrorCode } from './errors.js';
import { checkArchivePath, type FirmwareFile } from './firmware-files.js';
import { checkFirmwareFits, checkPftfFileNames } from './uefi-card.js';
import {
  EOCD_SEARCH_BYTES,
  LOCAL_HEADER_SIZE,
  METHOD_DEFLATED,
  METHOD_STORED,
  ZIP64_EOCD_MIN_SIZE,
  ZIP64_LOCATOR_SIZE,
  locateCentralDirectory,
  localDataOffset,
  maxCompressedSize,
  parseCentralDirectory,
  readZip64Record,
  zip64RecordOffset,
  type ZipEntry,
  type ZipLocation,
} from './zip-directory.js';


const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** Unix "made by" host in a zip's version-made-by high byte: external attributes carry a Unix mode. */
const ZIP_HOST_UNIX = 3;
/** The pftf release has about twenty files; a few hundred would still be a firmware, 4096 is not. */
export const MAX_FIRMWARE_ENTRIES = 4096;
/** Folders nested deeper than this are not a firmware (and a loop of bind mounts ends here). */
const MAX_FOLDER_DEPTH = 16;
/** A central directory of MAX_FIRMWARE_ENTRIES entries with long names fits easily. */
const MAX_CENTRAL_DIRECTORY_BYTES = 16 * 1024 * 1024;
/** zlib's output chunk: each chunk is one short callback on the event loop. */
const INFLATE_CHUNK_BYTES = 256 * 1024;
const CRC_STEP_BYTES = 4 * 1024 * 1024;

export interface ReadFirmwareOptions {
  /** The partition the files must fit (bytes); checked against the declared sizes before extracting. */
  readonly partitionSize: number;
  /** Stops reading between entries and chunks (the request was cancelled, the client left). */
  readonly signal?: AbortSignal;
}

/** A zip can be no larger than its files stored uncompressed plus its headers. */
const maxZipBytes = (partitionSize: number) => partitionSize * 2 + MAX_CENTRAL_DIRECTORY_BYTES;

async function readAt(zip: InputFile, offset: number, length: number, source: string): Promise<Uint8Array> {
  const bytes = await zip.read(offset, length);
  if (bytes.length !== length) throw new BootcardError(CardErrorCode.BAD_ARCHIVE, `${source} is not a readable zip file (it is cut short). Download it again.`);
  return bytes;
}

async function readLocation(zip: InputFile, source: string): Promise<ZipLocation> {
  const tailLength = Math.min(zip.size, EOCD_SEARCH_BYTES);
  const tail = await readAt(zip, zip.size - tailLength, tailLength, source);
  const limits = { maxEntries: MAX_FIRMWARE_ENTRIES, maxDirectoryBytes: MAX_CENTRAL_DIRECTORY_BYTES };
  const found = locateCentralDirectory(tail, zip.size, source, limits);
  if (found.zip64LocatorAt === undefined) return found;
  if (found.zip64LocatorAt < 0) throw new BootcardError(CardErrorCode.BAD_ARCHIVE, `${source} is not a readable zip file (a ZIP64 archive without its ZIP64 locator). Download it again.`);
  const recordOffset = zip64RecordOffset(await readAt(zip, found.zip64LocatorAt, ZIP64_LOCATOR_SIZE, source), source);
  if (recordOffset + ZIP64_EOCD_MIN_SIZE > found.zip64LocatorAt) throw new BootcardError(CardErrorCode.BAD_ARCHIVE, `${source} is not a readable zip file (its ZIP64 end record lies outside the file). Download it again.`);
  return readZip64Record(await readAt(zip, recordOffset, ZIP64_EOCD_MIN_SIZE, source), recordOffset, source, limits);
}

function sizeMismatch(source: string, entry: string, declared: number, why: string): BootcardError {
  return new BootcardError(
    CardErrorCode.ENTRY_SIZE_MISMATCH,
    `${source} was not used: "${entry}" ${why} than the ${declared} bytes it declares (a damaged zip, or one made to fill memory). Download it again.`,
    { entry, declared },
  );
}

/** Inflates one entry, never producing more than it declared. */
async function extractEntry(zip: InputFile, entry: ZipEntry, entryPath: string, source: string, dataEnd: number, signal?: AbortSignal): Promise<Uint8Array> {
  const damaged = (why: string) => new BootcardError(CardErrorCode.BAD_ARCHIVE, `${source} is damaged: "${entryPath}" ${why}. Download it again.`, { entry: entryPath });
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) throw damaged(`uses compression method ${entry.method}, which a firmware zip does not (only stored and deflated)`);
  if (entry.compressedSize > maxCompressedSize(entry.uncompressedSize)) {
    throw sizeMismatch(source, entryPath, entry.uncompressedSize, `takes far more compressed bytes (${entry.compressedSize})`);
  }
  if (entry.localHeaderOffset + LOCAL_HEADER_SIZE + entry.nameBytes.length > dataEnd) throw damaged('has its local header outside the archive data');
  const header = await readAt(zip, entry.localHeaderOffset, LOCAL_HEADER_SIZE + entry.nameBytes.length, source);
  const start = localDataOffset(header, entry, source);
  // The data must end before the central directory (a lying offset or size is refused, not read).
  if (start + entry.compressedSize > dataEnd) throw damaged('runs past the end of the archive data');
  throwIfCancelled(signal, 'firmware zip');
  const compressed = await readAt(zip, start, entry.compressedSize, source);
  let data: Uint8Array;
  let crc: number;
  if (entry.method === METHOD_STORED) {
    if (entry.compressedSize !== entry.uncompressedSize) throw sizeMismatch(source, entryPath, entry.uncompressedSize, `is stored with ${entry.compressedSize} bytes, other`);
    data = compressed;
    crc = await crc32InSteps(data);
  } else {
    ({ data, crc } = await inflateBounded(compressed, entry.uncompressedSize, {
      tooLarge: () => sizeMismatch(source, entryPath, entry.uncompressedSize, 'unpacks to more'),
      damaged: (error) => damaged(`cannot be extracted (${error.message})`),
      ...(signal ? { signal } : {}),
    }));
  }
  if (data.length !== entry.uncompressedSize) throw sizeMismatch(source, entryPath, entry.uncompressedSize, `unpacks to ${data.length} bytes, other`);
  if (crc >>> 0 !== entry.crc32 >>> 0) throw damaged('does not match its CRC-32');
  return data;
}

/** CRC-32 in steps with a turn of the event loop between them (a 256 MiB stored file would hold it for long). */
async function crc32InSteps(data: Uint8Array): Promise<number> {
  let crc = 0;
  for (let at = 0; at < data.length; at += CRC_STEP_BYTES) {
    crc = zlib.crc32(data.subarray(at, at + CRC_STEP_BYTES), crc);
    if (at + CRC_STEP_BYTES < data.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return crc;
}

interface InflateHooks {
  readonly tooLarge: () => BootcardError;
  readonly damaged: (error: Error) => BootcardError;
  readonly signal?: AbortSignal;
}

/**
 * Inflates into a buffer of exactly `declared` bytes: zlib hands over
 * INFLATE_CHUNK_BYTES at a time (each a short turn of the event loop, CRC
 * taken as it goes), and the first byte past `declared` stops it. So a bomb
 * costs at most its declared size, never what it would inflate to.
 */
function inflateBounded(compressed: Uint8Array, declared: number, hooks: InflateHooks): Promise<{ data: Uint8Array; crc: number }> {
  const out = new Uint8Array(declared);
  let filled = 0;
  let crc = 0;
  const inflate = zlib.createInflateRaw({ chunkSize: INFLATE_CHUNK_BYTES });
  return new Promise<{ data: Uint8Array; crc: number }>((resolve, reject) => {
    let settled = false;
    const finish = (error?: BootcardError) => {
      if (settled) return;
      settled = true;
      hooks.signal?.removeEventListener('abort', onAbort);
      if (error) {
        inflate.destroy();
        reject(error);
      } else resolve({ data: out.subarray(0, filled), crc });
    };
    const onAbort = () => finish(new BootcardError(CommonErrorCode.CANCELLED, 'Reading the firmware zip was cancelled.'));
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    inflate.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (filled + chunk.length > declared) return finish(hooks.tooLarge());
      out.set(chunk, filled);
      filled += chunk.length;
      crc = zlib.crc32(chunk, crc);
    });
    inflate.on('error', (error: Error) => finish(hooks.damaged(error)));
    inflate.on('end', () => finish());
    inflate.end(compressed);
  });
}

/** Reads every file of a firmware zip. Directories are implied by the files' paths. */
export async function readFirmwareZip(zipPath: string, options: ReadFirmwareOptions): Promise<FirmwareFile[]> {
  const source = path.basename(zipPath);
  const zip = await openInputFile(zipPath, { what: 'firmware zip', maxBytes: maxZipBytes(options.partitionSize), ...(options.signal ? { signal: options.signal } : {}) });
  try {
    const location = await readLocation(zip, source);
    const directory = await readAt(zip, location.directoryOffset, location.directorySize, source);
    const entries: { path: string; entry: ZipEntry }[] = [];
    let total = 0;
    for (const entry of parseCentralDirectory(directory, location, source)) {
      const entryPath = checkArchivePath(entry.name, source);
      const host = entry.versionMadeBy >> 8;
      const mode = (entry.externalAttributes >>> 16) & S_IFMT;
      if (host === ZIP_HOST_UNIX && mode === S_IFLNK) {
        throw new BootcardError(
          CardErrorCode.LINK_IN_ARCHIVE,
          `${source} was not used: its entry "${entry.name}" is a symbolic link, which a firmware zip never contains.`,
          { entry: entry.name },
        );
      }
      if ((/\/$/.test(entry.name) && entry.uncompressedSize === 0) || entryPath === '') continue;
      total += entry.uncompressedSize;
      entries.push({ path: entryPath, entry });
    }
    checkPftfFileNames(entries.map((e) => e.path), source);
    checkFirmwareFits(total, options.partitionSize, source);
    const files: FirmwareFile[] = [];
    for (const { path: p, entry } of entries) {
      throwIfCancelled(options.signal, 'firmware zip');
      const data = await extractEntry(zip, entry, p, source, location.directoryOffset, options.signal);
      files.push({ path: p, data, mtime: Math.floor(entry.mtime.getTime() / 1000) });
    }
    return files;
  } catch (error) {
    throw toBootcardError(error, `Could not read the firmware zip ${zipPath}`);
  } finally {
    await zip.close();
  }
}

/** Reads an unpacked firmware folder; refuses links and anything but files and folders in it. */
export async function readFirmwareFolder(folder: string, options: ReadFirmwareOptions): Promise<FirmwareFile[]> {
  const source = folder;
  const signal = options.signal;
  const found: { rel: string; full: string; size: number; mtime: number }[] = [];
  const notAFirmwareFile = (r: string, what: string) =>
    new BootcardError(CardErrorCode.NOT_PFTF_FIRMWARE, `${source} was not used: "${r}" is ${what}, which the firmware never contains.`, { entry: r });
  const walk = async (dir: string, rel: string, depth: number) => {
    if (depth > MAX_FOLDER_DEPTH) throw notAFirmwareFile(rel, `nested more than ${MAX_FOLDER_DEPTH} folders deep`);
    for (const name of (await readdir(dir)).sort()) {
      throwIfCancelled(signal, 'firmware folder');
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(full);
      if (st.isSymbolicLink()) {
        throw new BootcardError(CardErrorCode.LINK_IN_ARCHIVE, `${source} was not used: "${r}" is a symbolic link, which the firmware never contains.`, { entry: r });
      }
      if (st.isDirectory()) await walk(full, r, depth + 1);
      else if (st.isFile()) found.push({ rel: r, full, size: st.size, mtime: Math.floor(st.mtimeMs / 1000) });
      else throw notAFirmwareFile(r, st.isFIFO() ? 'a named pipe (FIFO)' : st.isSocket() ? 'a socket' : 'a device node');
      if (found.length > MAX_FIRMWARE_ENTRIES) {
        throw new BootcardError(CardErrorCode.TOO_MANY_ENTRIES, `${source} was not used: it holds more than ${MAX_FIRMWARE_ENTRIES} files, far more than a firmware. Name the unpacked firmware folder itself.`, { max: MAX_FIRMWARE_ENTRIES });
      }
    }
  };
  try {
    await walk(folder, '', 0);
  } catch (error) {
    throw toBootcardError(error, `Could not read the firmware folder ${folder}`);
  }
  checkPftfFileNames(found.map((f) => f.rel), source);
  checkFirmwareFits(found.reduce((s, f) => s + f.size, 0), options.partitionSize, source);
  const files: FirmwareFile[] = [];
  let remaining = options.partitionSize;
  for (const f of found) {
    // Opened without following a link and checked on the handle: an entry swapped for a FIFO or a link since the walk is refused.
    const data = await readInputFile(f.full, { what: 'firmware file', maxBytes: Math.min(f.size, remaining), noFollow: true, ...(signal ? { signal } : {}) });
    remaining -= data.length;
    files.push({ path: f.rel, data, mtime: f.mtime });
  }
  return files;
}

/** A zip file or an unpacked folder (checked on the opened handle: a FIFO or device is refused at once). */
export async function readFirmwareSource(source: string, options: ReadFirmwareOptions): Promise<FirmwareFile[]> {
  const kind = await inputKind(source, { what: 'firmware', ...(options.signal ? { signal: options.signal } : {}) });
  return kind === 'folder' ? readFirmwareFolder(source, options) : readFirmwareZip(source, options);
}
