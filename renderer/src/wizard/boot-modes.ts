/**
 * The boot modes offered in the BOOT_ORDER list, per board. TEMPORARY until
 * electron/core/eeprom exports BOOT_MODES; then this module re-exports it.
 */
import type { Board } from './state.js';

export interface BootModeOption {
  readonly value: number;
  readonly label: string;
}

const COMMON: readonly BootModeOption[] = [
  { value: 0x1, label: 'SD card' },
  { value: 0x2, label: 'network (TFTP)' },
  { value: 0x4, label: 'USB mass storage' },
  { value: 0x6, label: 'NVMe' },
  { value: 0x7, label: 'HTTP' },
  { value: 0x3, label: 'RPIBOOT' },
  { value: 0xe, label: 'stop' },
  { value: 0xf, label: 'restart' },
];

export function bootModesFor(board: Board): readonly BootModeOption[] {
  return board === '2711' ? [...COMMON.slice(0, 3), { value: 0x5, label: 'USB 2.0 (BCM)' }, ...COMMON.slice(3)] : COMMON;
}

export function bootModeLabel(board: Board, value: number): string {
  return bootModesFor(board).find((m) => m.value === value)?.label ?? `mode 0x${value.toString(16)}`;
}

export function explainBootOrderLocal(board: Board, modes: readonly number[]): string {
  return modes.map((m, i) => `${i + 1}. ${bootModeLabel(board, m)}`).join(' ');
}
