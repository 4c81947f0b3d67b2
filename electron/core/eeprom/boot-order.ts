/**
 * BOOT_ORDER: a 32-bit value written in hex, one boot mode per 4-bit nibble,
 * tried from the least-significant nibble up (0xf142 = network, USB mass
 * storage, SD card, restart). 0xf (restart) goes back to the first nibble,
 * 0xe (stop) halts; a list should end in one of them. Up to 8 modes.
 *
 * The same words are used by the CLI (`bootcard eeprom explain`) and the
 * wizard's reorderable list (BOOT_MODES), so this module is pure and imports
 * nothing from Node.
 */
import { BootcardError } from '../errors.js';
import { EepromDiagnosticCode, EepromErrorCode } from './codes.js';
import type { Diagnostic } from './diagnostics.js';
import type { Board } from './image.js';

/** How a boot mode stands on one board. */
export type BootModeSupport = 'supported' | 'limited' | 'unavailable' | 'undefined';

export interface BootMode {
  readonly nibble: number;
  /** Official mode name (as in the bootloader documentation). */
  readonly name: string;
  /** Words for people: "network (TFTP)". */
  readonly label: string;
  readonly support: BootModeSupport;
  /** Why it is limited or unavailable on this board. */
  readonly note?: string;
  /** RESTART or STOP: ends a pass through the list. */
  readonly terminal: boolean;
}

interface ModeDef {
  readonly nibble: number;
  readonly name: string;
  readonly label: string;
  readonly support: Readonly<Record<Board, BootModeSupport>>;
  readonly note?: Readonly<Partial<Record<Board, string>>>;
}

const MODE_DEFS: readonly ModeDef[] = [
  { nibble: 0x0, name: 'SD CARD DETECT', label: 'SD card, then wait for a card change', support: { '2711': 'limited', '2712': 'limited' }, note: { '2711': 'deprecated: use 0x1 and 0xf', '2712': 'deprecated: use 0x1 and 0xf' } },
  { nibble: 0x1, name: 'SD CARD', label: 'SD card', support: { '2711': 'supported', '2712': 'supported' } },
  { nibble: 0x2, name: 'NETWORK', label: 'network (TFTP)', support: { '2711': 'supported', '2712': 'supported' } },
  { nibble: 0x3, name: 'RPIBOOT', label: 'USB device boot (rpiboot)', support: { '2711': 'limited', '2712': 'limited' }, note: { '2711': 'waits forever: put it last', '2712': 'waits forever: put it last' } },
  { nibble: 0x4, name: 'USB-MSD', label: 'USB mass storage', support: { '2711': 'supported', '2712': 'supported' } },
  { nibble: 0x5, name: 'BCM-USB-MSD', label: 'USB 2.0 mass storage (SoC port)', support: { '2711': 'supported', '2712': 'unavailable' }, note: { '2712': 'the Pi 5 has no BCM-USB-MSD mode' } },
  { nibble: 0x6, name: 'NVME', label: 'NVMe SSD', support: { '2711': 'limited', '2712': 'supported' }, note: { '2711': 'Compute Module 4 only (the Pi 4B and Pi 400 PCIe bus holds the USB controller)' } },
  { nibble: 0x7, name: 'HTTP', label: 'HTTP boot', support: { '2711': 'supported', '2712': 'supported' } },
  ...[0x8, 0x9, 0xa, 0xb, 0xc, 0xd].map((nibble): ModeDef => ({
    nibble,
    name: 'RESERVED',
    label: `undefined mode 0x${nibble.toString(16)}`,
    support: { '2711': 'undefined', '2712': 'undefined' },
  })),
  { nibble: 0xe, name: 'STOP', label: 'stop', support: { '2711': 'supported', '2712': 'supported' } },
  { nibble: 0xf, name: 'RESTART', label: 'restart', support: { '2711': 'supported', '2712': 'supported' } },
];

function modesFor(board: Board): readonly BootMode[] {
  return MODE_DEFS.map((d) => {
    const note = d.note?.[board];
    const mode: BootMode = {
      nibble: d.nibble,
      name: d.name,
      label: d.label,
      support: d.support[board],
      terminal: d.nibble === 0xe || d.nibble === 0xf,
      ...(note !== undefined ? { note } : {}),
    };
    return mode;
  });
}

/** Every nibble value 0x0-0xf with its meaning, per board (index = nibble). */
export const BOOT_MODES: Readonly<Record<Board, readonly BootMode[]>> = { '2711': modesFor('2711'), '2712': modesFor('2712') };

/** The nibbles a person may pick on this board, in the order a list offers them. */
export function selectableBootModes(board: Board): readonly BootMode[] {
  return BOOT_MODES[board].filter((m) => m.support === 'supported' || (m.support === 'limited' && m.nibble !== 0x0));
}

export const MAX_BOOT_MODES = 8;
const BOOT_ORDER_RE = /^0x([0-9a-f]{1,8})$/i;

export interface BootOrderStep {
  readonly position: number;
  readonly mode: BootMode;
  /** After a restart or stop: never tried. */
  readonly reachable: boolean;
}

