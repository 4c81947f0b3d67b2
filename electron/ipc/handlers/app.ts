import type { Handler } from '../dispatcher.js';
import { BOOTCARD_VERSION } from '../../core/version.io.js';

export function appInfoHandler(frontEnd: 'electron' | 'serve'): Handler<'app.info'> {
  return async () => ({
    name: 'bootcard',
    version: BOOTCARD_VERSION,
    platform: process.platform,
    arch: process.arch,
    frontEnd,
  });
}
