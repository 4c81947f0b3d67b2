/**
 * The bootloader config (bootconf.txt) as a list of lines that serialises back
 * to exactly the text it was parsed from: comments, blank lines, order, line
 * endings and `[section]` filters are kept. Editing changes only the lines it
 * must.
 *
 * Syntax (same as config.txt): `KEY=VALUE` per line, whole-line `#` comments,
 * `[filter]` lines starting a conditional section (`[all]` resets, `[none]`
 * never applies, `[config.txt]` sends the rest of the file to config.txt and
 * so must stay last). Lines before the first filter apply to every board, like
 * `[all]`.
 */
import { BootcardError } from '../errors.js';
import { EepromErrorCode } from './codes.js';

export type ConfigLineKind = 'blank' | 'comment' | 'section' | 'setting' | 'other';

export interface ConfigLine {
  readonly kind: ConfigLineKind;
  /** The line's text without its line ending. */
  readonly text: string;
  /** '\n', '\r\n', or '' for a last line without one. */
  readonly eol: string;
  /** For 'section': the filter between the brackets, e.g. "all", "gpio8=0". */
  readonly filter?: string;
  /** For 'setting': the text before the first '=' and after it. */
  readonly key?: string;
  readonly value?: string;
}

export interface BootConfig {
  readonly lines: readonly ConfigLine[];
}

/** A run of lines governed by one filter; the first (filter null) is the part before any `[filter]` line. */
export interface ConfigSection {
  readonly filter: string | null;
  /** Index of the `[filter]` line (or 0 for the leading part). */
  readonly start: number;
  /** Index after the section's last line. */
  readonly end: number;
}

const SECTION_RE = /^\s*\[([^\]]*)\]\s*$/;

export function parseConfigLine(text: string, eol: string): ConfigLine {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'blank', text, eol };
  if (trimmed.startsWith('#')) return { kind: 'comment', text, eol };
  const section = SECTION_RE.exec(text);
  if (section) return { kind: 'section', text, eol, filter: section[1]! };
  const eq = text.indexOf('=');
  if (eq > 0) return { kind: 'setting', text, eol, key: text.slice(0, eq), value: text.slice(eq + 1) };
  return { kind: 'other', text, eol };
}

export function parseBootConf(text: string): BootConfig {
  const lines: ConfigLine[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) {
      lines.push(parseConfigLine(text.slice(start), ''));
      break;
    }
    const crlf = nl > start && text[nl - 1] === '\r';
    lines.push(parseConfigLine(text.slice(start, crlf ? nl - 1 : nl), crlf ? '\r\n' : '\n'));
    start = nl + 1;
  }
  return { lines };
}

export function serializeBootConf(config: BootConfig): string {
  let out = '';
  for (const line of config.lines) out += line.text + line.eol;
  return out;
}

export function configSections(config: BootConfig): ConfigSection[] {
  const sections: ConfigSection[] = [];
  let filter: string | null = null;
  let start = 0;
  config.lines.forEach((line, i) => {
    if (line.kind !== 'section') return;
    sections.push({ filter, start, end: i });
    filter = line.filter!;
    start = i;
  });
  sections.push({ filter, start, end: config.lines.length });
  return sections;
}

/** A section that applies to every board: the leading part or `[all]`. */
const isAllScope = (filter: string | null) => filter === null || filter === 'all';
const scopeMatches = (sectionFilter: string | null, wanted: string) =>
  wanted === 'all' ? isAllScope(sectionFilter) : sectionFilter === wanted;

/** The value the bootloader ends up with for `key` among lines that apply everywhere (last one wins). */
export function getBootConfValue(config: BootConfig, key: string, section = 'all'): string | undefined {
  let value: string | undefined;
  for (const s of configSections(config)) {
    if (!scopeMatches(s.filter, section)) continue;
    for (let i = s.start; i < s.end; i++) {
      const line = config.lines[i]!;
      if (line.kind === 'setting' && line.key === key) value = line.value;
    }
  }
  return value;
}

const KEY_RE = /^[A-Za-z0-9_]+$/;

