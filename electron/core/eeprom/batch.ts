/**
 * Per-Pi batches: one base image, one CSV with a row per Pi (a name plus the
 * keys that differ, e.g. CLIENT_IP or TFTP_PREFIX_STR), one image and .sig per
 * row. Every row is checked before the caller writes anything; rows are then
 * built one at a time so a thousand Pis never sit in memory at once.
 *
 * CSV (RFC 4180): header `name,KEY1,KEY2,...`; fields may be "quoted", with ""
 * for a quote, and quoted fields may hold commas and line breaks; CRLF or LF
 * line ends; blank lines are skipped. An empty cell leaves that key as the
 * base config has it. Names become folder names, so they must be safe:
 * letters, digits, '.', '_' and '-', not starting with '.', unique ignoring case.
 */
import { BootcardError } from '../errors.js';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex } from '@noble/hashes/utils';
import { assertBuildable, resolveBootConf, signingDiagnostics } from './build.js';
import { EepromErrorCode } from './codes.js';
import { formatDiagnostic, type Diagnostic } from './diagnostics.js';
import { BOOTCONF_SIG, BOOTCONF_TXT, PUBKEY_BIN, parseEepromImage, replaceableFile, replaceEepromFileInPlace, setUpdateTimestampInPlace, type Board, type EepromImage } from './image.js';
import { checkTimestamp } from './sig.js';

const textEncoder = new TextEncoder();

export interface CsvTable {
  readonly header: readonly string[];
  /** Data rows with their 1-based line number in the file. */
  readonly rows: readonly { readonly line: number; readonly cells: readonly string[] }[];
}

/** RFC 4180 parsing. Throws EEPROM_BAD_BATCH on an unterminated quote or text after a closing quote. */
export function parseCsv(text: string): CsvTable {
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  let quoted = false;
  let cellStarted = false;
  const src = text.startsWith('\ufeff') ? text.slice(1) : text;
  const endRecord = () => {
    cells.push(cell);
    if (!(cells.length === 1 && cells[0] === '' && !cellStarted)) records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
    cellStarted = false;
  };
  while (i < src.length) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const next = src[i];
        if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
          throw new BootcardError(EepromErrorCode.BAD_BATCH, `CSV line ${line}: text after a closing quote; write "" for a quote inside a quoted field.`, { line });
        }
        continue;
      }
      if (ch === '\n') line++;
      cell += ch;
      i++;
      continue;
    }
    if (ch === '"' && cell === '') {
      quoted = true;
      cellStarted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      cells.push(cell);
      cell = '';
      cellStarted = true;
      i++;
      continue;
    }
    if (ch === '\r' && src[i + 1] === '\n') i++;
    if (ch === '\n' || ch === '\r') {
      endRecord();
      i++;
      line++;
      recordLine = line;
      continue;
    }
    cell += ch;
    cellStarted = true;
    i++;
  }
  if (quoted) throw new BootcardError(EepromErrorCode.BAD_BATCH, `CSV line ${recordLine}: a quoted field is never closed.`, { line: recordLine });
  if (cell !== '' || cells.length > 0 || cellStarted) endRecord();
  const [header, ...rows] = records;
  if (!header) throw new BootcardError(EepromErrorCode.BAD_BATCH, 'The CSV is empty: the first line must be name,KEY1,KEY2,...');
  return { header: header.cells, rows };
}

const NAME_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$/;
const KEY_RE = /^[A-Za-z0-9_]+$/;

export interface BatchRow {
  readonly name: string;
  /** 1-based line of the row in the CSV. */
  readonly line: number;
  readonly set: Readonly<Record<string, string>>;
  readonly config: string;
  readonly diagnostics: readonly Diagnostic[];
}

export interface BatchPlan {
  readonly board: Board;
  readonly rows: readonly BatchRow[];
  readonly freeBytes: number;
}

export interface BatchOptions {
  readonly base: Uint8Array;
  readonly csv: string;
  /** A config replacing the base's before each row's keys are set. */
  readonly config?: string;
  readonly section?: string;
  readonly strict?: boolean;
  /** The rows will be signed (their images get a pubkey.bin). */
  readonly signed?: boolean;
}

