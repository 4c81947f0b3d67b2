/**
 * Writes a whole batch of output files all or nothing, fast:
 *   1. checks the free space and free inodes of the file system (statfs)
 *      against what the batch needs, before creating anything;
 *   2. writes every file under a temporary name in its own folder (creating
 *      the folders it needs), with no sync per file;
 *   3. one sync: every temporary file is flushed, in parallel;
 *   4. renames every file into place, then syncs the folders.
 * On any failure before the renames, every temporary file and every folder it
 * created is removed and the error says nothing was written. A failure during
 * the renames (rare: the space is already allocated) says exactly which files
 * were written.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, rmdirSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import { formatBytes } from '../units.js';
import { EepromErrorCode } from './codes.js';

export interface BatchTarget {
  readonly path: string;
  /** Bytes it will have (for the free-space check). */
  readonly size: number;
}

export interface BatchWriteResult {
  readonly files: number;
  readonly bytes: number;
}

/** How many syncs run at once (libuv's thread pool has four threads). */
const SYNC_PARALLELISM = 8;

function nearestExistingFolder(dir: string): string {
  let at = path.resolve(dir);
  for (;;) {
    try {
      if (statSync(at).isDirectory()) return at;
    } catch {
      // not there yet: its parent will be
    }
    const up = path.dirname(at);
    if (up === at) return at;
    at = up;
  }
}

/** Throws EEPROM_NO_DISK_SPACE unless the file system holding `root` has room for every target and folder. */
export function checkBatchSpace(root: string, targets: readonly BatchTarget[], folders: number): void {
  const where = nearestExistingFolder(root);
  let fs;
  try {
    fs = statfsSync(where);
  } catch (error) {
    throw toBootcardError(error, `Could not check the free space of ${where}`);
  }
  const block = Number(fs.bsize) || 4096;
  const roundUp = (n: number) => Math.ceil(n / block) * block;
  const need = targets.reduce((sum, t) => sum + roundUp(t.size), 0) + folders * block;
  const free = Number(fs.bavail) * block;
  if (need > free) {
    throw new BootcardError(
      EepromErrorCode.NO_DISK_SPACE,
      `The batch needs ${formatBytes(need)} for ${targets.length} files but ${where} has only ${formatBytes(free)} free; nothing was written. Free some space or choose another --out-dir.`,
      { need, free, path: where },
    );
  }
  const inodes = targets.length + folders;
  // Some file systems (btrfs) report no inode limit: files = 0.
  if (Number(fs.files) > 0 && inodes > Number(fs.ffree)) {
    throw new BootcardError(
      EepromErrorCode.NO_DISK_SPACE,
      `The batch needs ${inodes} new files and folders but ${where} has only ${Number(fs.ffree)} free inodes; nothing was written.`,
      { inodes, free: Number(fs.ffree), path: where },
    );
  }
}

/**
 * Writes `targets` with the bytes `dataOf(i)` returns for target i, in order
 * (dataOf may reuse one buffer: each file is written before the next is asked
 * for). `root` is the folder the batch goes into (for the space check).
 */
export async function writeBatchAtomically(
  root: string,
  targets: readonly BatchTarget[],
  dataOf: (index: number) => Uint8Array | string,
): Promise<BatchWriteResult> {
  const folders = [...new Set(targets.map((t) => path.dirname(t.path)))];
  // Counting every folder as new over-estimates by one block each, and saves a stat per row.
  checkBatchSpace(root, targets, folders.length);

  const created: string[] = [];
  const temps: string[] = [];
  let bytes = 0;
  const tag = randomBytes(4).toString('hex');
  const tempOf = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${tag}.partial`);
  try {
    const ready = new Set<string>();
    for (let i = 0; i < targets.length; i++) {
      const target = targets[i]!;
      const folder = path.dirname(target.path);
      if (!ready.has(folder)) {
        makeFolder(folder, created);
        ready.add(folder);
      }
      const temp = tempOf(target.path);
      const fd = openSync(temp, 'wx', 0o644);
      temps.push(temp);
      try {
        const data = dataOf(i);
        const buffer = typeof data === 'string' ? Buffer.from(data) : data;
        let done = 0;
        while (done < buffer.length) done += writeSync(fd, buffer, done, buffer.length - done);
        bytes += buffer.length;
      } catch (error) {
        throw Object.assign(error as Error, { path: target.path });
      } finally {
        closeSync(fd);
      }
    }
    await syncAll(temps, 'r');
  } catch (error) {
    removeAll(temps, created);
    const cause = toBootcardError(error, 'Could not write the batch');
    throw new BootcardError(
      cause.code,
      `${cause.message}\nNothing was written: every temporary file${created.length > 0 ? ' and the folders the batch created were' : ' was'} removed.`,
      { ...cause.details },
    );
  }

  let renamed = 0;
  try {
    for (let i = 0; i < targets.length; i++) {
      renameSync(temps[i]!, targets[i]!.path);
      renamed++;
    }
  } catch (error) {
    removeAll(temps.slice(renamed), []);
    const cause = toBootcardError(error, `Could not put ${targets[renamed]!.path} in place`);
    throw new BootcardError(
      cause.code,
      `${cause.message}\nThe batch is partial: ${renamed} of ${targets.length} files were written (${targets.slice(0, renamed).map((t) => t.path).join(', ') || 'none'}); the rest were not.`,
      { ...cause.details, written: targets.slice(0, renamed).map((t) => t.path) },
    );
  }
  // The renames are durable once their folders are synced.
  await syncAll(folders, 'r').catch(() => undefined);
  return { files: targets.length, bytes };
}

/** mkdir -p that records what it created (so a failed batch can remove exactly that). */
function makeFolder(folder: string, created: string[]): void {
  try {
    mkdirSync(folder);
    created.push(folder);
    return;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EEXIST') {
      if (statSync(folder).isDirectory()) return;
      throw Object.assign(new Error(`${folder} is not a folder`), { code: 'ENOTDIR', path: folder });
    }
    if (code !== 'ENOENT' || path.dirname(folder) === folder) throw error;
  }
  makeFolder(path.dirname(folder), created);
  mkdirSync(folder);
  created.push(folder);
}

async function syncAll(paths: readonly string[], flags: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const handle = await open(paths[next++]!, flags);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SYNC_PARALLELISM, paths.length) }, worker));
}

function removeAll(temps: readonly string[], createdFolders: readonly string[]): void {
  for (const temp of temps) {
    try {
      unlinkSync(temp);
    } catch {
      // already gone
    }
  }
  for (const dir of [...createdFolders].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty: something else is in it now, so it stays
    }
  }
}
