/**
 * The wizard's bootloader settings as boot.conf text: BOOT_ORDER from the
 * ordered list of modes (first tried = least significant nibble), TFTP_IP,
 * TFTP_PREFIX / TFTP_PREFIX_STR, and free advanced lines, merged into the
 * config the base image already carries. Pure: no I/O, no React.
 */
import { formatBootOrder } from '../../../electron/core/eeprom/boot-order.js';
import { parseAssignment, parseBootConf, removeBootConfValue, serializeBootConf, setBootConfValue } from '../../../electron/core/eeprom/config.js';

/** BOOT_ORDER is read right to left: the first mode tried is the lowest nibble. */
export function bootOrderHex(modes: readonly number[]): string {
  return modes.length === 0 ? '0x0' : formatBootOrder(modes);
}

export function bootOrderModes(hex: string): number[] {
  const digits = hex.replace(/^0x/i, '');
  return [...digits].reverse().map((d) => parseInt(d, 16));
}

export type TftpPrefixMode = 'serial' | 'string' | 'mac';
export const TFTP_PREFIX_VALUE: Record<TftpPrefixMode, number> = { serial: 0, string: 1, mac: 2 };

export interface NetworkSettings {
  readonly tftpIp: string;
  readonly prefixMode: TftpPrefixMode;
  readonly prefixString: string;
}

/** What the Pi will ask the TFTP server for first, e.g. "e45f1b2a/start4.elf". */
export function tftpPreview(settings: NetworkSettings, board: '2711' | '2712'): string {
  const file = board === '2711' ? 'start4.elf' : 'config.txt';
  switch (settings.prefixMode) {
    case 'serial':
      return `<serial>/${file}  (the Pi's 8-digit serial number, e.g. e45f1b2a/${file})`;
    case 'mac':
      return `<MAC>/${file}  (the Pi's MAC address, e.g. dc-a6-32-01-36-c2/${file})`;
    case 'string':
      return `${settings.prefixString}${file}`;
  }
}

/**
 * Sets (value) or removes (null) keys in a boot.conf with the EEPROM core's
 * editor (the same one `bootcard eeprom build --set/--unset` uses), keeping
 * every other line and comment as it was.
 */
export function mergeBootConf(base: string, edits: Readonly<Record<string, string | null>>): string {
  let config = parseBootConf(base === '' ? '[all]\n' : base);
  for (const [key, value] of Object.entries(edits)) {
    config = value === null ? removeBootConfValue(config, key, '*') : setBootConfValue(config, key, value, 'all');
  }
  const text = serializeBootConf(config);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** Parses "KEY=value" lines the user typed under Advanced into edits (blank lines and comments skipped). */
export function parseAdvancedLines(text: string): { edits: Record<string, string>; problems: string[] } {
  const edits: Record<string, string> = {};
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      const { key, value } = parseAssignment(line);
      edits[key] = value;
    } catch (error) {
      problems.push(`Line ${i + 1}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  return { edits, problems };
}
