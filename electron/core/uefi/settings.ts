/**
 * Named settings on top of the variable store: what a user picks in the pftf firmware's setup screens
 * (Device Manager > Raspberry Pi Configuration, Boot Maintenance Manager), written into RPI_EFI.fd
 * before the card is written, so the Pi boots configured without a keyboard.
 *
 * `applyUefiSettings(fd, settings)` is the entry point the card recipe calls. PXE first and HTTP first
 * add Boot#### load options (network-boot.ts) and put them first in BootOrder, PXE before HTTP as the
 * homelab guides ask; network boot only also deletes every other Boot####. HTTP first needs no MAC
 * address (its path is a bare URI node), PXE first names the Pi's MAC, so a fleet gets one card per Pi.
 */
import { bytesToHex } from '@noble/hashes/utils';
import { BootcardError } from '../errors.js';
import { uriDevicePath } from './device-path.js';
import { UefiErrorCode } from './errors.js';
import { KnownGuid } from './guid.js';
import {
  ASSET_TAG_MAX_LENGTH,
  ASSET_TAG_STORAGE_SIZE,
  bootOptionName,
  CPU_CLOCK_MODES,
  CUSTOM_CPU_CLOCK_MHZ,
  decodeBootOrder,
  describeVariable,
  encodeUint16,
  encodeUint32,
  FAN_GPIOS,
  FAN_TEMP_CELSIUS,
  GlobalVariable,
  RpiConfigVariable,
  SYSTEM_TABLE_MODES,
  uint16,
  uint32,
  type SystemTableMode,
} from './known-variables.js';
import { bareUriOf, formatMacAddress, HTTP_BOOT_DESCRIPTION, macWarning, NETWORK_BOOT_ONLY_ALONE, networkBootEdits, parseMacAddress, pxeMacOf } from './network-boot.js';
import { editUefiVariables, readNvram } from './nvram.js';
import { ATTRIBUTES_NV_BS_RT, decodeVariableName, encodeVariableName, liveRecords, type VariableEdit } from './variable-store.js';

export type CpuClockSetting = 'low' | 'default' | 'max' | number;

export interface UefiSettings {
  /** true: limit RAM to 3 GB (the firmware's default); false: use all 4/8 GB. */
  readonly ramLimit3GB?: boolean;
  /** ACPI (default), ACPI and device tree, or device tree (for Linux GPIO, I2C, SPI, ...). */
  readonly systemTable?: SystemTableMode;
  /** Boot countdown in seconds, 0 to 65535 (65535 waits forever). */
  readonly bootTimeoutSeconds?: number;
  /** Add the PXEv4 option of the NIC with this MAC (aa:bb:cc:dd:ee:ff) and try it first. */
  readonly pxeBootFirstMac?: string;
  /** Add an HTTP-boot option for this URL and try it first (second, after PXE, when both are set). */
  readonly httpBootFirstUrl?: string;
  /** BootOrder holds only the network options above; every other Boot#### is deleted. */
  readonly networkBootOnly?: boolean;
  /** low, default, max, or a custom clock in MHz (100 to 2200). */
  readonly cpuClock?: CpuClockSetting;
  /** GPIO of a fan switched by the ACPI thermal zone (14, 18 or 19), or 0 for none. */
  readonly fanGpio?: number;
  /** Temperature (50 to 80 °C) at which the fan starts. */
  readonly fanTempCelsius?: number;
  /** SMBIOS asset tag, up to 32 ASCII characters. */
  readonly assetTag?: string;
}

export { HTTP_BOOT_DESCRIPTION };
export const HTTP_BOOT_WARNING =
  'pftf/RPi4 UEFI firmware v1.38 to v1.41 cannot HTTP-boot; use v1.42 or later (or v1.37 or earlier) for --http-boot-first.';

export function hasUefiSettings(settings: UefiSettings | undefined): settings is UefiSettings {
  return settings !== undefined && Object.values(settings).some((v) => v !== undefined);
}

const badSetting = (message: string, details: Record<string, unknown>): never => {
  throw new BootcardError(UefiErrorCode.BAD_SETTING, message, details);
};

