/**
 * Named settings on top of the variable store: what a user picks in the pftf firmware's setup screens
 * (Device Manager > Raspberry Pi Configuration, Boot Maintenance Manager), written into RPI_EFI.fd
 * before the card is written, so the Pi boots configured without a keyboard.
 *
 * `applyUefiSettings(fd, settings)` is the entry point the card recipe calls. HTTP boot first adds a
 * Boot#### load option whose device path is a bare URI node (device-path.ts) and puts it first in
 * BootOrder; it needs no MAC address, so one card works for every Pi. PXE first is not offered: the
 * firmware's own PXE options start with the network controller's path and the Pi's MAC, which bootcard
 * cannot know offline.
 */
import { bytesToHex } from '@noble/hashes/utils';
import { BootcardError } from '../errors.js';
import { uriDevicePath, decodeLoadOption, encodeLoadOption, LOAD_OPTION_ACTIVE, parseDevicePath, DevicePathType, MSG_URI_DP } from './device-path.js';
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
  encodeBootOrder,
  encodeUint16,
  encodeUint32,
  FAN_GPIOS,
  FAN_TEMP_CELSIUS,
  GlobalVariable,
  isBootOptionName,
  RpiConfigVariable,
  SYSTEM_TABLE_MODES,
  uint16,
  uint32,
  type SystemTableMode,
} from './known-variables.js';
import { editUefiVariables, readNvram } from './nvram.js';
import { ATTRIBUTES_NV_BS_RT, decodeVariableName, encodeVariableName, liveRecords, type VariableEdit, type VariableRecord } from './variable-store.js';

export type CpuClockSetting = 'low' | 'default' | 'max' | number;

export interface UefiSettings {
  /** true: limit RAM to 3 GB (the firmware's default); false: use all 4/8 GB. */
  readonly ramLimit3GB?: boolean;
  /** ACPI (default), ACPI and device tree, or device tree (for Linux GPIO, I2C, SPI, ...). */
  readonly systemTable?: SystemTableMode;
  /** Boot countdown in seconds, 0 to 65535 (65535 waits forever). */
  readonly bootTimeoutSeconds?: number;
  /** Add an HTTP-boot option for this URL and try it first. */
  readonly httpBootFirstUrl?: string;
  /** low, default, max, or a custom clock in MHz (100 to 2200). */
  readonly cpuClock?: CpuClockSetting;
  /** GPIO of a fan switched by the ACPI thermal zone (14, 18 or 19), or 0 for none. */
  readonly fanGpio?: number;
  /** Temperature (50 to 80 °C) at which the fan starts. */
  readonly fanTempCelsius?: number;
  /** SMBIOS asset tag, up to 32 ASCII characters. */
  readonly assetTag?: string;
}

export const HTTP_BOOT_DESCRIPTION = 'UEFI HTTP boot (bootcard)';
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
}

const rpi = (name: string, value: number): VariableEdit => ({ op: 'set', name, guid: KnownGuid.RPI_CONFIG, attributes: ATTRIBUTES_NV_BS_RT, data: encodeUint32(value) });
const global = (name: string, data: Uint8Array): VariableEdit => ({ op: 'set', name, guid: KnownGuid.EFI_GLOBAL_VARIABLE, attributes: ATTRIBUTES_NV_BS_RT, data });

function encodeAssetTag(tag: string): Uint8Array {
  const out = new Uint8Array(ASSET_TAG_STORAGE_SIZE);
  out.set(encodeVariableName(tag));
  return out;
}

/** True for a Boot#### whose device path is one URI node (what bootcard writes). */
function bareUriOption(record: VariableRecord): boolean {
  const option = decodeLoadOption(record.data);
  const nodes = option && parseDevicePath(option.filePathList);
  return !!nodes && nodes.length === 2 && nodes[0]!.type === DevicePathType.MESSAGING && nodes[0]!.subType === MSG_URI_DP;
}

/** The edits that put `settings` into the store read from `fd`. */
export function uefiSettingsEdits(fd: Uint8Array, settings: UefiSettings): VariableEdit[] {
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
  if (settings.httpBootFirstUrl !== undefined) {
    const live = liveRecords(readNvram(fd).store).filter((r) => r.guid === KnownGuid.EFI_GLOBAL_VARIABLE);
    const orderRecord = live.find((r) => r.name === GlobalVariable.BOOT_ORDER);
    const order = orderRecord ? decodeBootOrder(orderRecord.data) : [];
    const options = live.filter((r) => isBootOptionName(r.name));
    // Reuse an option bootcard wrote before (same description, bare URI path), else the lowest free number.
    const previous = options.find((r) => bareUriOption(r) && decodeLoadOption(r.data)?.description === HTTP_BOOT_DESCRIPTION);
    const used = new Set([...order, ...options.map((r) => parseInt(r.name.slice(4), 16))]);
    let number = previous ? parseInt(previous.name.slice(4), 16) : 0;
    if (!previous) while (used.has(number)) number++;
    if (number > 0xffff) badSetting('Every Boot#### number is in use.', {});
    const option = encodeLoadOption({ attributes: LOAD_OPTION_ACTIVE, description: HTTP_BOOT_DESCRIPTION, filePathList: uriDevicePath(settings.httpBootFirstUrl) });
    edits.push(global(bootOptionName(number), option));
    edits.push(global(GlobalVariable.BOOT_ORDER, encodeBootOrder([number, ...order.filter((n) => n !== number)])));
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
export function applyUefiSettings(fd: Uint8Array, settings: UefiSettings): ApplyUefiSettingsResult {
  const warnings: string[] = [];
  if (!hasUefiSettings(settings)) return { fd: new Uint8Array(fd), warnings };
  const edits = uefiSettingsEdits(fd, settings);
  const result = editUefiVariables(fd, edits);
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
    const first = numbers[0] !== undefined ? live.find((r) => r.name === bootOptionName(numbers[0]!) && r.guid === KnownGuid.EFI_GLOBAL_VARIABLE) : undefined;
    if (first && bareUriOption(first)) {
      const node = parseDevicePath(decodeLoadOption(first.data)!.filePathList)![0]!;
      out.httpBootFirstUrl = String.fromCharCode(...node.data);
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
