/**
 * Checks a bootloader config (bootconf.txt) for one board before it goes into
 * an image: sizes (the 4076-byte limit and the free space the target image
 * really has), section filters, unknown or misspelt keys, keys the board does
 * not have, and values of the wrong form or out of range. Pure: the wizard
 * runs it in the renderer as the user types.
 *
 * Errors block a build; warnings do not (unless --strict). Lines under
 * `[none]` never apply and lines under `[config.txt]` belong to config.txt, so
 * neither is checked against the bootloader key table.
 */
import { parseBootOrder } from './boot-order.js';
import { EepromDiagnosticCode as C } from './codes.js';
import { configSections, parseBootConf } from './config.js';
import type { Diagnostic } from './diagnostics.js';
import { MAX_BOOTCONF_SIZE, type Board } from './image.js';
import { EEPROM_KEYS, eepromKeySpec, type EepromKeySpec } from './schema.js';

export interface ValidateOptions {
  readonly board: Board;
  /** Bytes the target image has for bootconf.txt (bootConfCapacity); defaults to the 4076-byte limit. */
  readonly freeBytes?: number;
}

const BOARD_NAME: Record<Board, string> = { '2711': 'Pi 4 (BCM2711)', '2712': 'Pi 5 (BCM2712)' };
/** config.txt's documented line limit; longer lines are cut. */
export const MAX_LINE_LENGTH = 98;

const textEncoder = new TextEncoder();

export function validateBootConf(text: string, options: ValidateOptions): Diagnostic[] {
  const { board } = options;
  const out: Diagnostic[] = [];
  const size = textEncoder.encode(text).length;
  if (size > MAX_BOOTCONF_SIZE) {
    out.push({ severity: 'error', code: C.TOO_LARGE, message: `The config is ${size} bytes; the bootloader config can be at most ${MAX_BOOTCONF_SIZE} bytes. Remove ${size - MAX_BOOTCONF_SIZE} bytes (comments and blank lines count).` });
  } else if (options.freeBytes !== undefined && size > options.freeBytes) {
    out.push({ severity: 'error', code: C.NO_SPACE, message: `The config is ${size} bytes but this image has room for only ${options.freeBytes} bytes of bootconf.txt. Remove ${size - options.freeBytes} bytes (comments and blank lines count), or use a newer pieeprom image.` });
  }
  if (/[^\x00-\x7f]/.test(text)) {
    out.push({ severity: 'warning', code: C.NOT_ASCII, message: 'The config contains non-ASCII characters; the bootloader reads plain ASCII.' });
  }

  const config = parseBootConf(text);
  let sawCrlf = false;
  for (const section of configSections(config)) {
    const filter = section.filter;
    let checkKeys = true;
    if (filter !== null) {
      const header = config.lines[section.start]!;
      const verdict = checkFilter(filter, board);
      if (verdict.finding) out.push({ ...verdict.finding, line: section.start + 1 });
      checkKeys = verdict.checkKeys;
      if (header.text !== header.text.trim()) {
        out.push({ severity: 'warning', line: section.start + 1, code: C.BAD_SECTION, message: `[${filter}] has spaces around it; write it at the start of the line.` });
      }
    }
    const seen = new Map<string, number>();
    const first = filter === null ? section.start : section.start + 1;
    for (let i = first; i < section.end; i++) {
      const line = config.lines[i]!;
      const lineNo = i + 1;
      if (line.eol === '\r\n') sawCrlf = true;
      if (line.text.length > MAX_LINE_LENGTH && checkKeys && line.kind !== 'comment') {
        out.push({ severity: 'warning', line: lineNo, code: C.LINE_TOO_LONG, message: `Line ${lineNo} is ${line.text.length} characters; the bootloader reads at most ${MAX_LINE_LENGTH}.` });
      }
      if (!checkKeys) continue;
      if (line.kind === 'other') {
        out.push({ severity: 'warning', line: lineNo, code: C.BAD_LINE, message: `"${line.text.trim()}" is not KEY=VALUE, a [section] or a # comment; the bootloader ignores it.` });
        continue;
      }
      if (line.kind !== 'setting') continue;
      const key = line.key!.trim();
      const value = line.value!.trim();
      if (key !== line.key || value !== line.value!.trimEnd()) {
        out.push({ severity: 'warning', line: lineNo, key, code: C.BAD_LINE, message: `${key}: write it without spaces around '=' (${key}=${value}); the bootloader may not read it.` });
      }
      const spec = eepromKeySpec(key);
      if (!spec) {
        const near = closestKey(key);
        out.push({ severity: 'warning', line: lineNo, key, code: C.UNKNOWN_KEY, message: near ? `${key} is not a bootloader setting; did you mean ${near}? (the bootloader ignores unknown keys)` : `${key} is not a known bootloader setting; the bootloader ignores it.` });
        continue;
      }
      if (!spec.boards.includes(board)) {
        out.push({ severity: 'error', line: lineNo, key, code: C.KEY_NOT_ON_BOARD, message: `${key} does not exist on the ${BOARD_NAME[board]} bootloader (only on ${spec.boards.map((b) => BOARD_NAME[b]).join(', ')}).` });
        continue;
      }
      if (!spec.documented) {
        out.push({ severity: 'warning', line: lineNo, key, code: C.UNDOCUMENTED_KEY, message: `${key} is read by the bootloader but not documented; check that you need it.` });
      }
      const previous = seen.get(key);
      if (previous !== undefined) {
        out.push({ severity: 'warning', line: lineNo, key, code: C.DUPLICATE_KEY, message: `${key} is set again (first on line ${previous}); the later value wins.` });
      }
      seen.set(key, lineNo);
      const comment = trailingComment(value);
      if (comment !== null) {
        out.push({ severity: 'error', line: lineNo, key, code: C.TRAILING_COMMENT, message: trailingCommentMessage(key, value, comment) });
        continue;
      }
      for (const d of checkValue(spec, value, board)) out.push({ ...d, line: lineNo, key });
    }
  }
  if (sawCrlf) {
    out.push({ severity: 'warning', code: C.CRLF, message: 'The config has Windows (CRLF) line endings; use LF line endings.' });
  }
  return out;
}

