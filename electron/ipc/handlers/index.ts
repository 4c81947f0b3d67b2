/**
 * Binds every channel of the contract to the core. The Electron main process
 * and `bootcard serve` both build their dispatcher from this one table, so the
 * two front ends can never drift apart.
 */
import type { Handlers } from '../dispatcher.js';
import { appInfoHandler } from './app.js';
import { driveListHandler, driveWatchHandler } from './drives.js';
import { eepromBuildHandler, eepromExplainHandler, eepromValidateHandler } from './eeprom.js';
import { firmwareLocateHandler } from './firmware.js';
import { manifestSaveHandler } from './manifest.js';
import { sdlockLockHandler, sdlockStatusHandler, sdlockUnlockHandler } from './sdlock.js';
import { pendingHandler } from './pending.js';

export interface HandlerOptions {
  readonly frontEnd: 'electron' | 'serve';
  /** Offer loop devices as write targets: only for tests (`bootcard serve --include-loop`). */
  readonly includeLoop?: boolean;
  /** Where relative paths in requests (manifest, output folders) are taken from. */
  readonly cwd?: string;
}

export function createHandlers(options: HandlerOptions): Handlers {
  const drives = { includeLoop: options.includeLoop ?? false };
  const cwd = options.cwd ?? process.cwd();
  return {
    'app.info': appInfoHandler(options.frontEnd),
    'eeprom.validate': eepromValidateHandler,
    'eeprom.explain': eepromExplainHandler,
    'eeprom.build': eepromBuildHandler(cwd),
    'firmware.locate': firmwareLocateHandler(cwd),
    'firmware.download': pendingHandler('firmware.download'),
    'card.plan': pendingHandler('card.plan'),
    'card.write': pendingHandler('card.write'),
    'drives.list': driveListHandler(drives),
    'drives.watch': driveWatchHandler(drives),
    'sdlock.status': sdlockStatusHandler,
    'sdlock.lock': sdlockLockHandler,
    'sdlock.unlock': sdlockUnlockHandler,
    'uefi.preview': pendingHandler('uefi.preview'),
    'manifest.save': manifestSaveHandler(cwd),
  };
}
