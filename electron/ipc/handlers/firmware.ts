import type { Handler } from '../dispatcher.js';
import { locateEepromFirmware } from './firmware-files.js';
import { pendingHandler } from './pending.js';

export function firmwareLocateHandler(cwd: string): Handler<'firmware.locate'> {
  const uefi = pendingHandler('firmware.locate');
  return async (request, ctx) => {
    if (request.kind === 'uefi') return uefi(request, ctx);
    const found = await locateEepromFirmware(request.path, request.board, cwd);
    return { kind: 'eeprom', board: found.board, basePath: found.basePath, recoveryPath: found.recoveryPath, currentConfig: found.currentConfig };
  };
}
