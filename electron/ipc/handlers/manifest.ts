import { lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError } from '../../core/errors.js';
import { writeFileAtomically } from '../../core/files/atomic-write.io.js';
import { formatManifest, manifestSaveProblem } from '../../core/manifest/manifest.js';
import type { Handler } from '../dispatcher.js';

/**
 * The first bytes of what is at `file`: null when nothing is there; '' when
 * something is there that is no readable regular file (a folder, a FIFO,
 * which opening would wait on forever, a device), so it counts as "not a manifest".
 */
async function headOf(file: string): Promise<string | null> {
  const info = await lstat(file).catch((error: { code?: string }) => (error.code === 'ENOENT' || error.code === 'ENOTDIR' ? null : undefined));
  if (info === null) return null;
  if (!info?.isFile()) return '';
  const handle = await open(file, 'r').catch(() => null);
  if (!handle) return '';
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Writes the manifest whole or not at all (temp file, then rename); a relative
 * path is taken from the working folder. Only a .csv/.json file, and it
 * replaces nothing but an earlier manifest (see manifestSaveProblem).
 */
export function manifestSaveHandler(cwd: string): Handler<'manifest.save'> {
  return async (request) => {
    const target = path.resolve(cwd, request.path);
    const problem = manifestSaveProblem(target, request.format, await headOf(target));
    if (problem) throw new BootcardError(problem.code, problem.message, { path: target });
    const text = formatManifest(request.entries, request.format);
    await writeFileAtomically(target, text, { context: `Cannot save the manifest to ${target}` });
    return { path: target, bytes: Buffer.byteLength(text) };
  };
}