/**
 * `0xf142 # network first` -> "# network first". The bootloader's config syntax is config.txt's:
 * a line is a comment only when it starts with #, so text after a value is the value
 * (rpi-eeprom-config copies the line unchanged and never parses values).
 */
function trailingComment(value: string): string | null {
  const at = value.search(/\s#/);
  return at < 0 ? null : value.slice(at).trim();
}

function trailingCommentMessage(key: string, value: string, comment: string): string {
  const bare = value.slice(0, value.indexOf(comment)).trim();
  return `${key}=${value}: "${comment}" is not a comment to the bootloader, which takes # as a comment only at the start of a line, so it would read the whole "${value}" as the value. Put the comment on a line of its own above: "${comment}" then "${key}=${bare}".`;
}

type Finding = Omit<Diagnostic, 'line' | 'key'>;

const NEVER_ON: Record<Board, readonly string[]> = {
  '2711': ['pi5', 'cm5', 'pi500', 'pi500+'],
  '2712': ['pi4', 'pi400', 'cm4', 'cm4s'],
};
const MODEL_FILTERS = ['pi4', 'pi400', 'cm4', 'cm4s', 'pi5', 'cm5', 'pi500', 'pi500+'];
const FILTER_PATTERNS: readonly RegExp[] = [
  /^board-type=0x[0-9a-f]{1,2}$/i,
  /^0x[0-9a-f]{1,8}$/i, // serial number
  /^gpio\d{1,2}=[01]$/,
  /^(partition|boot_arg1|boot_count|boot_partition|cust_otp\d|board_attributes)(=|&|<|>)[0-9a-fx&=]+$/i,
];

/** What a `[filter]` line means here: a finding to report, and whether its settings are bootloader keys for this board. */
function checkFilter(filter: string, board: Board): { finding?: Finding; checkKeys: boolean } {
  if (filter === 'none' || filter === 'config.txt') return { checkKeys: false };
  if (filter === 'all' || filter === 'tryboot') return { checkKeys: true };
  if (MODEL_FILTERS.includes(filter)) {
    if (NEVER_ON[board].includes(filter)) {
      return { checkKeys: false, finding: { severity: 'warning', code: C.UNSUPPORTED_SECTION, message: `[${filter}] never applies on a ${BOARD_NAME[board]}, so its settings are ignored.` } };
    }
    return { checkKeys: true };
  }
  if (FILTER_PATTERNS.some((re) => re.test(filter))) return { checkKeys: true };
  if (/^edid=/i.test(filter) || /^hdmi:/i.test(filter)) {
    return { checkKeys: true, finding: { severity: 'warning', code: C.UNSUPPORTED_SECTION, message: `[${filter}] filters are not supported in the bootloader config; use them in config.txt.` } };
  }
  return { checkKeys: true, finding: { severity: 'warning', code: C.BAD_SECTION, message: `[${filter}] is not a filter the bootloader knows (e.g. [all], [pi4], [pi5], [gpio8=0], [none], [config.txt]).` } };
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const INT_RE = /^-?\d+$/;
const HEX_RE = /^0x[0-9a-f]{1,8}$/i;

/** The integer the bootloader reads ("0x.." hex or decimal), or undefined. */
export function parseConfigInt(value: string): number | undefined {
  if (HEX_RE.test(value)) return Number.parseInt(value.slice(2), 16);
  if (INT_RE.test(value)) {
    const n = Number.parseInt(value, 10);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

function checkValue(spec: EepromKeySpec, value: string, board: Board): Finding[] {
  const key = spec.key;
  const bad = (message: string): Finding[] => [{ severity: 'error', code: C.BAD_VALUE, message }];
  const range = (message: string): Finding[] => [{ severity: 'error', code: C.VALUE_OUT_OF_RANGE, message }];
  if (value === '') {
    if (spec.allowEmpty || spec.type === 'string') return [];
    return bad(`${key} has no value; set one or remove the line.`);
  }
  switch (spec.type) {
    case 'bool':
    case 'int':
    case 'hex': {
      const n = parseConfigInt(value);
      if (n === undefined) {
        return bad(`${key}=${value}: expected ${spec.type === 'hex' ? 'a hex number such as 0x1' : spec.type === 'bool' ? '0 or 1' : 'a whole number'}.`);
      }
      const allowed = spec.type === 'bool' ? [0, 1] : spec.allowed;
      if (allowed && !allowed.includes(n)) return range(`${key}=${value}: allowed values are ${allowed.join(', ')}.`);
      if (spec.min !== undefined && n < spec.min) return range(`${key}=${value}: the minimum is ${fmt(spec, spec.min)}${spec.unit ? ` ${spec.unit}` : ''}.`);
      if (spec.max !== undefined && n > spec.max) return range(`${key}=${value}: the maximum is ${fmt(spec, spec.max)}${spec.unit ? ` ${spec.unit}` : ''}.`);
      if (spec.flags) {
        const known = Object.keys(spec.flags).reduce((m, b) => m | Number(b), 0);
        if ((n & ~known) !== 0) return range(`${key}=${value}: only the bits ${Object.keys(spec.flags).map((b) => `0x${Number(b).toString(16)}`).join(', ')} are defined.`);
      }
      return [];
    }
    case 'ipv4':
      return IPV4_RE.test(value) ? [] : bad(`${key}=${value}: expected an IPv4 address such as 192.168.1.10.`);
    case 'mac':
      return MAC_RE.test(value) ? [] : bad(`${key}=${value}: expected a MAC address such as dc:a6:32:01:36:c2.`);
    case 'bootOrder': {
      if (!HEX_RE.test(value)) return bad(`${key}=${value}: write 0x and 1 to 8 hex digits, one boot mode per digit read right to left (e.g. 0xf142).`);
      return parseBootOrder(value, board).diagnostics.map(({ line: _line, key: _key, ...rest }) => rest);
    }
    case 'otpRows':
      return /^[0-7],[0-7]$/.test(value) && value[0] !== value[2] ? [] : bad(`${key}=${value}: expected two different customer OTP rows 0-7, e.g. 0,1.`);
    case 'hostname':
      if (IPV4_RE.test(value)) return [];
      return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(value)
        ? []
        : bad(`${key}=${value}: expected a lower-case host name or IPv4 address, without http:// or '/'.`);
    case 'sha256':
      return /^[0-9a-f]{64}$/i.test(value) ? [] : bad(`${key}=${value}: expected 64 hex characters (the sha256sum of the certificate).`);
    case 'url':
      return /^https?:\/\/[^\s]+$/.test(value) ? [] : bad(`${key}=${value}: expected a URL starting with http:// or https://.`);
    case 'vidPidList': {
      const parts = value.split(',');
      if (!parts.every((p) => /^[0-9a-f]{8}$/i.test(p))) return bad(`${key}=${value}: expected comma-separated 8-hex-digit VID+PID values, e.g. 034700a0,a4231234.`);
      if (spec.maxEntries !== undefined && parts.length > spec.maxEntries) return range(`${key}: at most ${spec.maxEntries} entries (${parts.length} given).`);
      return [];
    }
    case 'string':
      if (spec.maxLength !== undefined && value.length > spec.maxLength) return range(`${key}: at most ${spec.maxLength} characters (${value.length} given).`);
      if (key === 'HTTP_PATH') return checkHttpPath(value);
      return [];
  }
}

/** The bootloader fetches http(s)://HTTP_HOST:HTTP_PORT/HTTP_PATH/boot.img: the path is a relative URL path. */
function checkHttpPath(value: string): Finding[] {
  if (/^[a-z]+:\/\//i.test(value)) return [{ severity: 'error', code: C.BAD_VALUE, message: `HTTP_PATH=${value}: give only the path; the server goes in HTTP_HOST and the port in HTTP_PORT.` }];
  if (/[\s?#%\\]/.test(value)) return [{ severity: 'error', code: C.BAD_VALUE, message: `HTTP_PATH=${value}: a path on the server, without spaces, '?', '#', '%' or '\\' (e.g. net_install or pis/rack1).` }];
  if (value.startsWith('/') || value.endsWith('/')) return [{ severity: 'warning', code: C.BAD_VALUE, message: `HTTP_PATH=${value}: write it without a leading or trailing '/' (the bootloader adds them: /${value.replace(/^\/+|\/+$/g, '')}/boot.img).` }];
  return [];
}

function fmt(spec: EepromKeySpec, n: number): string {
  return spec.type === 'hex' ? `0x${n.toString(16)}` : String(n);
}

function closestKey(key: string): string | undefined {
  const upper = key.toUpperCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const spec of EEPROM_KEYS) {
    const d = spec.key === upper ? 0 : editDistance(upper, spec.key);
    if (d < bestDistance) {
      bestDistance = d;
      best = spec.key;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 5)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
