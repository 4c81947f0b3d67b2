import { parseConfigTxtArgument, type ConfigTxtEdit } from '../../../electron/core/configtxt/config-txt.js';

/** config.txt changes typed one a line, parsed by the card core as `--config-txt` arguments are. */
export function parseConfigTxtEdits(text: string): { edits: ConfigTxtEdit[]; problems: string[] } {
  const edits: ConfigTxtEdit[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      edits.push(parseConfigTxtArgument(line));
    } catch (error) {
      problems.push(`Line ${i + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  return { edits, problems };
}
