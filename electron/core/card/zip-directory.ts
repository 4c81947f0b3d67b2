/**
 * The central directory of a zip file, read from bytes (no I/O): where the
 * directory is (end-of-central-directory record, ZIP64 too), how many entries
 * it claims (checked against a cap before any entry is parsed), and each
 * entry's name, sizes, method, CRC and local-header offset.
 *
 * A zip is hostile input: every size and offset is checked against the file
 * before it is used, and names are refused rather than changed when they are
 * not what the archive says they are (invalid UTF-8, or non-ASCII without the
 * UTF-8 flag, which every tool would decode differently).
 */
import { BootcardError } from '../errors.js';
import { CardErrorCode } from './errors.js';

export const EOCD_SIGNATURE = 0x06054b50;
export const ZIP64_EOCD_SIGNATURE = 0x06064b50;
export const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
export const CENTRAL_HEADER_SIGNATURE = 0x02014b50;
export const LOCAL_HEADER_SIGNATURE = 0x04034b50;
export const EOCD_SIZE = 22;
export const ZIP64_LOCATOR_SIZE = 20;
export const ZIP64_EOCD_MIN_SIZE = 56;
export const CENTRAL_HEADER_SIZE = 46;
export const LOCAL_HEADER_SIZE = 30;
/** The EOCD is at most this far from the end (its comment is at most 65535 bytes). */
export const EOCD_SEARCH_BYTES = EOCD_SIZE + 0xffff;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
const ZIP64_EXTRA_ID = 0x0001;
export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export interface ZipLocation {
  readonly entryCount: number;
  readonly directoryOffset: number;
  readonly directorySize: number;
}

export interface ZipEntry {
  /** The name as the archive stores it (decoded; see the module comment). */
  readonly name: string;
  readonly nameBytes: Uint8Array;
  readonly versionMadeBy: number;
  readonly flags: number;
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly externalAttributes: number;
  readonly localHeaderOffset: number;
  /** From the DOS date and time fields, read as UTC (as unzipper did). */
  readonly mtime: Date;
}

export interface ZipLimits {
  /** More entries than this is refused before the directory is parsed. */
  readonly maxEntries: number;
  /** A central directory larger than this is refused before it is read. */
  readonly maxDirectoryBytes: number;
}

const damaged = (archive: string, why: string, details: Record<string, unknown> = {}) =>
  new BootcardError(CardErrorCode.BAD_ARCHIVE, `${archive} is not a readable zip file (${why}). Download it again.`, details);

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Finds the central directory from the file's last bytes (`tail`, which ends
 * at `fileSize`). Refuses an archive that claims more than `limits` allow
 * before anything else is read.
 */
export function locateCentralDirectory(tail: Uint8Array, fileSize: number, archive: string, limits: ZipLimits): ZipLocation & { readonly zip64LocatorAt?: number } {
  const dv = view(tail);
  const tailStart = fileSize - tail.length;
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_SIZE + dv.getUint16(i + 20, true) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw damaged(archive, 'no end-of-central-directory record: not a zip, or cut short');
  const disk = dv.getUint16(at + 4, true);
  const directoryDisk = dv.getUint16(at + 6, true);
  const entriesOnDisk = dv.getUint16(at + 8, true);
  const entryCount = dv.getUint16(at + 10, true);
  const directorySize = dv.getUint32(at + 12, true);
  const directoryOffset = dv.getUint32(at + 16, true);
  const zip64 = entryCount === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff;
  if (!zip64 && (disk !== 0 || directoryDisk !== 0 || entriesOnDisk !== entryCount)) throw damaged(archive, 'a multi-part (spanned) zip');
  const location = zip64
    ? { zip64LocatorAt: tailStart + at - ZIP64_LOCATOR_SIZE, entryCount: 0, directoryOffset: 0, directorySize: 0 }
    : { entryCount, directoryOffset, directorySize };
  if (!zip64) checkLocation(location, tailStart + at, archive, limits);
  return location;
}

