/**
 * The write manifest: one row per card a station wrote (card serial, recipe,
 * config, SHA-256 of the image, time, outcome), as JSON or as CSV (RFC 4180:
 * comma separated, CRLF line ends, fields quoted when they hold a comma, quote
 * or line break, quotes doubled). The CSV guards against spreadsheet formula
 * injection by prefixing with a quote a field that starts with = + - @, their
 * full-width forms (which some spreadsheets in CJK locales take as the ASCII
 * ones), a TAB or a CR (OWASP's list), or with any of these after leading
 * white space (spreadsheets that trim a field on import would start it there).
 */

export interface ManifestEntry {
  readonly device: string;
  readonly cardSerial: string | null;
  readonly recipe: string;
  readonly config: string;
  readonly sha256: string;
  readonly time: string;
  readonly ok: boolean;
  readonly error: string | null;
}

export type ManifestFormat = 'json' | 'csv';

export const MANIFEST_COLUMNS = ['device', 'cardSerial', 'recipe', 'config', 'sha256', 'time', 'ok', 'error'] as const;

export function formatManifest(entries: readonly ManifestEntry[], format: ManifestFormat): string {
  if (format === 'json') return `${JSON.stringify({ bootcardManifest: 1, cards: entries }, null, 2)}\n`;
  const rows = [MANIFEST_COLUMNS.join(',')];
  for (const e of entries) {
    rows.push(MANIFEST_COLUMNS.map((c) => csvField(c === 'ok' ? (e.ok ? 'ok' : 'failed') : (e[c] ?? ''))).join(','));
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** Leading white space or control characters, then a character a spreadsheet starts a formula with. */
const FORMULA_START = /^[\s\u0000-\u001f]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r]/;

function csvField(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The file name a manifest is offered under: bootcard-manifest-2026-11-22T01-02-03Z.csv */
export function manifestFileName(time: Date, format: ManifestFormat): string {
  return `bootcard-manifest-${time.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.${format}`;
}

export const ManifestErrorCode = {
  /** The file name does not end in the format's extension (.csv / .json). */
  BAD_NAME: 'MANIFEST_BAD_NAME',
  /** The file exists and is not an earlier bootcard manifest. */
  FILE_EXISTS: 'MANIFEST_FILE_EXISTS',
} as const;

/** Whether a file's first bytes are a manifest bootcard wrote (the CSV header, or the JSON's first key). */
export function looksLikeManifest(head: string): boolean {
  return head.startsWith(`${MANIFEST_COLUMNS.join(',')}\r\n`) || /^\{\s*"bootcardManifest"\s*:/.test(head);
}

/**
 * Why a manifest may not be saved at `file`, or null. The save can come from a
 * browser behind `bootcard serve` (often run as root), so it never creates a
 * file of another kind (~/.ssh/authorized_keys, a cron job) nor replaces
 * anything but an earlier manifest. `existingHead`: the first bytes of the file
 * already there, or null when there is none.
 */
export function manifestSaveProblem(file: string, format: ManifestFormat, existingHead: string | null): { code: string; message: string } | null {
  if (!file.toLowerCase().endsWith(`.${format}`)) {
    return { code: ManifestErrorCode.BAD_NAME, message: `A ${format.toUpperCase()} manifest is saved as a .${format} file; end the name with .${format} (e.g. ${manifestFileName(new Date(0), format)}).` };
  }
  if (existingHead !== null && !looksLikeManifest(existingHead)) {
    return { code: ManifestErrorCode.FILE_EXISTS, message: `${file} exists and is not a bootcard manifest; bootcard does not replace it. Pick a new file name.` };
  }
  return null;
}
