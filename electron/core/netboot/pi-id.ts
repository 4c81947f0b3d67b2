/**
 * Which TFTP folder a Pi asks for. The bootloader prefixes every file name
 * with a device-specific folder chosen by the EEPROM's TFTP_PREFIX
 * (raspberrypi/documentation, eeprom-bootloader.adoc):
 *   0 (default)  the serial number, 8 lower-case hex digits: `9ffefdef/`
 *   1            the string TFTP_PREFIX_STR, as written (max 32 characters): `tftp_test/`
 *   2            the MAC address, lower case with dashes: `dc-a6-32-01-36-c2/`
 * and clears the prefix (asks at the TFTP root) when neither start4.elf nor
 * start.elf is in that folder.
 */
import { BootcardError } from '../errors.js';
import { NetbootErrorCode } from './errors.js';

export type PiIdKind = 'serial' | 'string' | 'mac';

/** TFTP_PREFIX value the EEPROM needs for this kind of folder name. */
export const TFTP_PREFIX_MODE: Readonly<Record<PiIdKind, 0 | 1 | 2>> = { serial: 0, string: 1, mac: 2 };

/** TFTP_PREFIX_STR may be up to 32 characters, the trailing slash included. */
export const MAX_PREFIX_STR_LENGTH = 32;

export interface PiId {
  readonly kind: PiIdKind;
  /** The folder name under the TFTP root (no slash). */
  readonly folder: string;
  /** The text the user gave. */
  readonly input: string;
}

const MAC_RE = /^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/i;
const SERIAL_RE = /^[0-9a-f]{8}$/i;
/** /proc/cpuinfo prints 16 digits; the bootloader uses the last 8 (`cut -c 9-16` in the docs). */
const CPUINFO_SERIAL_RE = /^[0-9a-f]{8}([0-9a-f]{8})$/i;
const FOLDER_STRING_RE = /^[A-Za-z0-9._-]+$/;

function invalid(input: string, why: string): BootcardError {
  return new BootcardError(
    NetbootErrorCode.INVALID_PI_ID,
    `"${input}" is not a Pi ID: ${why}. Give a MAC address (dc:a6:32:01:36:c2), the 8-digit serial number (9ffefdef), or a folder name for TFTP_PREFIX_STR (str:rack1-pi3).`,
    { input },
  );
}

function parseMac(text: string, input: string): PiId {
  if (!MAC_RE.test(text)) throw invalid(input, 'a MAC address is six pairs of hex digits');
  const hex = text.replace(/[:-]/g, '').toLowerCase();
  return { kind: 'mac', folder: hex.match(/../g)!.join('-'), input };
}

function parseSerial(text: string, input: string): PiId {
  const long = CPUINFO_SERIAL_RE.exec(text);
  const serial = long ? long[1]! : text;
  if (!SERIAL_RE.test(serial)) throw invalid(input, 'a serial number is 8 hex digits');
  return { kind: 'serial', folder: serial.toLowerCase(), input };
}

function parseString(text: string, input: string): PiId {
  const folder = text.endsWith('/') ? text.slice(0, -1) : text;
  if (folder.length === 0) throw invalid(input, 'the folder name is empty');
  if (folder.length + 1 > MAX_PREFIX_STR_LENGTH) throw invalid(input, `TFTP_PREFIX_STR holds at most ${MAX_PREFIX_STR_LENGTH} characters with its slash`);
  if (!FOLDER_STRING_RE.test(folder) || folder === '.' || folder === '..' || folder.startsWith('.')) {
    throw invalid(input, 'a folder name uses letters, digits, . _ - and does not start with a dot');
  }
  return { kind: 'string', folder, input };
}

/**
 * Parses a Pi ID. `mac:`, `serial:` and `str:` say the kind outright;
 * without one, six hex pairs are a MAC, 8 (or /proc/cpuinfo's 16) hex digits
 * a serial, anything else a TFTP_PREFIX_STR folder name.
 */
export function parsePiId(input: string): PiId {
  const text = input.trim();
  const explicit = /^(mac|serial|str):(.*)$/i.exec(text);
  if (explicit) {
    const kind = explicit[1]!.toLowerCase();
    const rest = explicit[2]!;
    if (kind === 'mac') return parseMac(rest, input);
    if (kind === 'serial') return parseSerial(rest, input);
    return parseString(rest, input);
  }
  if (MAC_RE.test(text)) return parseMac(text, input);
  if (SERIAL_RE.test(text) || CPUINFO_SERIAL_RE.test(text)) return parseSerial(text, input);
  return parseString(text, input);
}

/** The folder a Pi with this EEPROM setting asks for ('' = the TFTP root), given its ID of the matching kind. */
export function prefixFolder(mode: number, prefixStr: string | undefined, id: PiId): string | null {
  if (mode === 0) return id.kind === 'serial' ? id.folder : null;
  if (mode === 2) return id.kind === 'mac' ? id.folder : null;
  if (mode === 1) return (prefixStr ?? '').replace(/\/$/, '');
  return null;
}
