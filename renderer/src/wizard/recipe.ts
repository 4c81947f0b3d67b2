/** The card recipe the wizard's state describes, as the card.plan/card.write channels take it. */
import type { CardRecipe } from '../../../electron/ipc/channels/card.js';
import { bootConfEdits, type WizardState } from './state.js';
import { mergeBootConf } from './bootconf.js';

/** config.txt changes typed as "key=value" lines; "-key" removes a key. */
export function parseConfigTxtEdits(text: string): { key: string; value: string | null }[] {
  const edits: { key: string; value: string | null }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const removal = /^-([A-Za-z0-9_]+)$/.exec(line);
    if (removal) edits.push({ key: removal[1]!, value: null });
    const m = /^([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (m) edits.push({ key: m[1]!, value: m[2]! });
  }
  return edits;
}

export function bootConfOf(state: WizardState): string {
  return mergeBootConf(state.baseConfig, bootConfEdits(state));
}

export function recipeOf(state: WizardState): CardRecipe {
  if (state.recipe === 'uefi-card') {
    const timeout = state.uefiTimeout === '' ? undefined : Number(state.uefiTimeout);
    return {
      kind: 'uefi',
      firmwarePath: state.firmwarePath.trim(),
      configTxt: parseConfigTxtEdits(state.configTxt),
      uefi: {
        systemTable: state.uefiSystemTable,
        ramLimit3GB: state.uefiRamLimit,
        ...(timeout === undefined ? {} : { bootTimeoutSeconds: timeout }),
      },
    };
  }
  return { kind: 'eeprom-recovery', board: state.board, firmwarePath: state.firmwarePath.trim(), config: bootConfOf(state) };
}
