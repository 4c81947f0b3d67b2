import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { toBootcardError } from '../../core/errors.js';
import { formatManifest } from '../../core/manifest/manifest.js';
import type { Handler } from '../dispatcher.js';

/** Writes the manifest whole or not at all (temp file, then rename); a relative path is taken from the working folder. */
export function manifestSaveHandler(cwd: string): Handler<'manifest.save'> {
  return async (request) => {
    const target = path.resolve(cwd, request.path);
    const text = formatManifest(request.entries, request.format);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, text, { flag: 'wx' });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw toBootcardError(error, `Cannot save the manifest to ${target}`);
    }
    return { path: target, bytes: Buffer.byteLength(text) };
  };
}
