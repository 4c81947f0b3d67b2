/** Public API of the UEFI NVRAM area (issue 8). */
export { UefiErrorCode } from './errors.js';
export { KnownGuid, guidFromBytes, guidToBytes } from './guid.js';
export { locateNvFirmwareVolume, PFTF_LAYOUTS, type NvFirmwareVolume } from './firmware-volume.js';
export { type FtwWorkingBlock } from './ftw.js';
export {
  VariableAttribute,
  VariableState,
  ATTRIBUTES_NV_BS_RT,
  type VariableEdit,
  type VariableRecord,
  type VariableStore,
  type VariableStoreFormat,
} from './variable-store.js';
export {
  readNvram,
  listUefiVariables,
  getUefiVariable,
  editUefiVariables,
  attributeNames,
  type Nvram,
  type UefiVariableInfo,
  type UefiVariableListing,
  type NvramEditResult,
} from './nvram.js';
export { uriDevicePath, encodeLoadOption, decodeLoadOption, devicePathToText, validateBootUri } from './device-path.js';
export { describeVariable, SYSTEM_TABLE_MODES, FAN_GPIOS, FAN_TEMP_CELSIUS, CUSTOM_CPU_CLOCK_MHZ, ASSET_TAG_MAX_LENGTH, type SystemTableMode } from './known-variables.js';
export {
  parseMacAddress,
  formatMacAddress,
  isRaspberryPiMac,
  encodePxeBootOption,
  encodeHttpBootOption,
  pxeDevicePath,
  pxeDescription,
  networkBootEdits,
  AUTO_CREATED_BOOT_OPTION_GUID,
  RASPBERRY_PI_OUIS,
  MAC_HELP,
  type NetworkBootRequest,
} from './network-boot.js';
export { parseCsv, parseFleetCsv, type CsvRecord, type FleetRow } from './fleet-csv.js';
export {
  applyUefiSettings,
  type UefiSettingsContext,
  previewUefiSettings,
  type UefiSettingsPreview,
  readUefiSettings,
  uefiSettingsEdits,
  validateUefiSettings,
  hasUefiSettings,
  HTTP_BOOT_WARNING,
  HTTP_BOOT_DESCRIPTION,
  type UefiSettings,
  type CpuClockSetting,
  type ApplyUefiSettingsResult,
} from './settings.js';