/** Checks every value against the ranges the firmware's setup screens allow; throws BAD_SETTING. */
export function validateUefiSettings(s: UefiSettings): void {
  if (s.systemTable !== undefined && !(s.systemTable in SYSTEM_TABLE_MODES)) badSetting(`System table mode must be acpi, both or dt (got "${s.systemTable}").`, { systemTable: s.systemTable });
  if (s.bootTimeoutSeconds !== undefined && (!Number.isInteger(s.bootTimeoutSeconds) || s.bootTimeoutSeconds < 0 || s.bootTimeoutSeconds > 0xffff)) {
    badSetting(`Boot timeout must be a whole number of seconds from 0 to 65535 (got ${s.bootTimeoutSeconds}).`, { bootTimeoutSeconds: s.bootTimeoutSeconds });
  }
  if (typeof s.cpuClock === 'number' && (!Number.isInteger(s.cpuClock) || s.cpuClock < CUSTOM_CPU_CLOCK_MHZ.min || s.cpuClock > CUSTOM_CPU_CLOCK_MHZ.max)) {
    badSetting(`A custom CPU clock must be ${CUSTOM_CPU_CLOCK_MHZ.min} to ${CUSTOM_CPU_CLOCK_MHZ.max} MHz (got ${s.cpuClock}).`, { cpuClock: s.cpuClock });
  }
  if (typeof s.cpuClock === 'string' && !['low', 'default', 'max'].includes(s.cpuClock)) badSetting(`CPU clock must be low, default, max or a number of MHz (got "${s.cpuClock}").`, { cpuClock: s.cpuClock });
  if (s.fanGpio !== undefined && s.fanGpio !== 0 && !FAN_GPIOS.includes(s.fanGpio)) badSetting(`The firmware drives a fan only on GPIO ${FAN_GPIOS.join(', ')} (or 0 for none); got ${s.fanGpio}.`, { fanGpio: s.fanGpio });
  if (s.fanTempCelsius !== undefined && (!Number.isInteger(s.fanTempCelsius) || s.fanTempCelsius < FAN_TEMP_CELSIUS.min || s.fanTempCelsius > FAN_TEMP_CELSIUS.max)) {
    badSetting(`Fan temperature must be ${FAN_TEMP_CELSIUS.min} to ${FAN_TEMP_CELSIUS.max} °C (got ${s.fanTempCelsius}).`, { fanTempCelsius: s.fanTempCelsius });
  }
  if (s.assetTag !== undefined && (s.assetTag.length > ASSET_TAG_MAX_LENGTH || !/^[\x20-\x7e]*$/.test(s.assetTag))) {
    badSetting(`The asset tag must be at most ${ASSET_TAG_MAX_LENGTH} printable ASCII characters.`, { assetTag: s.assetTag });
  }
  if (s.httpBootFirstUrl !== undefined) uriDevicePath(s.httpBootFirstUrl);
  if (s.pxeBootFirstMac !== undefined) parseMacAddress(s.pxeBootFirstMac);
  if (s.networkBootOnly && s.pxeBootFirstMac === undefined && s.httpBootFirstUrl === undefined) badSetting(NETWORK_BOOT_ONLY_ALONE, {});
}

const rpi = (name: string, value: number): VariableEdit => ({ op: 'set', name, guid: KnownGuid.RPI_CONFIG, attributes: ATTRIBUTES_NV_BS_RT, data: encodeUint32(value) });
const global = (name: string, data: Uint8Array): VariableEdit => ({ op: 'set', name, guid: KnownGuid.EFI_GLOBAL_VARIABLE, attributes: ATTRIBUTES_NV_BS_RT, data });

function encodeAssetTag(tag: string): Uint8Array {
  const out = new Uint8Array(ASSET_TAG_STORAGE_SIZE);
  out.set(encodeVariableName(tag));
  return out;
}

export interface UefiSettingsContext {
  /**
   * Device path nodes in front of the NIC's MAC node. None on a Pi (GENET's path is the MAC node
   * alone); edk2's AAVMF puts its virtio NIC behind PciRoot/Pci nodes (the qemu test).
   */
  readonly pxeParentPath?: Uint8Array;
}

