/**
 * The Raspberry Pi 4/5 bootloader SPI flash image (`pieeprom.bin`): parse its
 * section chain, read its modifiable files, and replace one of them with
 * exactly the bytes `rpi-eeprom-config` (raspberrypi/rpi-eeprom) writes.
 *
 * Format (all integers big-endian unless noted):
 *
 *   image      = 512 KiB (BCM2711, Pi 4 family) or 2 MiB (BCM2712, Pi 5 family)
 *   section    = magic:u32  length:u32  payload[length]   then 0xff up to the next 8-byte boundary
 *                (the next section starts at align8(offset + 8 + length))
 *   magic      = any value with (magic & 0xfffff00f) == 0x55aaf00f
 *                0x55aaf00f first-stage code       0x55aaf33f / 0x55aaf44f (compressed) stages, firmware
 *                0x55aafeef padding (payload all 0xff)
 *                0x55aaf11f modifiable file:
 *                   name[12] (NUL padded: bootconf.txt, bootconf.sig, pubkey.bin, cacert.der, updatetime, bootsys)
 *                   reserved[4] (zero)
 *                   content[length - 16]
 *   end        = a magic of 0x00000000 or 0xffffffff ends the chain; any other
 *                value that fails the mask means the image is corrupt.
 *   last 4 KiB = reserved for the bootloader (scratch page): nothing is ever
 *                written there except by the 4-byte overrun rpi-eeprom-config allows.
 *
 * Layouts seen in real images:
 *   - 2711 2019-2020: code, padding, stages, then bootconf.txt last at 0x50000.
 *   - 2711 2021+: ... updatetime, pubkey.bin, cacert.der, bootconf.sig,
 *     bootconf.txt (last), each file starting its own padded slot.
 *   - 2712: a boot stage and `updatetime` in [0, 0x10000), slot A from 0x10000
 *     (bootsys, firmware, the modifiable files, bootconf.txt followed by
 *     padding up to 0x107000) and slot B [0x107000, 0x1fe000) as one padding
 *     section (the A/B layout).
 *
 * Replacing a file (rpi-eeprom-config `update()`):
 *   - only a file whose header lies in the first partition [64 KiB,
 *     64 KiB + 988 KiB) is replaced (the A/B images' read-only section is not);
 *   - boundary = the start of the next section after the file that is not
 *     padding, else the end of that partition or the image size minus the
 *     4 KiB reserved page, whichever comes first; so the unused B slot of a
 *     2712 A/B image is never swallowed, and rewriting a 2712 image's own
 *     config gives back the same image byte for byte.
 *   - refuse if offset + len + 20 > image size - 4096 ("No space available")
 *     or offset + len + 20 > boundary ("larger than section size");
 *   - length field := len + 16; content at offset + 24;
 *   - 0xff up to the next 8-byte boundary; then, unless the file is the last
 *     section, a padding section header (0x55aafeef, boundary - here - 8) when
 *     at least 8 bytes remain; 0xff up to the boundary.
 *   - files other than keys may not exceed 4076 bytes (one 4 KiB erase sector
 *     minus the 20-byte header).
 *
 * This module is pure: bytes in, bytes out.
 */
import { BootcardError } from '../errors.js';
import { EepromErrorCode } from './codes.js';

export type Board = '2711' | '2712';

export const IMAGE_SIZE_BY_BOARD: Readonly<Record<Board, number>> = { '2711': 512 * 1024, '2712': 2 * 1024 * 1024 };
export const SECTION_MAGIC = 0x55aaf00f;
export const SECTION_MAGIC_MASK = 0xfffff00f;
export const FILE_MAGIC = 0x55aaf11f;
export const PAD_MAGIC = 0x55aafeef;
/** Section header: magic + length. */
export const SECTION_HEADER_LEN = 8;
/** What rpi-eeprom-config calls FILE_HDR_LEN: magic + length + name. */
export const FILE_HDR_LEN = 20;
export const FILENAME_LEN = 12;
/** magic + length + name + 4 reserved bytes: where a file's content starts. */
export const FILE_CONTENT_OFFSET = 24;
export const ERASE_SECTOR_SIZE = 4096;
/** The read-only section at the start of an A/B image, and the partition after it that updates write. */
export const READ_ONLY_SIZE = 64 * 1024;
export const PARTITION_SIZE = 988 * 1024;
/** Reserved for the bootloader at the end of every image. */
export const RESERVED_TAIL_SIZE = ERASE_SECTOR_SIZE;
/** The largest modifiable file rpi-eeprom-config accepts (4096 - 20). */
export const MAX_FILE_SIZE = ERASE_SECTOR_SIZE - FILE_HDR_LEN;
export const MAX_BOOTCONF_SIZE = MAX_FILE_SIZE;

