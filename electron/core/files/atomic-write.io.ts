/**
 * Output files that appear whole or not at all: each file is written and
 * fsynced under a temporary name in its own folder, and only when every file of
 * the set is written are they renamed into place. On any failure the temporary
 * files are removed and nothing the user asked for exists half-written.
 * A file that is replaced keeps its permission bits (and its owner when
 * bootcard runs as root), as `cp` onto an existing file does: a 0600 output
 * stays private, a group-readable one stays readable by the group.
 * This is the CLI's writer: it follows the paths it is given and creates
 * missing folders. The wizard's requests go through output-root.io.ts instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { toBootcardError } from '../errors.js';

export interface OutputFile {
  readonly path: string;
  readonly data: Uint8Array | string;
  /** Permission bits for a new file (default 0o644, less the umask); a replaced file keeps its own. */
  readonly mode?: number;
}

/** `context` starts the error message ("Cannot save the manifest to X"); the default names the files. */
export async function writeFilesAtomically(files: readonly OutputFile[], context?: string): Promise<void> {
  const temps: { temp: string; final: string }[] = [];
  try {
    for (const f of files) {
      await mkdir(path.dirname(f.path), { recursive: true }).catch((error: { code?: string }) => {
        // mkdir -p reports a file standing where a folder should be as EEXIST.
        throw error.code === 'EEXIST' ? Object.assign(new Error('not a folder'), { code: 'ENOTDIR', path: path.dirname(f.path) }) : error;
      });
      const temp = path.join(path.dirname(f.path), `.${path.basename(f.path)}.${randomBytes(4).toString('hex')}.partial`);
      temps.push({ temp, final: f.path });
      try {
        const before = await stat(f.path).then((s) => (s.isFile() ? s : null), () => null);
        // A replaced file may be private: its data is never readable under a wider mode, not even briefly.
        const handle = await open(temp, 'wx', before ? 0o600 : (f.mode ?? 0o644));
        try {
          await handle.writeFile(f.data);
          if (before) {
            if (process.getuid?.() === 0) await handle.chown(before.uid, before.gid);
            await handle.chmod(before.mode & 0o777);
          }
          await handle.sync();
        } finally {
          await handle.close();
        }
      } catch (error) {
        // Name the file the user asked for, not our temporary one.
        throw Object.assign(error as Error, { path: f.path });
      }
    }
    for (const t of temps) await rename(t.temp, t.final);
  } catch (error) {
    await Promise.all(temps.map((t) => rm(t.temp, { force: true })));
    throw toBootcardError(error, context ?? `Could not write ${files.map((f) => f.path).join(', ')}`);
  }
}

export async function writeFileAtomically(file: string, data: Uint8Array | string, options: { mode?: number; context?: string } = {}): Promise<void> {
  await writeFilesAtomically([{ path: file, data, ...(options.mode !== undefined ? { mode: options.mode } : {}) }], options.context);
}