/** The edits that put `settings` into the store read from `fd`. */
export function uefiSettingsEdits(fd: Uint8Array, settings: UefiSettings, options: UefiSettingsContext = {}): VariableEdit[] {
  validateUefiSettings(settings);
  const edits: VariableEdit[] = [];
  if (settings.ramLimit3GB !== undefined) edits.push(rpi(RpiConfigVariable.RAM_LIMIT_TO_3GB, settings.ramLimit3GB ? 1 : 0));
  if (settings.systemTable !== undefined) edits.push(rpi(RpiConfigVariable.SYSTEM_TABLE_MODE, SYSTEM_TABLE_MODES[settings.systemTable]));
  if (settings.cpuClock !== undefined) {
    if (typeof settings.cpuClock === 'number') {
      edits.push(rpi(RpiConfigVariable.CPU_CLOCK, CPU_CLOCK_MODES.custom), rpi(RpiConfigVariable.CUSTOM_CPU_CLOCK, settings.cpuClock));
    } else {
      edits.push(rpi(RpiConfigVariable.CPU_CLOCK, CPU_CLOCK_MODES[settings.cpuClock]));
    }
  }
  if (settings.fanGpio !== undefined) edits.push(rpi(RpiConfigVariable.FAN_ON_GPIO, settings.fanGpio));
  if (settings.fanTempCelsius !== undefined) edits.push(rpi(RpiConfigVariable.FAN_TEMP, settings.fanTempCelsius));
  if (settings.assetTag !== undefined) {
    edits.push({ op: 'set', name: RpiConfigVariable.ASSET_TAG, guid: KnownGuid.RPI_CONFIG, attributes: ATTRIBUTES_NV_BS_RT, data: encodeAssetTag(settings.assetTag) });
  }
  if (settings.bootTimeoutSeconds !== undefined) edits.push(global(GlobalVariable.TIMEOUT, encodeUint16(settings.bootTimeoutSeconds)));
  if (settings.pxeBootFirstMac !== undefined || settings.httpBootFirstUrl !== undefined || settings.networkBootOnly) {
    edits.push(
      ...networkBootEdits(liveRecords(readNvram(fd).store), {
        ...(settings.pxeBootFirstMac !== undefined ? { pxeMac: parseMacAddress(settings.pxeBootFirstMac) } : {}),
        ...(options.pxeParentPath ? { pxeParentPath: options.pxeParentPath } : {}),
        ...(settings.httpBootFirstUrl !== undefined ? { httpUrl: settings.httpBootFirstUrl } : {}),
        networkBootOnly: settings.networkBootOnly === true,
      }),
    );
  }
  return edits;
}

export interface ApplyUefiSettingsResult {
  /** A new copy of the firmware file (the input is never changed). */
  readonly fd: Uint8Array;
  readonly warnings: string[];
}

/**
 * Writes the settings into the NVRAM of an RPI_EFI.fd. Throws BootcardError (UEFI_*) with nothing
 * changed when the file has no valid store, the store is full, or an FTW write is pending.
 */
export function applyUefiSettings(fd: Uint8Array, settings: UefiSettings, options: UefiSettingsContext = {}): ApplyUefiSettingsResult {
  const warnings: string[] = [];
  if (!hasUefiSettings(settings)) return { fd: new Uint8Array(fd), warnings };
  const edits = uefiSettingsEdits(fd, settings, options);
  const result = editUefiVariables(fd, edits);
  if (settings.pxeBootFirstMac !== undefined) {
    const warning = macWarning(parseMacAddress(settings.pxeBootFirstMac));
    if (warning) warnings.push(warning);
  }
  if (settings.httpBootFirstUrl !== undefined) warnings.push(HTTP_BOOT_WARNING);
  if (settings.fanTempCelsius !== undefined && settings.fanGpio === undefined) {
    const gpio = readUefiSettings(result.fd).fanGpio;
    if (!gpio) warnings.push('The fan temperature only matters with a fan GPIO set (--fan-gpio 14, 18 or 19).');
  }
  return { fd: result.fd, warnings };
}

