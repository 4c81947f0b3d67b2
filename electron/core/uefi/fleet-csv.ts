/**
 * The fleet file of `bootcard card uefi --batch pis.csv`: one row per Pi, columns `name`, `mac` and any
 * UEFI setting by its option name (`asset-tag`, `boot-timeout`, `http-boot-first`, ...).
 *
 * CSV as RFC 4180 writes it (and spreadsheets export it): comma-separated, fields in double quotes may
 * hold commas, quotes (doubled) and line breaks; CRLF or LF; a UTF-8 BOM is ignored; blank lines are
 * skipped. Every problem names the file and line, and nothing is returned unless every row is valid,
 * so a bad row 40 stops the batch before card 1 is written.
 */
import { BootcardError } from '../errors.js';
import { UefiErrorCode } from './errors.js';
import { formatMacAddress, parseMacAddress } from './network-boot.js';

export interface CsvRecord {
  /** 1-based line on which the record starts. */
  readonly line: number;
  readonly cells: readonly string[];
}

/** Splits CSV text into records; throws BAD_BATCH_FILE on an unterminated quote. */
export function parseCsv(text: string, source = 'the CSV file'): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.startsWith('\ufeff') ? text.slice(1) : text;
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let sawAnything = false;
  const endRecord = () => {
    cells.push(cell);
    if (sawAnything) records.push({ line: recordLine, cells });
    cells = [];
    cell = '';
    sawAnything = false;
  };
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && cell === '') {
      quoted = true;
      sawAnything = true;
    } else if (c === ',') {
      cells.push(cell);
      cell = '';
      sawAnything = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && input[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      cell += c;
      sawAnything = true;
    }
  }
  if (quoted) throw new BootcardError(UefiErrorCode.BAD_BATCH_FILE, `${source} line ${recordLine}: a quoted field is never closed (a " is missing).`, { line: recordLine });
  endRecord();
  return records;
}

export interface FleetRow {
  readonly line: number;
  /** The card's name: DIR/<name>.img. */
  readonly name: string;
  /** The Pi's MAC as given (parsed and checked). */
  readonly mac: string;
  /** The other columns by header (option name), only the non-empty cells. */
  readonly values: Readonly<Record<string, string>>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads the fleet file: a header with `name`, `mac` and only `allowedColumns`, then one row per Pi with a
 * file-safe unique name and a unique valid MAC. Throws BAD_BATCH_FILE naming the line.
 */
export function parseFleetCsv(text: string, allowedColumns: readonly string[], source = 'the batch file'): FleetRow[] {
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw new BootcardError(UefiErrorCode.BAD_BATCH_FILE, `${source} ${message}`, details);
  };
  const [header, ...records] = parseCsv(text, source);
  if (!header) return fail('is empty: it needs a header line with the columns name and mac, then one line per Pi.');
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  if (!columns.includes('name') || !columns.includes('mac')) {
    fail(`line ${header.line}: the batch file needs the columns name and mac (found ${columns.map((c) => `"${c}"`).join(', ')}).`);
  }
  for (const [i, column] of columns.entries()) {
    if (columns.indexOf(column) !== i) fail(`line ${header.line}: the column "${column}" appears twice.`);
    if (column !== 'name' && column !== 'mac' && !allowedColumns.includes(column)) {
      fail(`line ${header.line}: unknown column "${column}"; the columns are name, mac and the UEFI settings ${allowedColumns.join(', ')}.`);
    }
  }
  if (records.length === 0) fail('has a header but no Pis: add one line per Pi (name,mac,...).');
  const names = new Map<string, number>();
  const macs = new Map<string, number>();
  return records.map((record) => {
    if (record.cells.length > columns.length) fail(`line ${record.line}: ${record.cells.length} fields, but the header has ${columns.length} columns.`);
    const cell = (column: string) => (record.cells[columns.indexOf(column)] ?? '').trim();
    const name = cell('name');
    if (!NAME.test(name)) {
      fail(`line ${record.line}: the name "${name}" cannot be a file name: use up to 64 letters, digits, dots, dashes and underscores, starting with a letter or digit.`, { line: record.line });
    }
    const at = `line ${record.line} (${name})`;
    const earlierName = names.get(name.toLowerCase());
    if (earlierName !== undefined) fail(`${at}: the name ${name} is already used on line ${earlierName}; each Pi needs its own card name.`, { line: record.line });
    names.set(name.toLowerCase(), record.line);
    const mac = cell('mac');
    let parsed: Uint8Array;
    try {
      parsed = parseMacAddress(mac);
    } catch (error) {
      return fail(`${at}: ${(error as Error).message}`, { line: record.line });
    }
    const macText = formatMacAddress(parsed);
    const earlierMac = macs.get(macText);
    if (earlierMac !== undefined) fail(`${at}: the MAC ${macText} is already used on line ${earlierMac}; each Pi has its own MAC.`, { line: record.line });
    macs.set(macText, record.line);
    const values: Record<string, string> = {};
    for (const column of columns) if (column !== 'name' && column !== 'mac' && cell(column) !== '') values[column] = cell(column);
    return { line: record.line, name, mac, values };
  });
}
