/**
 * A small editing model of a Raspberry Pi `config.txt`.
 *
 * The file is lines of `key=value` (or `key value` for a few legacy keys),
 * `# comments`, and conditional section headers such as `[all]`, `[pi4]`,
 * `[cm4]`, `[gpio4=1]`. A header applies to the lines after it until the next
 * header; the lines before the first header apply to every board (as if under
 * `[all]`). When a key is set twice, the later line wins. `dtoverlay=` lines
 * are the exception: each one loads another overlay, so they accumulate.
 *
 * Edits keep everything they do not touch (comments, order, blank lines,
 * line endings) and are idempotent: applying them twice changes nothing more.
 */
import { BootcardError } from '../errors.js';

export const ConfigTxtErrorCode = {
  /** A `--config-txt` argument or an edit that is not `KEY=VALUE`, a bad key, or an unknown preset. */
  INVALID_EDIT: 'CARD_CONFIG_TXT_INVALID_EDIT',
} as const;

export type ConfigTxtEdit =
  /** Sets `key=value` in `section` (default `all`): replaces the value there, or adds the line. */
  | { readonly kind: 'set'; readonly key: string; readonly value: string; readonly section?: string }
  /** Removes every active `key=` line in `section` (default `all`). */
  | { readonly kind: 'remove'; readonly key: string; readonly section?: string }
  /** Adds `dtoverlay=value` to `section` (default `all`) unless the same line is there. */
  | { readonly kind: 'dtoverlay'; readonly value: string; readonly section?: string };