/** The named settings currently stored in the file (only those present as live variables). */
export function readUefiSettings(fd: Uint8Array): UefiSettings & { bootOrder?: string[] } {
  const live = liveRecords(readNvram(fd).store);
  const find = (name: string, guid: string) => live.find((r) => r.name === name && r.guid === guid)?.data;
  const rpiValue = (name: string) => {
    const data = find(name, KnownGuid.RPI_CONFIG);
    return data ? uint32(data) : undefined;
  };
  const out: { -readonly [K in keyof UefiSettings]: UefiSettings[K] } & { bootOrder?: string[] } = {};
  const ram = rpiValue(RpiConfigVariable.RAM_LIMIT_TO_3GB);
  if (ram !== undefined) out.ramLimit3GB = ram !== 0;
  const mode = rpiValue(RpiConfigVariable.SYSTEM_TABLE_MODE);
  const modeName = (Object.keys(SYSTEM_TABLE_MODES) as SystemTableMode[]).find((k) => SYSTEM_TABLE_MODES[k] === mode);
  if (modeName) out.systemTable = modeName;
  const clock = rpiValue(RpiConfigVariable.CPU_CLOCK);
  if (clock === CPU_CLOCK_MODES.custom) {
    const mhz = rpiValue(RpiConfigVariable.CUSTOM_CPU_CLOCK);
    if (mhz !== undefined) out.cpuClock = mhz;
  } else if (clock !== undefined) {
    const clockName = (['low', 'default', 'max'] as const)[clock];
    if (clockName) out.cpuClock = clockName;
  }
  const fan = rpiValue(RpiConfigVariable.FAN_ON_GPIO);
  if (fan !== undefined) out.fanGpio = fan;
  const fanTemp = rpiValue(RpiConfigVariable.FAN_TEMP);
  if (fanTemp !== undefined) out.fanTempCelsius = fanTemp;
  const tag = find(RpiConfigVariable.ASSET_TAG, KnownGuid.RPI_CONFIG);
  if (tag) out.assetTag = decodeVariableName(tag);
  const timeout = find(GlobalVariable.TIMEOUT, KnownGuid.EFI_GLOBAL_VARIABLE);
  if (timeout && uint16(timeout) !== undefined) out.bootTimeoutSeconds = uint16(timeout)!;
  const order = find(GlobalVariable.BOOT_ORDER, KnownGuid.EFI_GLOBAL_VARIABLE);
  if (order) {
    const numbers = decodeBootOrder(order);
    out.bootOrder = numbers.map(bootOptionName);
    // The network options at the head of BootOrder are what PXE first / HTTP first wrote.
    for (const n of numbers) {
      const option = live.find((r) => r.name === bootOptionName(n) && r.guid === KnownGuid.EFI_GLOBAL_VARIABLE);
      const mac = option && pxeMacOf(option.data);
      const url = option && bareUriOf(option.data);
      if (mac && out.pxeBootFirstMac === undefined && out.httpBootFirstUrl === undefined) out.pxeBootFirstMac = formatMacAddress(mac).toLowerCase();
      else if (url !== undefined && out.httpBootFirstUrl === undefined) out.httpBootFirstUrl = url;
      else break;
    }
  }
  return out;
}

export interface UefiSettingsPreview {
  readonly warnings: readonly string[];
  /** The variables the settings write, with their values as `bootcard uefi vars list` shows them. */
  readonly variables: readonly { readonly name: string; readonly value: string }[];
}

/** Applies the settings in memory and describes what would be written (for the wizard's preview). */
export function previewUefiSettings(fd: Uint8Array, settings: UefiSettings): UefiSettingsPreview {
  if (!hasUefiSettings(settings)) return { warnings: [], variables: [] };
  const edits = uefiSettingsEdits(fd, settings);
  const { warnings } = applyUefiSettings(fd, settings);
  const variables = edits.map((e) => ({
    name: e.name,
    value: e.op === 'set' ? (describeVariable(e.name, e.guid, e.data) ?? bytesToHex(e.data)) : '(deleted)',
  }));
  return { warnings, variables };
}