export const BOOTCONF_TXT = 'bootconf.txt';
export const BOOTCONF_SIG = 'bootconf.sig';
export const PUBKEY_BIN = 'pubkey.bin';
export const UPDATE_TIME = 'updatetime';
export const CACERT_DER = 'cacert.der';
export const BOOTSYS = 'bootsys';
/** The files rpi-eeprom-config can replace. */
export const MODIFIABLE_FILES: readonly string[] = [BOOTCONF_TXT, BOOTCONF_SIG, PUBKEY_BIN, CACERT_DER];

export interface EepromSection {
  readonly offset: number;
  readonly magic: number;
  readonly length: number;
  /** File name for modifiable-file sections, else ''. */
  readonly name: string;
  readonly kind: 'file' | 'padding' | 'code';
}

export interface EepromFileEntry {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  /** Largest content that fits where this file is (what replacing it allows). */
  readonly capacity: number;
}

export interface EepromImage {
  readonly board: Board;
  readonly size: number;
  readonly sections: readonly EepromSection[];
  readonly files: readonly EepromFileEntry[];
  /** Where the section chain ends (first byte after the last section). */
  readonly chainEnd: number;
}

const textDecoder = new TextDecoder('utf-8');

function u32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

function putU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}

const align8 = (n: number) => (n + 7) & ~7;

/** The board an image is for, from its size (the only thing rpi-eeprom-config checks). */
export function boardForImageSize(size: number): Board {
  if (size === IMAGE_SIZE_BY_BOARD['2711']) return '2711';
  if (size === IMAGE_SIZE_BY_BOARD['2712']) return '2712';
  throw new BootcardError(
    EepromErrorCode.BAD_IMAGE_SIZE,
    `Not a bootloader EEPROM image: it is ${size} bytes, but a Pi 4 (BCM2711) pieeprom.bin is 524288 bytes and a Pi 5 (BCM2712) one is 2097152 bytes. Use a pieeprom-*.bin from the rpi-eeprom releases.`,
    { size },
  );
}

function fileName(bytes: Uint8Array, offset: number): string {
  // rpi-eeprom-config drops every NUL; names are NUL padded at the end.
  return textDecoder.decode(bytes.subarray(offset + SECTION_HEADER_LEN, offset + FILE_HDR_LEN)).split('\0').join('');
}

/** Parses the section chain. Throws EEPROM_BAD_IMAGE_SIZE or EEPROM_CORRUPT. */
export function parseEepromImage(bytes: Uint8Array): EepromImage {
  const board = boardForImageSize(bytes.length);
  const size = bytes.length;
  const sections: EepromSection[] = [];
  let offset = 0;
  while (offset < size) {
    if (offset + SECTION_HEADER_LEN > size) break;
    const magic = u32(bytes, offset);
    const length = u32(bytes, offset + 4);
    if (magic === 0 || magic === 0xffffffff) break;
    if (((magic & SECTION_MAGIC_MASK) >>> 0) !== SECTION_MAGIC) {
      throw corrupt(offset, `bytes 0x${magic.toString(16).padStart(8, '0')} where a section header was expected`);
    }
    if (offset + SECTION_HEADER_LEN + length > size) {
      throw corrupt(offset, `a section of ${length} bytes runs past the end of the ${size}-byte image`);
    }
    let kind: EepromSection['kind'] = 'code';
    let name = '';
    if (magic === FILE_MAGIC) {
      if (length < FILENAME_LEN + 4) throw corrupt(offset, `a file section of only ${length} bytes`);
      kind = 'file';
      name = fileName(bytes, offset);
    } else if (magic === PAD_MAGIC) {
      kind = 'padding';
    }
    sections.push({ offset, magic, length, name, kind });
    offset = align8(offset + SECTION_HEADER_LEN + length);
  }
  if (sections.length === 0) throw corrupt(0, 'no section header at the start of the image');
  const last = sections[sections.length - 1]!;
  const chainEnd = last.offset + SECTION_HEADER_LEN + last.length;
  const image: EepromImage = { board, size, sections, files: [], chainEnd };
  const files: EepromFileEntry[] = [];
  sections.forEach((s, i) => {
    if (s.kind !== 'file') return;
    const slot = fileSlot(image, i);
    files.push({ name: s.name, offset: s.offset, size: s.length - FILENAME_LEN - 4, capacity: slot.capacity });
  });
  return { ...image, files };
}