const DEFAULT_SECTION = 'all';
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const HEADER_RE = /^\s*\[([^\]]*)\]\s*(#.*)?$/;
const ASSIGN_RE = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/;

/** One run of lines under a header (or before the first header: `header` null, counts as `[all]`). */
interface Block {
  readonly section: string;
  /** Index of the header line, or -1 for the lines before the first header. */
  readonly headerLine: number;
  /** Index after the block's last line. */
  end: number;
}

function normaliseSection(section: string | undefined): string {
  return (section ?? DEFAULT_SECTION).trim().toLowerCase();
}

function splitLines(text: string): { lines: string[]; eol: string; trailingNewline: boolean } {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const trailingNewline = text.length === 0 || text.endsWith('\n');
  const body = trailingNewline ? text.replace(/\r?\n$/, '') : text;
  const lines = body.length === 0 ? [] : body.split(/\r?\n/);
  return { lines, eol, trailingNewline };
}

function blocksOf(lines: readonly string[]): Block[] {
  const blocks: Block[] = [{ section: DEFAULT_SECTION, headerLine: -1, end: lines.length }];
  lines.forEach((line, i) => {
    const m = HEADER_RE.exec(line);
    if (!m) return;
    blocks[blocks.length - 1]!.end = i;
    blocks.push({ section: m[1]!.trim().toLowerCase(), headerLine: i, end: lines.length });
  });
  return blocks;
}

/** The value a key has in a section: the last active `key=` line in that section's blocks, or undefined. */
export function getConfigTxtValue(text: string, key: string, section?: string): string | undefined {
  const { lines } = splitLines(text);
  const wanted = normaliseSection(section);
  let value: string | undefined;
  for (const block of blocksOf(lines)) {
    if (block.section !== wanted) continue;
    for (let i = block.headerLine + 1; i < block.end; i++) {
      const m = ASSIGN_RE.exec(lines[i]!);
      if (m && m[1]!.toLowerCase() === key.toLowerCase()) value = m[2]!;
    }
  }
  return value;
}

function validateEdit(edit: ConfigTxtEdit): void {
  const fail = (why: string) => {
    throw new BootcardError(ConfigTxtErrorCode.INVALID_EDIT, `Cannot edit config.txt: ${why}.`, { edit });
  };
  if (edit.kind !== 'dtoverlay' && !KEY_RE.test(edit.key)) fail(`"${edit.key}" is not a config.txt key (letters, digits, _ . -)`);
  const value = edit.kind === 'set' || edit.kind === 'dtoverlay' ? edit.value : '';
  if (/[\r\n]/.test(value)) fail('a value cannot contain a line break');
  if (edit.kind === 'dtoverlay' && !/^[A-Za-z0-9_.,=:-]+$/.test(edit.value)) fail(`"${edit.value}" is not an overlay name (with optional ,param=value)`);
  if (edit.section !== undefined && !/^[^[\]\r\n]+$/.test(edit.section)) fail(`"${edit.section}" is not a section name`);
}

function applyOne(lines: string[], edit: ConfigTxtEdit): void {
  validateEdit(edit);
  const section = normaliseSection(edit.section);
  // An empty run before the first header is not a place to add to.
  const blocks = blocksOf(lines).filter((b) => b.section === section && !(b.headerLine === -1 && b.end === 0 && lines.length > 0));
  const key = edit.kind === 'dtoverlay' ? 'dtoverlay' : edit.key.toLowerCase();
  const matches: number[] = [];
  for (const block of blocks) {
    for (let i = block.headerLine + 1; i < block.end; i++) {
      const m = ASSIGN_RE.exec(lines[i]!);
      if (m && m[1]!.toLowerCase() === key) matches.push(i);
    }
  }
  if (edit.kind === 'remove') {
    for (const i of matches.reverse()) lines.splice(i, 1);
    return;
  }
  const newLine = `${edit.kind === 'dtoverlay' ? 'dtoverlay' : edit.key}=${edit.value}`;
  if (edit.kind === 'set' && matches.length > 0) {
    // The last line wins: change it, and drop earlier duplicates so the file says one thing.
    const last = matches[matches.length - 1]!;
    lines[last] = newLine;
    for (const i of matches.slice(0, -1).reverse()) lines.splice(i, 1);
    return;
  }
  if (edit.kind === 'dtoverlay') {
    if (matches.some((i) => ASSIGN_RE.exec(lines[i]!)![2] === edit.value)) return;
    if (matches.length > 0) {
      lines.splice(matches[matches.length - 1]! + 1, 0, newLine);
      return;
    }
  }
  const target = blocks[blocks.length - 1];
  if (target) {
    // After the block's last non-blank line.
    let at = target.end;
    while (at > target.headerLine + 1 && lines[at - 1]!.trim() === '') at--;
    lines.splice(at, 0, newLine);
    return;
  }
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  if (lines.length > 0) lines.push('');
  lines.push(`[${edit.section?.trim() ?? DEFAULT_SECTION}]`, newLine);
}

/** Applies edits in order and returns the new text. Throws CARD_CONFIG_TXT_INVALID_EDIT on a bad edit. */
export function applyConfigTxtEdits(text: string, edits: readonly ConfigTxtEdit[]): string {
  const { lines, eol, trailingNewline } = splitLines(text);
  for (const edit of edits) applyOne(lines, edit);
  return lines.join(eol) + (trailingNewline || lines.length > 0 ? eol : '');
}

/** Named presets for `--config-txt-preset`. */
export const CONFIG_TXT_PRESETS: Readonly<Record<string, { readonly description: string; readonly edits: readonly ConfigTxtEdit[] }>> = {
  'hdmi-hotplug': {
    description: 'use HDMI even when no monitor is detected at power-on (hdmi_force_hotplug=1)',
    edits: [{ kind: 'set', key: 'hdmi_force_hotplug', value: '1' }],
  },
  'hdmi-1080p': {
    description: 'force HDMI output at 1920x1080 60 Hz (hdmi_force_hotplug=1, hdmi_group=2, hdmi_mode=82)',
    edits: [
      { kind: 'set', key: 'hdmi_force_hotplug', value: '1' },
      { kind: 'set', key: 'hdmi_group', value: '2' },
      { kind: 'set', key: 'hdmi_mode', value: '82' },
    ],
  },
};

export function configTxtPreset(name: string): readonly ConfigTxtEdit[] {
  const preset = CONFIG_TXT_PRESETS[name];
  if (!preset) {
    throw new BootcardError(
      ConfigTxtErrorCode.INVALID_EDIT,
      `Unknown config.txt preset "${name}": choose one of ${Object.keys(CONFIG_TXT_PRESETS).join(', ')}.`,
      { preset: name },
    );
  }
  return preset.edits;
}

/**
 * Parses a command-line edit: `KEY=VALUE` sets a key in [all], `[SECTION]KEY=VALUE`
 * in that section, `KEY=` (empty value) removes the key, and `dtoverlay=NAME`
 * adds an overlay.
 */
export function parseConfigTxtArgument(argument: string): ConfigTxtEdit {
  const m = /^\s*(?:\[([^\]]+)\])?\s*([^=\s]+)\s*=(.*)$/.exec(argument);
  if (!m) {
    throw new BootcardError(
      ConfigTxtErrorCode.INVALID_EDIT,
      `"${argument}" is not a config.txt line: write KEY=VALUE, [SECTION]KEY=VALUE, or KEY= to remove a key.`,
      { argument },
    );
  }
  const section = m[1]?.trim();
  const key = m[2]!;
  const value = m[3]!.trim();
  const edit: ConfigTxtEdit =
    key.toLowerCase() === 'dtoverlay' && value !== ''
      ? { kind: 'dtoverlay', value, ...(section ? { section } : {}) }
      : value === ''
        ? { kind: 'remove', key, ...(section ? { section } : {}) }
        : { kind: 'set', key, value, ...(section ? { section } : {}) };
  validateEdit(edit);
  return edit;
}

