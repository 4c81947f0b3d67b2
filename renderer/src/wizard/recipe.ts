/** The card recipe the wizard's state describes, as the card.plan/card.write channels take it. */
import type { CardRecipe } from '../../../electron/ipc/channels/card.js';
import { bootConfEdits, type WizardState } from './state.js';
import { mergeBootConf } from './bootconf.js';
import { parseConfigTxtEdits } from './configtxt.js';
import { uefiFormConfigTxtEdits, uefiFormSettings } from './uefi-form.js';

export function bootConfOf(state: WizardState): string {
  return mergeBootConf(state.baseConfig, bootConfEdits(state));
}

export function recipeOf(state: WizardState): CardRecipe {
  if (state.recipe === 'uefi-card') {
    const timeout = state.uefiTimeout === '' ? undefined : Number(state.uefiTimeout);
    return {
      kind: 'uefi',
      firmwarePath: state.firmwarePath.trim(),
      // The presets first, so a line typed below can still change what a preset set.
      configTxt: [...uefiFormConfigTxtEdits(state.uefi), ...parseConfigTxtEdits(state.configTxt).edits],
      // Only what differs from the firmware's defaults (RAM limited to 3 GB, ACPI) is written.
      uefi: {
        ...(state.uefiSystemTable !== 'acpi' ? { systemTable: state.uefiSystemTable } : {}),
        ...(state.uefiRamLimit ? {} : { ramLimit3GB: false }),
        ...(timeout === undefined ? {} : { bootTimeoutSeconds: timeout }),
        ...uefiFormSettings(state.uefi),
      },
    };
  }
  return { kind: 'eeprom-recovery', board: state.board, firmwarePath: state.firmwarePath.trim(), config: bootConfOf(state) };
}
