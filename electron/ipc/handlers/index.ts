/**
 * Binds every channel of the contract to the core. The Electron main process
 * and `bootcard serve` both build their dispatcher from this one table, so the
 * two front ends can never drift apart.
 */
import type { Handlers } from '../dispatcher.js';
import { appInfoHandler } from './app.js';

export interface HandlerOptions {
  readonly frontEnd: 'electron' | 'serve';
  /** Offer loop devices as write targets: only for tests (`bootcard serve --include-loop`). */
  readonly includeLoop?: boolean;
}

export function createHandlers(options: HandlerOptions): Handlers {
  return {
    'app.info': appInfoHandler(options.frontEnd),
  };
}
