import path from 'node:path';
import { writeFileAtomically } from '../../core/files/atomic-write.io.js';
import { formatManifest } from '../../core/manifest/manifest.js';
import type { Handler } from '../dispatcher.js';

/** Writes the manifest whole or not at all (temp file, then rename); a relative path is taken from the working folder. */
export function manifestSaveHandler(cwd: string): Handler<'manifest.save'> {
  return async (request) => {
    const target = path.resolve(cwd, request.path);
    const text = formatManifest(request.entries, request.format);
    await writeFileAtomically(target, text, { context: `Cannot save the manifest to ${target}` });
    return { path: target, bytes: Buffer.byteLength(text) };
  };
}