function corrupt(offset: number, what: string): BootcardError {
  return new BootcardError(
    EepromErrorCode.CORRUPT,
    `The EEPROM image is corrupt: ${what} at offset 0x${offset.toString(16)}. Use an unmodified pieeprom-*.bin from the rpi-eeprom releases.`,
    { offset },
  );
}

interface FileSlot {
  readonly offset: number;
  readonly length: number;
  readonly isLast: boolean;
  /** Where the replacement's padding stops. */
  readonly boundary: number;
  /** Largest content both rpi-eeprom-config and bootcard accept here, ignoring the 4076-byte file limit. */
  readonly room: number;
  /** The same, capped at the 4076-byte file limit. */
  readonly capacity: number;
}

function fileSlot(image: Pick<EepromImage, 'sections' | 'size'>, index: number): FileSlot {
  const { sections, size } = image;
  const s = sections[index]!;
  const isLast = index === sections.length - 1;
  // rpi-eeprom-config's find_file: the next section that is not padding, else
  // the end of the first partition or the reserved page, whichever is first
  // (so the unused B slot of a Pi 5 A/B image is never swallowed).
  let boundary = Math.min(size - RESERVED_TAIL_SIZE, READ_ONLY_SIZE + PARTITION_SIZE);
  for (let i = index + 1; i < sections.length; i++) {
    const next = sections[i]!;
    if (next.magic !== PAD_MAGIC) {
      boundary = next.offset;
      break;
    }
  }
  // rpi-eeprom-config's checks count a 20-byte header, but the content starts
  // at +24. Where another section follows, those 4 bytes would overwrite its
  // header, so bootcard refuses them; at the end of the chain they land in
  // padding or the reserved page, as with rpi-eeprom-config.
  const limit = Math.min(boundary, size - RESERVED_TAIL_SIZE);
  const headerCost = isLast ? FILE_HDR_LEN : FILE_CONTENT_OFFSET;
  const room = Math.max(0, limit - s.offset - headerCost);
  return { offset: s.offset, length: s.length, isLast, boundary, room, capacity: Math.min(MAX_FILE_SIZE, room) };
}

/** The first file called `name` whose header lies in [from, to) (rpi-eeprom-config's partition_start/end). */
function findFileIndex(image: EepromImage, name: string, from = 0, to = Infinity): number {
  return image.sections.findIndex((s) => s.kind === 'file' && s.name === name && s.offset >= from && s.offset < to);
}

/** The file `name` that replacing writes (in the first partition), if the image has one. */
export function replaceableFile(image: EepromImage, name: string): EepromFileEntry | undefined {
  const index = findFileIndex(image, name, READ_ONLY_SIZE, READ_ONLY_SIZE + PARTITION_SIZE);
  return index < 0 ? undefined : image.files.find((f) => f.offset === image.sections[index]!.offset);
}

function missingFile(name: string, image: EepromImage): BootcardError {
  const have = image.files.map((f) => f.name).join(', ') || 'none';
  return new BootcardError(
    EepromErrorCode.FILE_NOT_IN_IMAGE,
    `This EEPROM image has no ${name} (its files: ${have}). Use a newer pieeprom-*.bin.`,
    { name },
  );
}

