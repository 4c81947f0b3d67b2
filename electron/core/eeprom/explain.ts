/**
 * A bootloader config in words: each setting with what it does, BOOT_ORDER
 * spelt out as a numbered list. Used by `bootcard eeprom explain`.
 */
import { explainBootOrder } from './boot-order.js';
import { configSections, parseBootConf } from './config.js';
import type { Board } from './image.js';
import { eepromKeySpec } from './schema.js';

export interface ExplainedSetting {
  readonly line: number;
  /** null for lines before any [filter]. */
  readonly section: string | null;
  readonly key: string;
  readonly value: string;
  readonly meaning: string;
}

export interface ConfigExplanation {
  readonly board: Board;
  readonly settings: readonly ExplainedSetting[];
}

function sectionWords(filter: string | null): string {
  if (filter === null || filter === 'all') return 'every board';
  if (filter === 'none') return 'never applied';
  return `only when [${filter}] matches`;
}

export function explainConfig(text: string, board: Board): ConfigExplanation {
  const config = parseBootConf(text);
  const settings: ExplainedSetting[] = [];
  for (const s of configSections(config)) {
    if (s.filter === 'config.txt') continue;
    for (let i = s.start; i < s.end; i++) {
      const line = config.lines[i]!;
      if (line.kind !== 'setting') continue;
      const key = line.key!.trim();
      const value = line.value!.trim();
      const spec = eepromKeySpec(key);
      let meaning = spec ? spec.description : 'not a known bootloader setting (ignored by the bootloader)';
      if (key === 'BOOT_ORDER') {
        try {
          meaning = `boot order: ${explainBootOrder(value, board)}`;
        } catch (error) {
          meaning = `invalid boot order (${error instanceof Error ? error.message : String(error)})`;
        }
      }
      settings.push({ line: i + 1, section: s.filter, key, value, meaning });
    }
  }
  return { board, settings };
}

export function formatExplanation(explanation: ConfigExplanation): string {
  if (explanation.settings.length === 0) return 'The config sets nothing: the bootloader uses its defaults (BOOT_ORDER 0xf41: SD card, then USB, then restart).';
  return explanation.settings
    .map((s) => `line ${s.line} ${s.key}=${s.value} (${sectionWords(s.section)}): ${s.meaning}`)
    .join('\n');
}