/** Reads the ZIP64 locator (20 bytes before the EOCD) for where the ZIP64 EOCD record is. */
export function zip64RecordOffset(locator: Uint8Array, archive: string): number {
  const dv = view(locator);
  if (locator.length < ZIP64_LOCATOR_SIZE || dv.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) throw damaged(archive, 'a ZIP64 archive without its ZIP64 locator');
  if (dv.getUint32(16, true) !== 1) throw damaged(archive, 'a multi-part (spanned) zip');
  return safeNumber(dv.getBigUint64(8, true), archive);
}

/** Reads the ZIP64 end-of-central-directory record found at `recordOffset`. */
export function readZip64Record(record: Uint8Array, recordOffset: number, archive: string, limits: ZipLimits): ZipLocation {
  const dv = view(record);
  if (record.length < ZIP64_EOCD_MIN_SIZE || dv.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) throw damaged(archive, 'its ZIP64 end record is missing');
  const entriesOnDisk = safeNumber(dv.getBigUint64(24, true), archive);
  const entryCount = safeNumber(dv.getBigUint64(32, true), archive);
  if (dv.getUint32(16, true) !== 0 || dv.getUint32(20, true) !== 0 || entriesOnDisk !== entryCount) throw damaged(archive, 'a multi-part (spanned) zip');
  const location = { entryCount, directorySize: safeNumber(dv.getBigUint64(40, true), archive), directoryOffset: safeNumber(dv.getBigUint64(48, true), archive) };
  checkLocation(location, recordOffset, archive, limits);
  return location;
}

function checkLocation(location: ZipLocation, directoryEnd: number, archive: string, limits: ZipLimits): void {
  if (location.entryCount > limits.maxEntries) {
    throw new BootcardError(
      CardErrorCode.TOO_MANY_ENTRIES,
      `${archive} was not used: it has ${location.entryCount} entries, far more than a firmware archive (at most ${limits.maxEntries}). Use the firmware zip from the pftf/RPi4 releases page.`,
      { entries: location.entryCount, max: limits.maxEntries },
    );
  }
  if (location.directorySize > limits.maxDirectoryBytes) {
    throw damaged(archive, `its central directory is ${location.directorySize} bytes, far more than a firmware archive needs`, { directorySize: location.directorySize });
  }
  if (location.directoryOffset + location.directorySize > directoryEnd) throw damaged(archive, 'its central directory lies outside the file');
  if (location.directorySize < location.entryCount * CENTRAL_HEADER_SIZE) throw damaged(archive, 'its central directory is shorter than its entries');
}

function safeNumber(value: bigint, archive: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged(archive, 'a size or offset beyond any real file');
  return Number(value);
}

/** The name shown in messages for bytes that are not a valid name: ASCII kept, other bytes as \xNN. */
export function escapedName(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}

/** Decodes an entry name, refusing bytes that would silently become something else. */
export function decodeEntryName(bytes: Uint8Array, flags: number, archive: string): string {
  const refuse = (why: string, fix = 'Use the firmware zip from the pftf/RPi4 releases page.') =>
    new BootcardError(
      CardErrorCode.BAD_ENTRY_NAME,
      `${archive} was not used: the name of its entry "${escapedName(bytes)}" ${why}, so it cannot be copied to the card under its real name. ${fix}`,
      { entry: escapedName(bytes) },
    );
  if (flags & FLAG_UTF8) {
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      throw refuse('is marked UTF-8 but is not valid UTF-8');
    }
  }
  // Without the flag the encoding is unknown (CP437 by the spec, UTF-8 from Info-ZIP on Linux, a local code page from
  // others): any guess could put a different name on the card, so only ASCII is taken.
  if (bytes.some((b) => b >= 0x80)) throw refuse('is not ASCII and not marked UTF-8 (its encoding is unknown)', 'Use the firmware zip from the pftf/RPi4 releases page, the unpacked folder, or a zip that marks its names UTF-8 (7z, Python zipfile).');
  return String.fromCharCode(...bytes);
}

function dosDateTime(date: number, time: number): Date {
  return new Date(Date.UTC((date >> 9) + 1980, ((date >> 5) & 0x0f) - 1, date & 0x1f, time >> 11, (time >> 5) & 0x3f, (time & 0x1f) * 2));
}