/**
 * Checks the CSV and every row's config. Throws EEPROM_BAD_BATCH listing every
 * problem with its row's line number and name, so nothing is written for a
 * batch with any bad row.
 */
export function planBatch(options: BatchOptions, parsed?: EepromImage): BatchPlan {
  const image = parsed ?? parseEepromImage(options.base);
  const table = parseCsv(options.csv);
  const header = table.header.map((h) => h.trim());
  const problems: string[] = [];
  if (header[0]?.toLowerCase() !== 'name') problems.push(`CSV line 1: the first column must be "name" (found "${header[0] ?? ''}").`);
  const keys = header.slice(1);
  keys.forEach((k, i) => {
    if (!KEY_RE.test(k)) problems.push(`CSV line 1, column ${i + 2}: "${k}" is not a config key (letters, digits, '_').`);
  });
  const dupKey = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dupKey) problems.push(`CSV line 1: column ${dupKey} appears twice.`);
  if (problems.length > 0) throw batchError(problems);
  if (table.rows.length === 0) throw batchError(['The CSV has a header but no rows: add one line per Pi.']);

  const seen = new Map<string, number>();
  const rows: BatchRow[] = [];
  let freeBytes = 0;
  for (const row of table.rows) {
    const name = (row.cells[0] ?? '').trim();
    const label = `row on line ${row.line}${name ? ` (${name})` : ''}`;
    if (row.cells.length !== header.length) {
      problems.push(`${label}: ${row.cells.length} fields, but the header has ${header.length}.`);
      continue;
    }
    if (!NAME_RE.test(name) || name === '..') {
      problems.push(`${label}: "${name}" is not a safe file name; use letters, digits, '.', '_' and '-' (at most 64, not starting with '.').`);
      continue;
    }
    const previous = seen.get(name.toLowerCase());
    if (previous !== undefined) {
      problems.push(`${label}: the name ${name} is already used on line ${previous}.`);
      continue;
    }
    seen.set(name.toLowerCase(), row.line);
    const set: Record<string, string> = {};
    keys.forEach((k, i) => {
      const v = row.cells[i + 1]!;
      if (v !== '') set[k] = v;
    });
    try {
      const resolved = resolveBootConf({ base: options.base, set, ...(options.config !== undefined ? { config: options.config } : {}), ...(options.section ? { section: options.section } : {}) }, image);
      freeBytes = resolved.freeBytes;
      resolved.diagnostics.push(...signingDiagnostics(resolved.config, options.base, image, {}, { signed: options.signed ?? false }));
      assertBuildable(resolved.diagnostics, options.strict ?? false, `The config for ${name}`);
      rows.push({ name, line: row.line, set, config: resolved.config, diagnostics: resolved.diagnostics });
    } catch (error) {
      if (!(error instanceof BootcardError)) throw error;
      const details = (error.details?.diagnostics as Diagnostic[] | undefined) ?? undefined;
      if (details) for (const d of details) problems.push(`${label}: ${formatDiagnostic(d)}`);
      else problems.push(`${label}: ${error.message}`);
    }
  }
  if (problems.length > 0) throw batchError(problems);
  return { board: image.board, rows, freeBytes };
}

