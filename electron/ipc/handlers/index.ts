/**
 * Binds every channel of the contract to the core. The Electron main process
 * and `bootcard serve` both build their dispatcher from this one table, so the
 * two front ends can never drift apart.
 */
import { resolveOutputRoot } from '../../core/files/output-root.io.js';
import type { Handlers } from '../dispatcher.js';
import { appInfoHandler } from './app.js';
import { cardPlanHandler, cardWriteHandler } from './card.js';
import { cardInspectHandler } from './card-inspect.js';
import { driveListHandler, driveWatchHandler } from './drives.js';
import { eepromBuildHandler, eepromExplainHandler, eepromValidateHandler } from './eeprom.js';
import { firmwareDownloadHandler, firmwareLocateHandler, uefiPreviewHandler } from './firmware.js';
import { manifestSaveHandler } from './manifest.js';
import { netbootTreeHandler } from './netboot.js';
import { profileHandlers } from './profiles.js';
import { dialogOpenHandler, fileListHandlers, type ShowOpenDialog } from './files.js';
import { bootcardCacheDir } from '../../core/card/firmware-download.io.js';
import { sdlockLockHandler, sdlockStatusHandler, sdlockUnlockHandler } from './sdlock.js';
import { StationService } from './station.js';

export interface HandlerOptions {
  readonly frontEnd: 'electron' | 'serve';
  /** Offer loop devices as write targets: only for tests (`bootcard serve --include-loop`). */
  readonly includeLoop?: boolean;
  /** Where relative input paths in requests (firmware) are taken from. */
  readonly cwd?: string;
  /**
   * The one folder under which the wizard's output files (pieeprom.bin/.sig,
   * manifests) are written; request paths are relative to it. Default `cwd`:
   * `bootcard serve` passes --output-dir or the folder it started in, the
   * Electron app the user's home.
   */
  readonly outputRoot?: string;
  /** Where profiles and the last settings are kept (default $XDG_CONFIG_HOME/bootcard). */
  readonly configDir?: string;
  /** The desktop app's native open dialog (electron/main); behind serve there is none and the page uses files.list. */
  readonly showOpenDialog?: ShowOpenDialog;
  /** bootcard's download cache, the chooser's second root (default $XDG_CACHE_HOME/bootcard). */
  readonly cacheDir?: string;
  /** The one station of this server (it outlives any one connection); the server closes it when it stops. Default: a new one. */
  readonly station?: StationService;
}

/** The real path of the output root; a missing one is kept as named, so each save says it is missing. */
function outputRootOf(dir: string): string {
  try {
    return resolveOutputRoot(dir);
  } catch {
    return dir;
  }
}

export function createHandlers(options: HandlerOptions): Handlers {
  const drives = { includeLoop: options.includeLoop ?? false };
  const cwd = options.cwd ?? process.cwd();
  const outputRoot = outputRootOf(options.outputRoot ?? cwd);
  return {
    'app.info': appInfoHandler(options.frontEnd),
    'eeprom.validate': eepromValidateHandler,
    'eeprom.explain': eepromExplainHandler,
    'eeprom.build': eepromBuildHandler({ cwd, outputRoot }),
    'firmware.locate': firmwareLocateHandler(cwd),
    'firmware.download': firmwareDownloadHandler,
    'card.plan': cardPlanHandler({ cwd, includeLoop: drives.includeLoop }),
    'card.write': cardWriteHandler({ cwd, includeLoop: drives.includeLoop }),
    'card.inspect': cardInspectHandler({ cwd, includeLoop: drives.includeLoop }),
    'drives.list': driveListHandler(drives),
    'drives.watch': driveWatchHandler(drives),
    'sdlock.status': sdlockStatusHandler,
    'sdlock.lock': sdlockLockHandler,
    'sdlock.unlock': sdlockUnlockHandler,
    'uefi.preview': uefiPreviewHandler(cwd),
    'manifest.save': manifestSaveHandler(outputRoot),
    'netboot.tree': netbootTreeHandler({ cwd, outputRoot }),
    ...profileHandlers(options.configDir),
    ...fileListHandlers({ output: outputRoot, cache: options.cacheDir ?? bootcardCacheDir() }),
    'dialogs.open': dialogOpenHandler(options.showOpenDialog),
    ...stationHandlers(options.station ?? new StationService({ cwd, includeLoop: drives.includeLoop })),
  };
}

function stationHandlers(station: StationService): Pick<Handlers, 'station.start' | 'station.watch' | 'station.stop'> {
  return { 'station.start': station.start, 'station.watch': station.watch, 'station.stop': station.stop };
}
