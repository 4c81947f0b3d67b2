/** bootcard's version, read from its package.json (I/O at import: hence `.io`). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function findVersion(): string {
  // electron/core/version.io.ts is two levels below the package root, dist/electron/core/version.io.js three.
  for (const candidate of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: string; version?: string };
      if (pkg.name === 'bootcard' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0-unknown';
}

export const BOOTCARD_VERSION: string = findVersion();