function checkKey(key: string): void {
  if (!KEY_RE.test(key)) {
    throw new BootcardError(EepromErrorCode.BAD_SET, `"${key}" is not a config key: keys are letters, digits and '_' (e.g. BOOT_ORDER).`, { key });
  }
}

function checkSection(section: string): void {
  if (section.includes(']') || section.includes('\n') || section.trim() !== section || section === '') {
    throw new BootcardError(EepromErrorCode.BAD_SET, `"${section}" is not a section filter (e.g. all, pi4, gpio8=0).`, { section });
  }
}

/**
 * Sets `key` to `value` in `section` ('all' = lines that apply to every board).
 * Replaces the value of the key's last line there, keeping everything else;
 * otherwise adds a line at the end of the last such section, creating
 * `[section]` (before a trailing `[config.txt]`) when there is none.
 */
export function setBootConfValue(config: BootConfig, key: string, value: string, section = 'all'): BootConfig {
  checkKey(key);
  checkSection(section);
  if (value.includes('\n') || value.includes('\r')) {
    throw new BootcardError(EepromErrorCode.BAD_SET, `The value for ${key} contains a line break; a value is one line.`, { key });
  }
  const lines = [...config.lines];
  const sections = configSections(config).filter((s) => scopeMatches(s.filter, section));
  for (let si = sections.length - 1; si >= 0; si--) {
    const s = sections[si]!;
    for (let i = s.end - 1; i >= s.start; i--) {
      const line = lines[i]!;
      if (line.kind === 'setting' && line.key === key) {
        lines[i] = { ...line, text: `${key}=${value}`, value };
        return { lines };
      }
    }
  }
  const newLine: ConfigLine = { kind: 'setting', text: `${key}=${value}`, eol: '\n', key, value };
  const target = sections[sections.length - 1];
  if (target) {
    // After the section's last non-blank line (a header stays first).
    let at = target.end;
    while (at > target.start && lines[at - 1]!.kind === 'blank') at--;
    if (target.filter !== null && at === target.start) at = target.start + 1;
    insertLines(lines, at, [newLine]);
    return { lines };
  }
  // No such section: add it, before a [config.txt] section (which must stay last).
  const configTxt = lines.findIndex((l) => l.kind === 'section' && l.filter === 'config.txt');
  const header: ConfigLine = { kind: 'section', text: `[${section}]`, eol: '\n', filter: section };
  insertLines(lines, configTxt >= 0 && section !== 'config.txt' ? configTxt : lines.length, [header, newLine]);
  return { lines };
}

function insertLines(lines: ConfigLine[], at: number, added: readonly ConfigLine[]): void {
  // The line before the insertion point must end with a newline.
  if (at > 0 && lines[at - 1]!.eol === '') lines[at - 1] = { ...lines[at - 1]!, eol: '\n' };
  lines.splice(at, 0, ...added);
}

/**
 * Removes every line setting `key` in `section` ('all' = lines that apply to
 * every board; '*' = every section except [config.txt]). Other lines are kept.
 */
export function removeBootConfValue(config: BootConfig, key: string, section = '*'): BootConfig {
  checkKey(key);
  if (section !== '*') checkSection(section);
  const keep = new Array<boolean>(config.lines.length).fill(true);
  for (const s of configSections(config)) {
    const applies = section === '*' ? s.filter !== 'config.txt' : scopeMatches(s.filter, section);
    if (!applies) continue;
    for (let i = s.start; i < s.end; i++) {
      const line = config.lines[i]!;
      if (line.kind === 'setting' && line.key === key) keep[i] = false;
    }
  }
  return { lines: config.lines.filter((_, i) => keep[i]) };
}

/** Parses "KEY=VALUE" (as given to --set). */
export function parseAssignment(text: string): { key: string; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new BootcardError(EepromErrorCode.BAD_SET, `"${text}" is not KEY=VALUE (e.g. BOOT_ORDER=0xf142).`, { text });
  }
  const key = text.slice(0, eq);
  checkKey(key);
  return { key, value: text.slice(eq + 1) };
}