function batchError(problems: readonly string[]): BootcardError {
  return new BootcardError(
    EepromErrorCode.BAD_BATCH,
    `The batch has ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}; no files were written:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    { problems: [...problems] },
  );
}

export interface BuiltRow {
  readonly name: string;
  /** The row's image. In a batch builder it is a view of a buffer reused by the next row: write it out first. */
  readonly image: Uint8Array;
  readonly sig: string;
}

/** A SHA-256 that can be forked after hashing a shared prefix (Node's Hash.copy(), noble's clone()). */
export interface IncrementalSha256 {
  update(data: Uint8Array): IncrementalSha256;
  clone(): IncrementalSha256;
  digestHex(): string;
}
export type Sha256Factory = () => IncrementalSha256;

export const pureSha256Factory: Sha256Factory = () => wrapNoble(sha256.create());
type NobleHash = ReturnType<typeof sha256.create>;
function wrapNoble(h: NobleHash): IncrementalSha256 {
  return {
    update(data) {
      h.update(data);
      return this;
    },
    clone: () => wrapNoble(h.clone()),
    digestHex: () => bytesToHex(h.digest()),
  };
}

export interface BatchBuildOptions {
  /** The .sig ts of every row. */
  readonly timestamp: number;
  /** rpi-eeprom-config --timestamp: written into every row's image. */
  readonly updateTimestamp?: number;
  readonly targetSoc?: Board;
  readonly sha256?: Sha256Factory;
  /** Signed boot: every row's config gets its bootconf.sig, and the image this pubkey.bin. */
  readonly sign?: BatchSigner;
}

export interface BatchSigner {
  readonly pubkeyBin: Uint8Array;
  /** bootconf.sig for one row's bootconf.txt (rpi-eeprom-digest -k). */
  bootconfSig(config: Uint8Array): Uint8Array;
}

/**
 * Returns a function that builds planned rows one after another, fast: what
 * every row shares (the update timestamp, pubkey.bin) is applied once, one
 * image buffer is reused (only the bytes a row changed are restored), and the
 * SHA-256 of the unchanged prefix is computed once and forked per row. The
 * rows must come from planBatch on the same base.
 */
export function createBatchBuilder(base: Uint8Array, parsed: EepromImage, options: BatchBuildOptions): (row: BatchRow) => BuiltRow {
  checkTimestamp(options.timestamp);
  const bootconf = replaceableFile(parsed, BOOTCONF_TXT);
  if (!bootconf) throw new BootcardError(EepromErrorCode.FILE_NOT_IN_IMAGE, 'This EEPROM image has no bootconf.txt.');
  const shared = base.slice();
  if (options.updateTimestamp !== undefined) setUpdateTimestampInPlace(shared, parsed, checkTimestamp(options.updateTimestamp));
  let prefixEnd = bootconf.offset;
  if (options.sign) {
    replaceEepromFileInPlace(shared, parsed, PUBKEY_BIN, options.sign.pubkeyBin, { enforceMaxFileSize: false });
    const sigFile = replaceableFile(parsed, BOOTCONF_SIG);
    if (!sigFile) throw new BootcardError(EepromErrorCode.FILE_NOT_IN_IMAGE, 'This EEPROM image has no bootconf.sig, so it cannot hold a signed config; use a pieeprom image from 2021 or later.');
    prefixEnd = Math.min(prefixEnd, sigFile.offset);
  }
  const scratch = shared.slice();
  const prefixHash = (options.sha256 ?? pureSha256Factory)().update(scratch.subarray(0, prefixEnd));
  const tail = options.targetSoc ? `target-soc: ${options.targetSoc}\n` : '';
  let dirty: { start: number; end: number }[] = [];
  return (row) => {
    for (const d of dirty) scratch.set(shared.subarray(d.start, d.end), d.start);
    const config = textEncoder.encode(row.config);
    dirty = [replaceEepromFileInPlace(scratch, parsed, BOOTCONF_TXT, config)];
    if (options.sign) dirty.push(replaceEepromFileInPlace(scratch, parsed, BOOTCONF_SIG, options.sign.bootconfSig(config)));
    const hash = prefixHash.clone().update(scratch.subarray(prefixEnd)).digestHex();
    return { name: row.name, image: scratch, sig: `${hash}\nts: ${options.timestamp}\n${tail}` };
  };
}

/** Builds one planned row into a new buffer (cannot fail for a row planBatch accepted). */
export function buildBatchRow(base: Uint8Array, parsed: EepromImage, row: BatchRow, options: BatchBuildOptions): BuiltRow {
  const built = createBatchBuilder(base, parsed, options)(row);
  return { ...built, image: built.image.slice() };
}
