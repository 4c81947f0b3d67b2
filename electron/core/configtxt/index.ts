/** config.txt editing: public API. */
export {
  applyConfigTxtEdits,
  getConfigTxtValue,
  parseConfigTxtArgument,
  configTxtPreset,
  CONFIG_TXT_PRESETS,
  ConfigTxtErrorCode,
  missingOverlays,
  missingOverlayWarning,
} from './config-txt.js';
export type { ConfigTxtEdit, MissingOverlay } from './config-txt.js';
