/**
 * The write manifest: one row per card a station wrote (card serial, recipe,
 * config, SHA-256 of the image, time, outcome), as JSON or as CSV (RFC 4180:
 * comma separated, CRLF line ends, fields quoted when they hold a comma, quote
 * or line break, quotes doubled). The CSV guards against spreadsheet formula
 * injection by prefixing a field that starts with = + - @ with a quote.
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

function csvField(value: string): string {
  const safe = /^[=+\-@]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The file name a manifest is offered under: bootcard-manifest-2026-11-22T01-02-03Z.csv */
export function manifestFileName(time: Date, format: ManifestFormat): string {
  return `bootcard-manifest-${time.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.${format}`;
}
