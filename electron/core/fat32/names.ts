/**
 * FAT file names: 8.3 short names, the NT case bits, and VFAT long file
 * name (LFN) entries.
 *
 * A short name is 11 bytes: 8 for the base, 3 for the extension, space padded,
 * upper case, from A-Z 0-9 and ! # $ % & ' ( ) - @ ^ _ ` { } ~. A name that is
 * a valid short name apart from case (all lower or all upper in each part) is
 * stored without an LFN, with byte 12 of the entry ("NTRes") saying which part
 * is lower case: this is what Linux vfat (shortname=mixed) and Windows do.
 * Every other name gets LFN entries before its short entry, and a generated
 * short name `BASE~N.EXT` unique in its folder.
 *
 * LFN entry (32 bytes), stored last-part-first before the short entry:
 *   0   ordinal (1-based; 0x40 marks the last, i.e. the first stored)
 *   1   characters 1-5  (UTF-16LE)
 *   11  attribute 0x0F
 *   12  type 0
 *   13  checksum of the short name
 *   14  characters 6-11
 *   26  first cluster, always 0
 *   28  characters 12-13
 * The name ends with 0x0000 (unless it fills the last entry exactly), then 0xFFFF.
 */
import { BootcardError } from '../errors.js';
import { FatErrorCode } from './errors.js';

export const DIR_ENTRY_SIZE = 32;
export const LFN_CHARS_PER_ENTRY = 13;
export const LFN_ATTRIBUTE = 0x0f;
export const LFN_LAST_ENTRY_FLAG = 0x40;
export const LFN_MAX_LENGTH = 255;
/** NTRes bits: the base / the extension is shown in lower case. */
export const NT_LOWERCASE_BASE = 0x08;
export const NT_LOWERCASE_EXT = 0x10;
/** Character offsets of the 13 UTF-16 characters inside an LFN entry. */
export const LFN_CHAR_OFFSETS = [1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30] as const;

const SHORT_SPECIALS = "!#$%&'()-@^_`{}~";
const LONG_FORBIDDEN = /[\u0000-\u001f"*/:<>?\\|\u007f]/;

function isShortChar(ch: string): boolean {
  return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || SHORT_SPECIALS.includes(ch);
}

/** Throws FAT_INVALID_NAME unless `name` is a file or folder name FAT can store. */
export function validateLongName(name: string, path: string): void {
  const fail = (why: string) => {
    throw new BootcardError(FatErrorCode.INVALID_NAME, `Cannot store "${path}" on a FAT card: ${why}.`, { path });
  };
  if (name.length === 0) fail('a folder or file name is empty');
  if (name === '.' || name === '..') fail('"." and ".." are not names');
  if (LONG_FORBIDDEN.test(name)) fail('names cannot contain control characters or any of " * / : < > ? \\ |');
  if (name.length > LFN_MAX_LENGTH) fail(`a name is longer than ${LFN_MAX_LENGTH} characters`);
  if (/[ .]$/.test(name)) fail('names cannot end in a space or a dot');
  if (name.startsWith(' ')) fail('names cannot start with a space');
}

/** Pads base and extension into the 11-byte short name form. */
export function shortNameBytes(base: string, ext: string): Uint8Array {
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length && i < 8; i++) out[i] = base.charCodeAt(i);
  for (let i = 0; i < ext.length && i < 3; i++) out[8 + i] = ext.charCodeAt(i);
  return out;
}

export interface ShortNameChoice {
  /** 11 bytes, space padded. */
  readonly short: Uint8Array;
  /** Key for uniqueness checks: the 11 bytes as a string. */
  readonly key: string;
  /** True when the long name must be stored in LFN entries. */
  readonly needsLfn: boolean;
  /** NTRes case bits when no LFN is needed. */
  readonly caseFlags: number;
}

/**
 * When the name is a valid 8.3 name apart from case, returns it as a short
 * name with case bits; otherwise null.
 */
export function exactShortName(name: string): ShortNameChoice | null {
  const dot = name.lastIndexOf('.');
  const base = dot === -1 ? name : name.slice(0, dot);
  const ext = dot === -1 ? '' : name.slice(dot + 1);
  if (base.length === 0 || base.length > 8 || ext.length > 3 || (dot !== -1 && ext.length === 0)) return null;
  const caseOf = (part: string): 'upper' | 'lower' | 'none' | 'mixed' => {
    const hasUpper = /[A-Z]/.test(part);
    const hasLower = /[a-z]/.test(part);
    return hasUpper && hasLower ? 'mixed' : hasLower ? 'lower' : hasUpper ? 'upper' : 'none';
  };
  const baseCase = caseOf(base);
  const extCase = caseOf(ext);
  if (baseCase === 'mixed' || extCase === 'mixed') return null;
  const upperBase = base.toUpperCase();
  const upperExt = ext.toUpperCase();
  if (![...upperBase].every(isShortChar) || ![...upperExt].every(isShortChar)) return null;
  const short = shortNameBytes(upperBase, upperExt);
  const caseFlags = (baseCase === 'lower' ? NT_LOWERCASE_BASE : 0) | (extCase === 'lower' ? NT_LOWERCASE_EXT : 0);
  return { short, key: String.fromCharCode(...short), needsLfn: false, caseFlags };
}

