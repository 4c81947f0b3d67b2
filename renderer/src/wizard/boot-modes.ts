/**
 * The boot modes offered in the BOOT_ORDER list and the sentence beside it,
 * straight from the EEPROM core (pure modules), so the wizard and
 * `bootcard eeprom` say the same words.
 */
import { BOOT_MODES, explainBootOrder, parseBootOrder, selectableBootModes } from '../../../electron/core/eeprom/boot-order.js';
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

/** Restart (0xf) and stop (0xe) end a pass: nothing after them is ever tried. */
function isTerminator(mode: number): boolean {
  return mode === 0xe || mode === 0xf;
}

/** The list with `mode` added where it can run: before the first restart/stop, or last when there is none. */
export function withModeAdded(modes: readonly number[], mode: number): readonly number[] {
  const end = modes.findIndex(isTerminator);
  if (end < 0 || isTerminator(mode)) return [...modes, mode];
  return [...modes.slice(0, end), mode, ...modes.slice(end)];
}

/**
 * The EEPROM validator's BOOT_ORDER warnings (a mode after restart/stop, no
 * restart/stop at all, rpiboot not last), for beside the list, and which rows
 * are never tried.
 */
export function bootOrderWarnings(board: Board, modes: readonly number[]): { warnings: readonly string[]; unreachable: ReadonlySet<number> } {
  if (modes.length === 0) return { warnings: [], unreachable: new Set() };
  try {
    const order = parseBootOrder(bootOrderHex(modes), board);
    return {
      warnings: order.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.message),
      unreachable: new Set(order.steps.flatMap((s, i) => (s.reachable ? [] : [i]))),
    };
  } catch {
    return { warnings: [], unreachable: new Set() };
  }
}
