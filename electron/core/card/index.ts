/**
 * Card recipes: public API (pure). The I/O parts are imported directly:
 * firmware-zip.io.ts (readFirmwareZip/readFirmwareFolder/readFirmwareSource),
 * firmware-download.io.ts (fetchPftfFirmware), recovery-files.io.ts
 * (resolveRecoveryFiles/readRecoveryFiles), ../fat32/byte-reader.io.ts (openByteReader).
 */
export { CardErrorCode } from './errors.js';
export { composeUefiCard, validatePftfFirmware, PFTF_REQUIRED_FILES, UEFI_CARD_LABEL } from './uefi-card.js';
export type { ComposeUefiCardOptions, UefiCard } from './uefi-card.js';
export { composeRecoveryCard, recoveryPresetConfig, RECOVERY_PRESETS, RECOVERY_PRESET_CONFIGS, RECOVERY_CARD_LABEL } from './recovery-card.js';
export type { ComposeRecoveryCardOptions, RecoveryCard, RecoveryPreset } from './recovery-card.js';
export { checkArchivePath } from './firmware-files.js';
export type { FirmwareFile } from './firmware-files.js';
export { inspectCard, formatInspection } from './inspect.js';
export type { CardInspection, InspectedPartition } from './inspect.js';
export { parseCardSize, wholeCardPartitionSize, formatBytes, DEFAULT_CARD_PARTITION_SIZE, EEPROM_CARD_MAX_PARTITION_BYTES } from './size.js';
export type { CardSize } from './size.js';
export { applyConfigTxtEdits, configTxtPreset, parseConfigTxtArgument, getConfigTxtValue, CONFIG_TXT_PRESETS } from '../configtxt/config-txt.js';
export type { ConfigTxtEdit } from '../configtxt/config-txt.js';
export { composeFat32Image, readFatImage, sparseImageReader } from '../fat32/index.js';
export type { ByteReader, FatImage, FatEntry, FatTreeNode, Fat32Image } from '../fat32/index.js';