export interface BootOrder {
  readonly value: number;
  /** Canonical lower-case form, e.g. "0xf142". */
  readonly hex: string;
  readonly board: Board;
  readonly steps: readonly BootOrderStep[];
  /** 'restart', 'stop', or null when the list has no terminator. */
  readonly ending: 'restart' | 'stop' | null;
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses "0xf142". Throws EEPROM_BAD_BOOT_ORDER when it is not 0x + 1-8 hex digits. */
export function parseBootOrder(hex: string, board: Board): BootOrder {
  const text = hex.trim();
  const m = BOOT_ORDER_RE.exec(text);
  if (!m) {
    throw new BootcardError(
      EepromErrorCode.BAD_BOOT_ORDER,
      `BOOT_ORDER "${hex}" is not a boot order: write 0x and 1 to 8 hex digits, one boot mode per digit, read right to left (e.g. 0xf142 = network, USB, SD card, restart).`,
      { value: hex },
    );
  }
  const digits = m[1]!.toLowerCase();
  const value = Number.parseInt(digits, 16) >>> 0;
  const significant = value === 0 ? 1 : Math.floor(Math.log2(value) / 4) + 1;
  const modes = BOOT_MODES[board];
  const steps: BootOrderStep[] = [];
  const diagnostics: Diagnostic[] = [];
  let ending: BootOrder['ending'] = null;
  const boardName = board === '2711' ? 'Pi 4 (BCM2711)' : 'Pi 5 (BCM2712)';
  for (let i = 0; i < significant; i++) {
    const nibble = (value >>> (4 * i)) & 0xf;
    const mode = modes[nibble]!;
    const reachable = ending === null;
    steps.push({ position: i + 1, mode, reachable });
    const where = `BOOT_ORDER ${'0x' + digits}: mode ${i + 1} (0x${nibble.toString(16)})`;
    if (mode.support === 'undefined') {
      diagnostics.push({ severity: 'error', key: 'BOOT_ORDER', code: EepromDiagnosticCode.BOOT_ORDER_UNDEFINED_MODE, message: `${where} is not a boot mode; use 1 SD, 2 network, 3 rpiboot, 4 USB, ${board === '2711' ? '5 USB 2.0, ' : ''}6 NVMe, 7 HTTP, e stop, f restart.` });
    } else if (mode.support === 'unavailable') {
      diagnostics.push({ severity: 'error', key: 'BOOT_ORDER', code: EepromDiagnosticCode.BOOT_ORDER_MODE_NOT_ON_BOARD, message: `${where} ${mode.name} does not exist on the ${boardName}: ${mode.note ?? 'remove it'}.` });
    } else if (mode.support === 'limited' && mode.nibble !== 0x3) {
      diagnostics.push({ severity: 'warning', key: 'BOOT_ORDER', code: EepromDiagnosticCode.BOOT_ORDER_MODE_NOT_ON_BOARD, message: `${where} ${mode.name}: ${mode.note ?? 'limited on this board'}.` });
    }
    if (!reachable) {
      diagnostics.push({ severity: 'warning', key: 'BOOT_ORDER', code: EepromDiagnosticCode.BOOT_ORDER_NO_END, message: `${where} comes after ${ending} and is never tried.` });
    }
    if (reachable && mode.nibble === 0xf) ending = 'restart';
    else if (reachable && mode.nibble === 0xe) ending = 'stop';
  }
  if (ending === null) {
    diagnostics.push({ severity: 'warning', key: 'BOOT_ORDER', code: EepromDiagnosticCode.BOOT_ORDER_NO_END, message: `BOOT_ORDER 0x${digits} never ends in restart (f) or stop (e); what the bootloader does after the last mode is undocumented. Put f (loop) or e (stop) as the leftmost digit, e.g. 0xf${digits}.` });
  }
  const rpibootAt = steps.findIndex((s) => s.mode.nibble === 0x3 && s.reachable);
  if (rpibootAt >= 0) {
    const later = steps.slice(rpibootAt + 1).filter((s) => s.reachable && !s.mode.terminal);
    if (later.length > 0) {
      diagnostics.push({ severity: 'warning', key: 'BOOT_ORDER', code: EepromDiagnosticCode.BOOT_ORDER_RPIBOOT_NOT_LAST, message: `BOOT_ORDER 0x${digits}: rpiboot (3) waits forever, so the modes after it are never tried unless BOOT_WATCHDOG_TIMEOUT is set; put 3 last.` });
    }
  }
  return { value, hex: `0x${value.toString(16)}`, board, steps, ending, diagnostics };
}

/** "1. network (TFTP) 2. USB mass storage 3. SD card 4. restart" */
export function explainBootOrder(hex: string, board: Board): string {
  const order = parseBootOrder(hex, board);
  return order.steps
    .filter((s) => s.reachable)
    .map((s) => `${s.position}. ${s.mode.label}`)
    .join(' ');
}

/** Packs nibbles (first-tried first) into a BOOT_ORDER value: [0x2, 0x4, 0x1, 0xf] -> "0xf142". */
export function formatBootOrder(nibbles: readonly number[]): string {
  if (nibbles.length === 0 || nibbles.length > MAX_BOOT_MODES || nibbles.some((n) => !Number.isInteger(n) || n < 0 || n > 0xf)) {
    throw new BootcardError(EepromErrorCode.BAD_BOOT_ORDER, `A boot order holds 1 to ${MAX_BOOT_MODES} modes, each 0x0-0xf.`, { nibbles: [...nibbles] });
  }
  return `0x${[...nibbles].reverse().map((n) => n.toString(16)).join('')}`;
}