function shortPart(text: string): string {
  let out = '';
  for (const ch of text.toUpperCase()) {
    if (ch === ' ' || ch === '.') continue;
    out += isShortChar(ch) ? ch : '_';
  }
  return out;
}

/**
 * Chooses the short name for `name` in a folder whose short names are in
 * `taken` (upper-case 11-byte keys). Adds the choice to `taken`.
 */
export function chooseShortName(name: string, taken: Set<string>): ShortNameChoice {
  const exact = exactShortName(name);
  if (exact && !taken.has(exact.key)) {
    taken.add(exact.key);
    return exact;
  }
  const trimmed = name.replace(/^\.+/, '');
  const dot = trimmed.lastIndexOf('.');
  const base = shortPart(dot <= 0 ? trimmed : trimmed.slice(0, dot)) || '_';
  const ext = dot <= 0 ? '' : shortPart(trimmed.slice(dot + 1)).slice(0, 3);
  for (let n = 1; n < 1_000_000; n++) {
    const tail = `~${n}`;
    const short = shortNameBytes(base.slice(0, 8 - tail.length) + tail, ext);
    const key = String.fromCharCode(...short);
    if (!taken.has(key)) {
      taken.add(key);
      return { short, key, needsLfn: true, caseFlags: 0 };
    }
  }
  throw new BootcardError(FatErrorCode.DIRECTORY_FULL, `Too many names like "${name}" in one folder.`);
}

/** The checksum of an 11-byte short name, stored in each of its LFN entries. */
export function lfnChecksum(short: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = ((((sum & 1) << 7) | (sum >> 1)) + short[i]!) & 0xff;
  return sum;
}

export function lfnEntryCount(name: string): number {
  return Math.ceil(name.length / LFN_CHARS_PER_ENTRY);
}

/** Writes the LFN entries of `name` (in on-disk order) at `at` in `buf`; returns the offset after them. */
export function writeLfnEntries(buf: Uint8Array, at: number, name: string, short: Uint8Array): number {
  const count = lfnEntryCount(name);
  const checksum = lfnChecksum(short);
  for (let k = count; k >= 1; k--) {
    const e = at + (count - k) * DIR_ENTRY_SIZE;
    buf[e] = k | (k === count ? LFN_LAST_ENTRY_FLAG : 0);
    buf[e + 11] = LFN_ATTRIBUTE;
    buf[e + 12] = 0;
    buf[e + 13] = checksum;
    for (let c = 0; c < LFN_CHARS_PER_ENTRY; c++) {
      const index = (k - 1) * LFN_CHARS_PER_ENTRY + c;
      const code = index < name.length ? name.charCodeAt(index) : index === name.length ? 0x0000 : 0xffff;
      const o = e + LFN_CHAR_OFFSETS[c]!;
      buf[o] = code & 0xff;
      buf[o + 1] = code >> 8;
    }
  }
  return at + count * DIR_ENTRY_SIZE;
}

/** Reads the 13 characters of one LFN entry (stopping at the terminator). */
export function readLfnChars(entry: Uint8Array): string {
  let out = '';
  for (const o of LFN_CHAR_OFFSETS) {
    const code = entry[o]! | (entry[o + 1]! << 8);
    if (code === 0x0000 || code === 0xffff) break;
    out += String.fromCharCode(code);
  }
  return out;
}

/** The name a short entry shows, applying the NT case bits. */
export function shortNameToString(short: Uint8Array, caseFlags: number): string {
  const decode = (bytes: Uint8Array) => String.fromCharCode(...bytes).replace(/ +$/, '');
  let base = decode(short.subarray(0, 8));
  let ext = decode(short.subarray(8, 11));
  if (base.charCodeAt(0) === 0x05) base = `\u00e5${base.slice(1)}`;
  if (caseFlags & NT_LOWERCASE_BASE) base = base.toLowerCase();
  if (caseFlags & NT_LOWERCASE_EXT) ext = ext.toLowerCase();
  return ext ? `${base}.${ext}` : base;
}