/** Parses exactly `location.entryCount` entries from the central directory bytes, which must be used up exactly. */
export function parseCentralDirectory(directory: Uint8Array, location: ZipLocation, archive: string): ZipEntry[] {
  const dv = view(directory);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < location.entryCount; i++) {
    if (at + CENTRAL_HEADER_SIZE > directory.length || dv.getUint32(at, true) !== CENTRAL_HEADER_SIGNATURE) {
      throw damaged(archive, `entry ${i + 1} of ${location.entryCount} in its central directory is damaged`);
    }
    const flags = dv.getUint16(at + 8, true);
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    const end = at + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (end > directory.length) throw damaged(archive, `entry ${i + 1} of ${location.entryCount} runs past its central directory`);
    const nameBytes = directory.subarray(at + CENTRAL_HEADER_SIZE, at + CENTRAL_HEADER_SIZE + nameLength);
    const name = decodeEntryName(nameBytes, flags, archive);
    let compressedSize = dv.getUint32(at + 20, true);
    let uncompressedSize = dv.getUint32(at + 24, true);
    let localHeaderOffset = dv.getUint32(at + 42, true);
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      const extra = directory.subarray(at + CENTRAL_HEADER_SIZE + nameLength, at + CENTRAL_HEADER_SIZE + nameLength + extraLength);
      const zip64 = zip64Extra(extra, archive, name);
      // The ZIP64 extra field holds, in this order, only the fields whose 32-bit value is 0xFFFFFFFF.
      let k = 0;
      const next = () => {
        const v = zip64[k++];
        if (v === undefined) throw damaged(archive, `the ZIP64 sizes of "${name}" are missing`);
        return v;
      };
      if (uncompressedSize === 0xffffffff) uncompressedSize = next();
      if (compressedSize === 0xffffffff) compressedSize = next();
      if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
    }
    if (flags & FLAG_ENCRYPTED) {
      throw damaged(archive, `"${name}" is encrypted`);
    }
    entries.push({
      name,
      nameBytes: new Uint8Array(nameBytes),
      versionMadeBy: dv.getUint16(at + 4, true),
      flags,
      method: dv.getUint16(at + 10, true),
      crc32: dv.getUint32(at + 16, true),
      compressedSize,
      uncompressedSize,
      externalAttributes: dv.getUint32(at + 38, true),
      localHeaderOffset,
      mtime: dosDateTime(dv.getUint16(at + 14, true), dv.getUint16(at + 12, true)),
    });
    at = end;
  }
  if (at !== location.directorySize) throw damaged(archive, `its central directory holds more than the ${location.entryCount} entries it declares`);
  return entries;
}

function zip64Extra(extra: Uint8Array, archive: string, name: string): number[] {
  const dv = view(extra);
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = dv.getUint16(at, true);
    const size = dv.getUint16(at + 2, true);
    if (at + 4 + size > extra.length) break;
    if (id === ZIP64_EXTRA_ID) {
      const values: number[] = [];
      for (let v = at + 4; v + 8 <= at + 4 + size; v += 8) values.push(safeNumber(dv.getBigUint64(v, true), archive));
      return values;
    }
    at += 4 + size;
  }
  throw damaged(archive, `the ZIP64 sizes of "${name}" are missing`);
}

/** Where an entry's data starts, from its local header; the local name must be the central directory's. */
export function localDataOffset(header: Uint8Array, entry: ZipEntry, archive: string): number {
  const dv = view(header);
  if (header.length < LOCAL_HEADER_SIZE || dv.getUint32(0, true) !== LOCAL_HEADER_SIGNATURE) throw damaged(archive, `the local header of "${entry.name}" is missing`);
  const nameLength = dv.getUint16(26, true);
  const extraLength = dv.getUint16(28, true);
  const localName = header.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength);
  if (localName.length !== entry.nameBytes.length || localName.some((b, i) => b !== entry.nameBytes[i])) {
    throw damaged(archive, `the local header of "${entry.name}" names a different file`);
  }
  return entry.localHeaderOffset + LOCAL_HEADER_SIZE + nameLength + extraLength;
}

/**
 * The most compressed bytes an entry of `uncompressedSize` can honestly take:
 * deflate's worst case is stored blocks (5 bytes per 65535); anything larger
 * is refused before it is read.
 */
export function maxCompressedSize(uncompressedSize: number): number {
  return uncompressedSize + Math.ceil(uncompressedSize / 16384) * 5 + 1024;
}
