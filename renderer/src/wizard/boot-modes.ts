/**
 * The boot modes offered in the BOOT_ORDER list and the sentence beside it,
 * straight from the EEPROM core (pure modules), so the wizard and
 * `bootcard eeprom` say the same words.
 */
import { BOOT_MODES, explainBootOrder, selectableBootModes } from '../../../electron/core/eeprom/boot-order.js';
import type { Board } from './state.js';
import { bootOrderHex } from './bootconf.js';

export interface BootModeOption {
  readonly value: number;
  readonly label: string;
  readonly note?: string;
}

export function bootModesFor(board: Board): readonly BootModeOption[] {
  return selectableBootModes(board).map((m) => ({ value: m.nibble, label: m.label, ...(m.note ? { note: m.note } : {}) }));
}

export function bootModeLabel(board: Board, value: number): string {
  return BOOT_MODES[board][value]?.label ?? `mode 0x${value.toString(16)}`;
}

/** "1. network (TFTP) 2. SD card 3. restart", as the CLI explains it. */
export function explainModes(board: Board, modes: readonly number[]): string {
  if (modes.length === 0) return '';
  try {
    return explainBootOrder(bootOrderHex(modes), board);
  } catch {
    return '';
  }
}