/** The content of one modifiable file (a view into `bytes`). */
export function getEepromFile(bytes: Uint8Array, name: string, parsed?: EepromImage): Uint8Array {
  const image = parsed ?? parseEepromImage(bytes);
  const index = findFileIndex(image, name);
  if (index < 0) throw missingFile(name, image);
  const s = image.sections[index]!;
  const start = s.offset + FILE_CONTENT_OFFSET;
  return bytes.subarray(start, start + s.length - FILENAME_LEN - 4);
}

/** The content of the file `entry` describes (a copy). */
export function getEepromFileAt(bytes: Uint8Array, entry: EepromFileEntry): Uint8Array {
  const start = entry.offset + FILE_CONTENT_OFFSET;
  return bytes.slice(start, start + entry.size);
}

/** bootconf.txt exactly as stored, decoded as UTF-8 (what `rpi-eeprom-config IMAGE` prints). */
export function readBootConfBytes(bytes: Uint8Array, parsed?: EepromImage): Uint8Array {
  return getEepromFile(bytes, BOOTCONF_TXT, parsed);
}

export function readBootConf(bytes: Uint8Array, parsed?: EepromImage): string {
  const raw = readBootConfBytes(bytes, parsed);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new BootcardError(
      EepromErrorCode.CONFIG_NOT_TEXT,
      'The bootloader config in this image is not UTF-8 text; use `bootcard eeprom extract` to get its raw bytes.',
    );
  }
}

/** How many bytes of bootconf.txt this image can hold (never more than 4076). */
export function bootConfCapacity(image: EepromImage): number {
  const entry = image.files.find((f) => f.name === BOOTCONF_TXT);
  if (!entry) throw missingFile(BOOTCONF_TXT, image);
  return entry.capacity;
}

export interface ReplaceFileOptions {
  /** Enforce the 4076-byte limit rpi-eeprom-config applies to files it reads from disk (not to keys). */
  readonly enforceMaxFileSize?: boolean;
}

/**
 * Returns a new image with `name` replaced by `content`, byte for byte as
 * rpi-eeprom-config writes it. `bytes` is not modified.
 */
export function replaceEepromFile(bytes: Uint8Array, name: string, content: Uint8Array, options: ReplaceFileOptions = {}, parsed?: EepromImage): Uint8Array {
  const image = parsed ?? parseEepromImage(bytes);
  const out = bytes.slice();
  replaceEepromFileInPlace(out, image, name, content, options);
  return out;
}

/**
 * The same, writing into `out` (which must hold the image `image` describes).
 * Checks everything before writing a byte.
 */
