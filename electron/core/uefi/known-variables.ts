/**
 * The variables bootcard knows by name, with their types as the firmware defines them:
 * - Raspberry Pi settings, vendor GUID gConfigDxeFormSetGuid (edk2-platforms Platform/RaspberryPi:
 *   RPi4.dsc [PcdsDynamicHii], Include/ConfigVars.h, Drivers/ConfigDxe/ConfigDxeHii.vfr). All NV+BS+RT.
 *     RamLimitTo3GB    UINT32  1 limit RAM to 3 GB (default), 0 use all of it
 *     SystemTableMode  UINT32  0 ACPI (default), 1 ACPI + device tree, 2 device tree
 *     CpuClock         UINT32  0 low, 1 default (1500 MHz), 2 max, 3 custom (CustomCpuClock)
 *     CustomCpuClock   UINT32  MHz, 100 to 2200
 *     FanOnGpio        UINT32  0 off, or the GPIO of the fan: 14, 18 or 19
 *     FanTemp          UINT32  degrees C at which the fan starts, 50 to 80 (default 60)
 *     AssetTag         CHAR16[33]  SMBIOS asset tag, up to 32 characters, NUL padded
 * - EFI global variables, vendor GUID 8be4df61-93ca-11d2-aa0d-00e098032b8c (UEFI spec 3.3), NV+BS+RT:
 *     Timeout          UINT16  seconds of the boot countdown (0xFFFF waits forever)
 *     BootOrder        UINT16[]  Boot#### numbers in the order the boot manager tries them
 *     Boot####         EFI_LOAD_OPTION (device-path.ts)
 */
import { decodeLoadOption, devicePathToText, LOAD_OPTION_ACTIVE } from './device-path.js';
import { KnownGuid } from './guid.js';
import { decodeVariableName } from './variable-store.js';

export const RpiConfigVariable = {
  RAM_LIMIT_TO_3GB: 'RamLimitTo3GB',
  SYSTEM_TABLE_MODE: 'SystemTableMode',
  CPU_CLOCK: 'CpuClock',
  CUSTOM_CPU_CLOCK: 'CustomCpuClock',
  FAN_ON_GPIO: 'FanOnGpio',
  FAN_TEMP: 'FanTemp',
  ASSET_TAG: 'AssetTag',
} as const;

export const GlobalVariable = {
  TIMEOUT: 'Timeout',
  BOOT_ORDER: 'BootOrder',
} as const;

export const SYSTEM_TABLE_MODES = { acpi: 0, both: 1, dt: 2 } as const;
export type SystemTableMode = keyof typeof SYSTEM_TABLE_MODES;
export const CPU_CLOCK_MODES = { low: 0, default: 1, max: 2, custom: 3 } as const;
export const CUSTOM_CPU_CLOCK_MHZ = { min: 100, max: 2200 } as const;
export const FAN_GPIOS: readonly number[] = [14, 18, 19];
export const FAN_TEMP_CELSIUS = { min: 50, max: 80 } as const;
export const ASSET_TAG_MAX_LENGTH = 32;
/** sizeof (CHAR16[ASSET_TAG_STR_STORAGE_SIZE]): ConfigDxe reads exactly this many bytes. */
export const ASSET_TAG_STORAGE_SIZE = 66;

const BOOT_OPTION_NAME = /^Boot[0-9A-F]{4}$/;

export function isBootOptionName(name: string): boolean {
  return BOOT_OPTION_NAME.test(name);
}

export function bootOptionName(n: number): string {
  return `Boot${n.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function uint32(data: Uint8Array): number | undefined {
  return data.length === 4 ? new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true) : undefined;
}

export function uint16(data: Uint8Array): number | undefined {
  return data.length === 2 ? new DataView(data.buffer, data.byteOffset, 2).getUint16(0, true) : undefined;
}

export function encodeUint32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

export function encodeUint16(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, true);
  return out;
}

export function decodeBootOrder(data: Uint8Array): number[] {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return Array.from({ length: Math.floor(data.length / 2) }, (_, i) => dv.getUint16(i * 2, true));
}

export function encodeBootOrder(order: readonly number[]): Uint8Array {
  const out = new Uint8Array(order.length * 2);
  const dv = new DataView(out.buffer);
  order.forEach((n, i) => dv.setUint16(i * 2, n, true));
  return out;
}

const hex4 = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');

/** A one-line readable value for a variable bootcard knows, or undefined. */
export function describeVariable(name: string, guid: string, data: Uint8Array): string | undefined {
  if (guid === KnownGuid.RPI_CONFIG) {
    if (name === RpiConfigVariable.ASSET_TAG) return JSON.stringify(decodeVariableName(data));
    const v = uint32(data);
    if (v === undefined) return undefined;
    switch (name) {
      case RpiConfigVariable.RAM_LIMIT_TO_3GB:
        return v ? `${v} (RAM limited to 3 GB)` : '0 (all RAM usable)';
      case RpiConfigVariable.SYSTEM_TABLE_MODE:
        return `${v} (${['ACPI', 'ACPI + device tree', 'device tree'][v] ?? 'unknown'})`;
      case RpiConfigVariable.CPU_CLOCK:
        return `${v} (${['low', 'default', 'max', 'custom'][v] ?? 'unknown'})`;
      case RpiConfigVariable.CUSTOM_CPU_CLOCK:
        return `${v} MHz`;
      case RpiConfigVariable.FAN_ON_GPIO:
        return v ? `GPIO ${v}` : '0 (no fan)';
      case RpiConfigVariable.FAN_TEMP:
        return `${v} °C`;
      default:
        return String(v);
    }
  }
  if (guid === KnownGuid.EFI_GLOBAL_VARIABLE) {
    if (name === GlobalVariable.TIMEOUT) {
      const v = uint16(data);
      return v === undefined ? undefined : v === 0xffff ? 'wait forever' : `${v} s`;
    }
    if (name === GlobalVariable.BOOT_ORDER || name === 'DriverOrder') return decodeBootOrder(data).map(hex4).join(',');
    if (name === 'BootCurrent' || name === 'BootNext') {
      const v = uint16(data);
      return v === undefined ? undefined : hex4(v);
    }
    if (isBootOptionName(name) || /^Driver[0-9A-F]{4}$/.test(name) || /^SysPrep[0-9A-F]{4}$/.test(name)) {
      const option = decodeLoadOption(data);
      if (!option) return '(malformed load option)';
      const active = option.attributes & LOAD_OPTION_ACTIVE ? '' : ' [inactive]';
      return `${JSON.stringify(option.description)} ${devicePathToText(option.filePathList)}${active}`;
    }
    if (name === 'Lang' || name === 'PlatformLang' || name === 'LangCodes' || name === 'PlatformLangCodes') {
      return JSON.stringify(String.fromCharCode(...data).replace(/\0+$/, ''));
    }
    if (['SecureBoot', 'SetupMode', 'AuditMode', 'DeployedMode', 'CustomMode', 'VendorKeys'].includes(name) && data.length === 1) return String(data[0]);
  }
  return undefined;
}
