/**
 * The UEFI settings options, shared by `bootcard uefi vars set` and `bootcard card uefi`:
 *   addUefiSettingsOptions(cmd)        adds --ram-limit, --system-table, --boot-timeout, --pxe-boot-first,
 *                                      --http-boot-first, --network-boot-only, --cpu-clock, --fan-gpio,
 *                                      --fan-temp, --asset-tag
 *   uefiSettingsFromOptions(opts)      turns the parsed options into UefiSettings (undefined when none
 *                                      was given); bad values are usage errors (exit 2)
 */
import { Option, type Command } from 'commander';
import { BootcardError } from '../core/errors.js';
import { hasUefiSettings, validateUefiSettings, type UefiSettings } from '../core/uefi/settings.js';
import { usageError } from './program.js';

export interface UefiSettingsOptions {
  readonly ramLimit?: string;
  readonly systemTable?: string;
  readonly bootTimeout?: string;
  readonly pxeBootFirst?: string;
  readonly httpBootFirst?: string;
  readonly networkBootOnly?: boolean;
  readonly cpuClock?: string;
  readonly fanGpio?: string;
  readonly fanTemp?: string;
  readonly assetTag?: string;
}

export function addUefiSettingsOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--ram-limit <on|off>', 'UEFI: limit RAM to 3 GB (on, the firmware default) or use all 4/8 GB (off)').choices(['on', 'off']))
    .addOption(new Option('--system-table <mode>', 'UEFI: ACPI (acpi), ACPI and device tree (both), or device tree (dt, for Linux GPIO/I2C/SPI)').choices(['acpi', 'both', 'dt']))
    .option('--boot-timeout <seconds>', 'UEFI: boot menu countdown in seconds (0-65535)')
    .option('--pxe-boot-first <mac>', "UEFI: try PXE boot (IPv4) first on the Pi with this Ethernet MAC (aa:bb:cc:dd:ee:ff); before --http-boot-first when both are given")
    .option('--http-boot-first <url>', 'UEFI: add an HTTP boot option for this URL and try it first (not with pftf v1.38-v1.41)')
    .option('--network-boot-only', 'UEFI: BootOrder holds only the --pxe-boot-first/--http-boot-first options; every other boot option is deleted')
    .option('--cpu-clock <low|default|max|MHz>', 'UEFI: CPU clock: low, default, max, or a custom 100-2200 MHz')
    .option('--fan-gpio <pin|off>', 'UEFI: GPIO of a fan the firmware switches (14, 18 or 19), or off')
    .option('--fan-temp <celsius>', 'UEFI: temperature at which the fan starts (50-80)')
    .option('--asset-tag <text>', 'UEFI: SMBIOS asset tag (up to 32 characters)');
}

function wholeNumber(option: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw usageError(`${option} expects a whole number, got "${value}".`);
  return Number(value.trim());
}

/** UefiSettings from parsed options, or undefined when no UEFI option was given. */
export function uefiSettingsFromOptions(opts: UefiSettingsOptions): UefiSettings | undefined {
  const settings: { -readonly [K in keyof UefiSettings]: UefiSettings[K] } = {};
  if (opts.ramLimit !== undefined) {
    if (opts.ramLimit !== 'on' && opts.ramLimit !== 'off') throw usageError(`--ram-limit expects on or off, got "${opts.ramLimit}".`);
    settings.ramLimit3GB = opts.ramLimit === 'on';
  }
  if (opts.systemTable !== undefined) {
    if (opts.systemTable !== 'acpi' && opts.systemTable !== 'both' && opts.systemTable !== 'dt') throw usageError(`--system-table expects acpi, both or dt, got "${opts.systemTable}".`);
    settings.systemTable = opts.systemTable;
  }
  if (opts.bootTimeout !== undefined) settings.bootTimeoutSeconds = wholeNumber('--boot-timeout', opts.bootTimeout);
  if (opts.pxeBootFirst !== undefined) settings.pxeBootFirstMac = opts.pxeBootFirst;
  if (opts.httpBootFirst !== undefined) settings.httpBootFirstUrl = opts.httpBootFirst;
  if (opts.networkBootOnly) settings.networkBootOnly = true;
  if (opts.cpuClock !== undefined) {
    const c = opts.cpuClock.trim();
    settings.cpuClock = c === 'low' || c === 'default' || c === 'max' ? c : wholeNumber('--cpu-clock', c);
  }
  if (opts.fanGpio !== undefined) settings.fanGpio = opts.fanGpio === 'off' ? 0 : wholeNumber('--fan-gpio', opts.fanGpio);
  if (opts.fanTemp !== undefined) settings.fanTempCelsius = wholeNumber('--fan-temp', opts.fanTemp);
  if (opts.assetTag !== undefined) settings.assetTag = opts.assetTag;
  if (!hasUefiSettings(settings)) return undefined;
  try {
    validateUefiSettings(settings);
  } catch (error) {
    if (error instanceof BootcardError) throw usageError(error.message);
    throw error;
  }
  return settings;
}

/** The UEFI options a `card uefi --batch` file may set per Pi, by their option names (the MAC has its own column). */
export const UEFI_SETTING_COLUMNS: readonly string[] = [
  'ram-limit',
  'system-table',
  'boot-timeout',
  'http-boot-first',
  'network-boot-only',
  'cpu-clock',
  'fan-gpio',
  'fan-temp',
  'asset-tag',
];

/** A batch row's cells as parsed options (what the same option on the command line would give). */
export function uefiOptionsFromColumns(values: Readonly<Record<string, string>>): UefiSettingsOptions {
  const out: Record<string, string | boolean> = {};
  for (const [column, value] of Object.entries(values)) {
    if (!UEFI_SETTING_COLUMNS.includes(column)) throw usageError(`"${column}" is not a UEFI setting.`);
    const key = column.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (column === 'network-boot-only') {
      const v = value.toLowerCase();
      if (!['yes', 'no', 'true', 'false', '1', '0'].includes(v)) throw usageError(`network-boot-only expects yes or no, got "${value}".`);
      out[key] = ['yes', 'true', '1'].includes(v);
    } else out[key] = value;
  }
  return out as UefiSettingsOptions;
}