export function replaceEepromFileInPlace(out: Uint8Array, image: EepromImage, name: string, content: Uint8Array, options: ReplaceFileOptions = {}): { start: number; end: number } {
  const enforce = options.enforceMaxFileSize ?? true;
  if (enforce && content.length > MAX_FILE_SIZE) {
    throw new BootcardError(
      name === BOOTCONF_TXT ? EepromErrorCode.CONFIG_TOO_LARGE : EepromErrorCode.FILE_TOO_LARGE,
      `${name} is too large (${content.length} bytes). The maximum size is ${MAX_FILE_SIZE} bytes; remove ${content.length - MAX_FILE_SIZE} bytes (comments and blank lines count).`,
      { name, size: content.length, max: MAX_FILE_SIZE },
    );
  }
  // Like rpi-eeprom-config, only files of the first partition are replaced.
  const index = findFileIndex(image, name, READ_ONLY_SIZE, READ_ONLY_SIZE + PARTITION_SIZE);
  if (index < 0) throw missingFile(name, image);
  const slot = fileSlot(image, index);
  const updateLen = content.length + FILE_HDR_LEN;
  const noSpace = (available: number) =>
    new BootcardError(
      name === BOOTCONF_TXT ? EepromErrorCode.NO_SPACE : EepromErrorCode.FILE_TOO_LARGE,
      `No space for ${name} in this image: it is ${content.length} bytes but only ${available} bytes are free there. Remove ${content.length - available} bytes (comments and blank lines count), or use an image with more room.`,
      { name, size: content.length, free: available },
    );
  const available = enforce ? slot.capacity : slot.room;
  if (slot.offset + updateLen > image.size - RESERVED_TAIL_SIZE) throw noSpace(available);
  if (slot.offset + updateLen > slot.boundary) throw noSpace(available);
  if (content.length > slot.room) throw noSpace(available);

  const hdr = slot.offset;
  putU32(out, hdr + 4, content.length + FILENAME_LEN + 4);
  out.set(content, hdr + FILE_CONTENT_OFFSET);
  let padStart = hdr + FILE_CONTENT_OFFSET + content.length;
  while (padStart % 8 !== 0) out[padStart++] = 0xff;
  let padBytes = slot.boundary - padStart;
  // rpi-eeprom-config: `pad_bytes >= 8`; exactly 8 gives a padding header of length 0.
  if (padBytes >= SECTION_HEADER_LEN && !slot.isLast) {
    padBytes -= SECTION_HEADER_LEN;
    putU32(out, padStart, PAD_MAGIC);
    putU32(out, padStart + 4, padBytes);
    padStart += SECTION_HEADER_LEN;
  }
  if (padBytes > 0) out.fill(0xff, padStart, padStart + padBytes);
  // The byte range written, so a caller reusing `out` knows what to restore.
  return { start: hdr, end: Math.max(padStart + Math.max(padBytes, 0), hdr + FILE_CONTENT_OFFSET + content.length) };
}

/**
 * The bootloader's public-key format (pubkey.bin), as rpi-eeprom-config's
 * pemtobin writes it: the RSA-2048 modulus as 256 little-endian bytes, then the
 * public exponent as 8 little-endian bytes.
 */
export const PUBKEY_BIN_SIZE = 264;
export function rsaPublicKeyToBin(modulusBigEndian: Uint8Array, exponentBigEndian: Uint8Array): Uint8Array {
  let n = modulusBigEndian;
  while (n.length > 0 && n[0] === 0) n = n.subarray(1);
  if (n.length !== 256 || (n[0]! & 0x80) === 0) {
    throw new BootcardError(EepromErrorCode.BAD_KEY, `The RSA key must be 2048 bits (it is ${n.length * 8 - (n.length ? Math.clz32(n[0]!) - 24 : 0)}); the bootloader only verifies RSA-2048 signatures.`);
  }
  let e = exponentBigEndian;
  while (e.length > 0 && e[0] === 0) e = e.subarray(1);
  if (e.length === 0 || e.length > 8) throw new BootcardError(EepromErrorCode.BAD_KEY, 'The RSA public exponent does not fit in 8 bytes.');
  const out = new Uint8Array(PUBKEY_BIN_SIZE);
  for (let i = 0; i < 256; i++) out[i] = n[255 - i]!;
  for (let i = 0; i < e.length; i++) out[256 + i] = e[e.length - 1 - i]!;
  return out;
}

/**
 * The update timestamp (seconds since 1970), written where rpi-eeprom-config
 * `--timestamp` writes it (rpi-eeprom-update passes it on every update; the
 * bootloader compares a self-update's `ts:` against it):
 *   - an `updatetime` file in the read-only first 64 KiB (the A/B Pi 5
 *     images, those with `bootsys`): `~ts` then `ts`, two little-endian u32,
 *     at the start of its content, and the same in the `updatetime` of the
 *     first partition [64 KiB, 64 KiB + 988 KiB);
 *   - otherwise (every Pi 4 image, Pi 5 images before the A/B layout): `ts`
 *     little-endian in the image's last 4 bytes and `~ts` in the 4 before.
 * Neither changes a section length, so the rest of the image is untouched.
 */
export const UPDATE_TIMESTAMP_LEN = 8;

export type UpdateTimestampPlace =
  | { readonly kind: 'updatetime'; readonly offsets: readonly [number, number] }
  | { readonly kind: 'tail'; readonly offsets: readonly [number] };

