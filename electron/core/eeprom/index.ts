/**
 * The bootloader EEPROM area's public API: pure functions over bytes and text,
 * safe to import from the renderer (no Node modules).
 */
export { EepromDiagnosticCode, EepromErrorCode } from './codes.js';
export type { Diagnostic } from './diagnostics.js';
export { formatDiagnostic, hasErrors } from './diagnostics.js';
export {
  BOOTCONF_SIG,
  BOOTCONF_TXT,
  CACERT_DER,
  IMAGE_SIZE_BY_BOARD,
  MAX_BOOTCONF_SIZE,
  MODIFIABLE_FILES,
  PUBKEY_BIN,
  UPDATE_TIME,
  boardForImageSize,
  bootConfCapacity,
  encodeUpdateTimestamp,
  getEepromFile,
  getEepromFileAt,
  parseEepromImage,
  readBootConf,
  readBootConfBytes,
  readBuildTimestamp,
  readUpdateTimestamp,
  replaceEepromFile,
  updateTimestampPlace,
  type UpdateTimestampPlace,
  rsaPublicKeyToBin,
  PUBKEY_BIN_SIZE,
  type Board,
  type EepromFileEntry,
  type EepromImage,
  type EepromSection,
} from './image.js';
export {
  configSections,
  getBootConfValue,
  parseAssignment,
  parseBootConf,
  removeBootConfValue,
  serializeBootConf,
  setBootConfValue,
  type BootConfig,
  type ConfigLine,
  type ConfigSection,
} from './config.js';
export { EEPROM_KEYS, eepromKeySpec, type EepromKeySpec, type EepromValueType } from './schema.js';
export {
  BOOT_MODES,
  MAX_BOOT_MODES,
  explainBootOrder,
  formatBootOrder,
  parseBootOrder,
  selectableBootModes,
  type BootMode,
  type BootModeSupport,
  type BootOrder,
  type BootOrderStep,
} from './boot-order.js';
export { MAX_LINE_LENGTH, parseConfigInt, validateBootConf, type ValidateOptions } from './validate.js';
export { checkTimestamp, makePieepromSig, parsePieepromSig, sha256HexPure, type PieepromSig, type Sha256Hex, type SigOptions } from './sig.js';
export {
  assertBuildable,
  buildPieeprom,
  resolveBootConf,
  signingDiagnostics,
  DEFAULT_HTTP_HOST,
  type BuildPieepromOptions,
  type BuildPieepromResult,
  type ConfigSignature,
} from './build.js';
export {
  buildBatchRow,
  createBatchBuilder,
  parseCsv,
  planBatch,
  pureSha256Factory,
  type BatchBuildOptions,
  type BatchOptions,
  type BatchPlan,
  type BatchRow,
  type BatchSigner,
  type BuiltRow,
  type CsvTable,
  type IncrementalSha256,
  type Sha256Factory,
} from './batch.js';
export { explainConfig, formatExplanation, type ConfigExplanation, type ExplainedSetting } from './explain.js';
