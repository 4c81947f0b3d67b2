/** config.txt editing: public API. */
export {
  applyConfigTxtEdits,
  getConfigTxtValue,
  parseConfigTxtArgument,
  configTxtPreset,
  CONFIG_TXT_PRESETS,
  ConfigTxtErrorCode,
} from './config-txt.js';
export type { ConfigTxtEdit } from './config-txt.js';