export function updateTimestampPlace(image: EepromImage): UpdateTimestampPlace {
  const readOnly = findFileIndex(image, UPDATE_TIME, 0, READ_ONLY_SIZE);
  if (readOnly < 0) return { kind: 'tail', offsets: [image.size - UPDATE_TIMESTAMP_LEN] };
  const partition = findFileIndex(image, UPDATE_TIME, READ_ONLY_SIZE, READ_ONLY_SIZE + PARTITION_SIZE);
  if (partition < 0) {
    throw new BootcardError(
      EepromErrorCode.CORRUPT,
      'The EEPROM image has an updatetime file in its read-only section but none in its first partition (rpi-eeprom-config: "Failed to find update time file in partition"). Use an unmodified pieeprom-*.bin from the rpi-eeprom releases.',
    );
  }
  const content = (i: number) => image.sections[i]!.offset + FILE_CONTENT_OFFSET;
  return { kind: 'updatetime', offsets: [content(readOnly), content(partition)] };
}

/** The 8 bytes rpi-eeprom-config writes: ~ts then ts, little-endian. */
export function encodeUpdateTimestamp(timestamp: number): Uint8Array {
  const ts = timestamp >>> 0;
  const out = new Uint8Array(UPDATE_TIMESTAMP_LEN);
  const view = new DataView(out.buffer);
  view.setUint32(0, ~ts >>> 0, true);
  view.setUint32(4, ts, true);
  return out;
}

/** Writes the timestamp into `out`; returns the byte ranges written. */
export function setUpdateTimestampInPlace(out: Uint8Array, image: EepromImage, timestamp: number): { start: number; end: number }[] {
  const bytes = encodeUpdateTimestamp(timestamp);
  return updateTimestampPlace(image).offsets.map((offset) => {
    out.set(bytes, offset);
    return { start: offset, end: offset + UPDATE_TIMESTAMP_LEN };
  });
}

/**
 * The update timestamp an image carries, or undefined where none is set (the
 * two words are not each other's complement, e.g. erased flash, or the
 * updatetime files' shipped 00000000 ffffffff, which reads as ts 0xffffffff).
 */
export function readUpdateTimestamp(bytes: Uint8Array, parsed?: EepromImage): number | undefined {
  const image = parsed ?? parseEepromImage(bytes);
  const offset = updateTimestampPlace(image).offsets[0];
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, UPDATE_TIMESTAMP_LEN);
  const inverted = view.getUint32(0, true);
  const ts = view.getUint32(4, true);
  if ((~ts >>> 0) !== inverted || ts === 0xffffffff) return undefined;
  return ts;
}

const BUILD_TIMESTAMP_TAG = new TextEncoder().encode('BUILD_TIMESTAMP=');
const buildTimestamps = new WeakMap<Uint8Array, number | null>();

/** When the bootloader in this image was built (its BUILD_TIMESTAMP= string, as rpi-eeprom-update reads it). */
export function readBuildTimestamp(bytes: Uint8Array): number | undefined {
  const cached = buildTimestamps.get(bytes);
  if (cached !== undefined) return cached ?? undefined;
  let found: number | null = null;
  const first = BUILD_TIMESTAMP_TAG[0]!;
  for (let i = bytes.indexOf(first); i >= 0 && i + BUILD_TIMESTAMP_TAG.length < bytes.length; i = bytes.indexOf(first, i + 1)) {
    let match = true;
    for (let j = 1; j < BUILD_TIMESTAMP_TAG.length && match; j++) match = bytes[i + j] === BUILD_TIMESTAMP_TAG[j];
    if (!match) continue;
    let k = i + BUILD_TIMESTAMP_TAG.length;
    let value = 0;
    while (k < bytes.length && bytes[k]! >= 0x30 && bytes[k]! <= 0x39 && k - i < 40) value = value * 10 + (bytes[k++]! - 0x30);
    if (k > i + BUILD_TIMESTAMP_TAG.length) {
      found = value;
      break;
    }
  }
  buildTimestamps.set(bytes, found);
  return found ?? undefined;
}