export interface MissingOverlay {
  /** The overlay's name as config.txt gives it (before any ",param"). */
  readonly name: string;
  /** 1-based line of the dtoverlay= line. */
  readonly line: number;
}

const DTOVERLAY_RE = /^\s*dtoverlay\s*=\s*([^,#\s]+)/i;

/**
 * The overlays config.txt loads (`dtoverlay=NAME[,params]`, in any section) that the card
 * does not hold as overlays/NAME.dtbo. The firmware looks overlays up by name (a Pi 4 also
 * finds NAME-pi4.dtbo through overlay_map.dtb), so a missing file is silently skipped on the Pi.
 * A config.txt that moves the folder (overlay_prefix) is not judged.
 */
export function missingOverlays(configTxt: string, cardPaths: readonly string[]): MissingOverlay[] {
  const { lines } = splitLines(configTxt);
  if (lines.some((l) => /^\s*overlay_prefix\s*=/i.test(l))) return [];
  const have = new Set(cardPaths.map((p) => p.replace(/^\/+/, '').toLowerCase()));
  const missing: MissingOverlay[] = [];
  lines.forEach((text, i) => {
    const m = DTOVERLAY_RE.exec(text);
    if (!m) return;
    const name = m[1]!;
    const file = (n: string) => `overlays/${n.toLowerCase()}.dtbo`;
    if (have.has(file(name)) || have.has(file(`${name}-pi4`))) return;
    if (!missing.some((o) => o.name === name)) missing.push({ name, line: i + 1 });
  });
  return missing;
}

/** The words of a missing overlay, the same at compose time and in card inspect. */
export function missingOverlayWarning(overlay: MissingOverlay): string {
  return `config.txt line ${overlay.line} loads the overlay "${overlay.name}" (dtoverlay=${overlay.name}), but overlays/${overlay.name}.dtbo is not on the card, so the Pi skips it: add ${overlay.name}.dtbo (from the Raspberry Pi firmware's boot/overlays folder) to the firmware's overlays/ folder (an unpacked folder given as --firmware DIR), or drop the line.`;
}
