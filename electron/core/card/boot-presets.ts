/**
 * The named bootloader boot orders, one list for the CLI (`card recovery --preset`) and the
 * wizard's What step, each shown with its order in words. Three are Raspberry Pi Imager's
 * bootloader cards ("SD card boot", "USB boot", "Network boot": SD card first, then network);
 * "network-first" is bootcard's own for Pis that should always try the network first.
 * Pure: the renderer imports it.
 */
import { explainBootOrder, formatBootOrder } from '../eeprom/boot-order.js';
import type { Board } from '../eeprom/image.js';

export const BOOT_PRESET_NAMES = ['sd', 'usb', 'network', 'network-first'] as const;
export type BootPresetName = (typeof BOOT_PRESET_NAMES)[number];

export interface BootPresetInfo {
  readonly name: BootPresetName;
  /** What the wizard's radio button says. */
  readonly title: string;
  /** Where it comes from, for help text. */
  readonly origin: string;
  /** Boot modes per board, first tried first. */
  readonly modes: Readonly<Record<Board, readonly number[]>>;
}

export const BOOT_PRESETS: readonly BootPresetInfo[] = [
  { name: 'sd', title: 'SD first', origin: 'Raspberry Pi Imager\'s "SD card boot"', modes: { '2711': [0x1, 0x4, 0xf], '2712': [0x1, 0x6, 0x4, 0xf] } },
  { name: 'usb', title: 'USB first', origin: 'Raspberry Pi Imager\'s "USB boot"', modes: { '2711': [0x4, 0x1, 0xf], '2712': [0x6, 0x4, 0x1, 0xf] } },
  { name: 'network', title: 'Network boot', origin: 'Raspberry Pi Imager\'s "Network boot"', modes: { '2711': [0x1, 0x2, 0xf], '2712': [0x1, 0x2, 0xf] } },
  { name: 'network-first', title: 'Network first', origin: 'bootcard\'s own', modes: { '2711': [0x2, 0x1, 0xf], '2712': [0x2, 0x1, 0xf] } },
];

export function isBootPresetName(name: string): name is BootPresetName {
  return (BOOT_PRESET_NAMES as readonly string[]).includes(name);
}

export function bootPreset(name: BootPresetName): BootPresetInfo {
  return BOOT_PRESETS.find((p) => p.name === name)!;
}

/** "0xf21" */
export function bootPresetHex(name: BootPresetName, board: Board): string {
  return formatBootOrder(bootPreset(name).modes[board]);
}

/** "BOOT_ORDER=0xf21: 1. SD card 2. network (TFTP) 3. restart" */
export function bootPresetWords(name: BootPresetName, board: Board): string {
  const hex = bootPresetHex(name, board);
  return `BOOT_ORDER=${hex}: ${explainBootOrder(hex, board)}`;
}
