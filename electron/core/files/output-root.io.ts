/**
 * Writing the files a wizard request names (eeprom.build, manifest.save) under
 * the output root, by the rules of output-path.ts. The folder is walked from
 * `/` one component at a time, each opened with O_NOFOLLOW|O_DIRECTORY
 * relative to the handle of the one before (through /proc/self/fd, Node's
 * stand-in for openat), and each opened handle is checked (owner, mode), not
 * the name. The files are then created, checked and renamed relative to the
 * handle of their folder, so nothing a name points to later can redirect them.
 * Files appear whole or not at all (temporary file, fsync, rename, then fsync
 * of the folder). Nothing creates a folder: a missing one is refused by name.
 */
import { randomBytes } from 'node:crypto';
import { constants, realpathSync, statSync, type Stats } from 'node:fs';
import { lstat, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import { checkOutputFileName, existsMessage, folderTrustProblem, OutputErrorCode, outputFolderComponents } from './output-path.js';

const FOLDER_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const HEAD_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * The output root as the handlers use it: the real path of `dir` (links in the
 * operator's own choice are resolved once, here; later requests never follow
 * one). Throws OUTPUT_FOLDER_MISSING / OUTPUT_NOT_A_FOLDER.
 */
export function resolveOutputRoot(dir: string): string {
  const absolute = path.resolve(dir);
  let real: string;
  try {
    real = realpathSync(absolute);
  } catch {
    throw new BootcardError(OutputErrorCode.FOLDER_MISSING, `The output folder ${absolute} does not exist; create it first or pick another.`, { path: absolute });
  }
  if (!statSync(real).isDirectory()) throw new BootcardError(OutputErrorCode.NOT_A_FOLDER, `The output folder ${absolute} is not a folder.`, { path: absolute });
  return real;
}

export interface OutputFile {
  /** A plain file name inside the folder. */
  readonly name: string;
  readonly data: Uint8Array | string;
}

export interface OutputFolder {
  /** The folder's absolute path, for messages and results. */
  readonly path: string;
  /** What is at `name` if it is a regular file, null if nothing; throws OUTPUT_SYMLINK / OUTPUT_NOT_A_FILE otherwise. */
  existingFile(name: string): Promise<Stats | null>;
  /** The first bytes of the regular file `name` (null when there is none). */
  readHead(name: string, bytes: number): Promise<string | null>;
  /**
   * Writes every file or none. An existing file is replaced only with
   * `replace` (else OUTPUT_EXISTS naming them all) and keeps its mode (and
   * owner, when bootcard is root).
   */
  write(files: readonly OutputFile[], options: { replace: boolean; context?: string }): Promise<string[]>;
  close(): Promise<void>;
}

function ownUid(): number {
  return process.getuid?.() ?? 0;
}

/** Why opening `name` in the folder `parent` as a folder failed, in words; a link is told apart from a file by lstat. */
async function folderOpenError(error: unknown, parent: FileHandle, name: string, folder: string): Promise<BootcardError> {
  let code = (error as { code?: string }).code;
  // O_NOFOLLOW|O_DIRECTORY on a link reports ENOTDIR or ELOOP depending on the kernel: ask.
  if (code === 'ENOTDIR' || code === 'ELOOP') {
    const info = await lstat(`/proc/self/fd/${parent.fd}/${name}`).catch(() => null);
    code = info?.isSymbolicLink() ? 'ELOOP' : 'ENOTDIR';
  }
  if (code === 'ENOENT') {
    return new BootcardError(OutputErrorCode.FOLDER_MISSING, `${folder} does not exist; bootcard does not create folders. Create it first (mkdir ${folder}) or pick an existing folder.`, { path: folder });
  }
  if (code === 'ELOOP') {
    return new BootcardError(OutputErrorCode.SYMLINK, `${folder} is a symbolic link; bootcard does not save through links. Name the real folder.`, { path: folder });
  }
  if (code === 'ENOTDIR') return new BootcardError(OutputErrorCode.NOT_A_FOLDER, `${folder} is not a folder; name an existing folder.`, { path: folder });
  return toBootcardError(Object.assign(error as Error, { path: folder }), `Cannot open the folder ${folder}`);
}

async function checkTrust(handle: FileHandle, folder: string, insideRoot: boolean): Promise<void> {
  const stat = await handle.stat();
  const problem = folderTrustProblem(folder, stat, ownUid(), insideRoot);
  if (problem) throw new BootcardError(OutputErrorCode.UNSAFE_FOLDER, problem, { path: folder });
}

/** Opens `requested` (relative to `root`, or absolute inside it) component by component; see the file comment. */
export async function openOutputFolder(root: string, requested: string): Promise<OutputFolder> {
  const below = outputFolderComponents(root, requested);
  const rootParts = root.split('/').filter(Boolean);
  const parts = [...rootParts, ...below];
  let current = await open('/', FOLDER_FLAGS);
  let currentPath = '/';
  try {
    await checkTrust(current, currentPath, rootParts.length === 0);
    for (const [index, name] of parts.entries()) {
      const nextPath = path.join(currentPath, name);
      const parent = current;
      const next = await open(`/proc/self/fd/${parent.fd}/${name}`, FOLDER_FLAGS).catch(async (error: unknown) => {
        throw await folderOpenError(error, parent, name, nextPath);
      });
      await current.close();
      current = next;
      currentPath = nextPath;
      await checkTrust(current, currentPath, index >= rootParts.length - 1);
    }
  } catch (error) {
    await current.close().catch(() => undefined);
    throw error;
  }
  return heldFolder(current, currentPath);
}

function heldFolder(handle: FileHandle, folderPath: string): OutputFolder {
  const at = (name: string) => `/proc/self/fd/${handle.fd}/${name}`;
  const shown = (name: string) => path.join(folderPath, name);

  const existingFile = async (name: string): Promise<Stats | null> => {
    checkOutputFileName(name);
    const info = await lstat(at(name)).catch((error: { code?: string }) => {
      if (error.code === 'ENOENT') return null;
      throw toBootcardError(Object.assign(error, { path: shown(name) }), `Cannot check ${shown(name)}`);
    });
    if (info === null || info.isFile()) return info;
    if (info.isSymbolicLink()) {
      throw new BootcardError(OutputErrorCode.SYMLINK, `${shown(name)} is a symbolic link; bootcard does not save through links (nor replace one). Remove it or pick another name.`, { path: shown(name) });
    }
    const kind = info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO' : info.isCharacterDevice() || info.isBlockDevice() ? 'a device' : 'no regular file';
    throw new BootcardError(OutputErrorCode.NOT_A_FILE, `${shown(name)} is ${kind}, not a file; bootcard does not write there. Pick another name.`, { path: shown(name) });
  };

  return {
    path: folderPath,
    existingFile,
    async readHead(name, bytes) {
      if ((await existingFile(name)) === null) return null;
      const file = await open(at(name), HEAD_FLAGS);
      try {
        // Checked again on the handle: the name may have changed since.
        if (!(await file.stat()).isFile()) return '';
        const buffer = Buffer.alloc(bytes);
        const { bytesRead } = await file.read(buffer, 0, bytes, 0);
        return buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await file.close();
      }
    },
    async write(files, { replace, context }) {
      const existing = new Map<string, Stats>();
      for (const f of files) {
        const info = await existingFile(f.name);
        if (info) existing.set(f.name, info);
      }
      if (existing.size > 0 && !replace) {
        const names = [...existing.keys()];
        throw new BootcardError(OutputErrorCode.EXISTS, existsMessage(folderPath, names), { folder: folderPath, files: names });
      }
      const temps: { temp: string; name: string }[] = [];
      try {
        for (const f of files) {
          const temp = `.${f.name}.${randomBytes(4).toString('hex')}.partial`;
          const before = existing.get(f.name);
          const file = await open(at(temp), TEMP_FLAGS, before ? 0o600 : 0o644).catch((error: Error) => {
            throw Object.assign(error, { path: shown(f.name) });
          });
          temps.push({ temp, name: f.name });
          try {
            await file.writeFile(f.data);
            if (before) {
              if (ownUid() === 0) await file.chown(before.uid, before.gid);
              await file.chmod(before.mode & 0o777);
            }
            await file.sync();
          } catch (error) {
            throw Object.assign(error as Error, { path: shown(f.name) });
          } finally {
            await file.close();
          }
        }
        for (const t of temps) await rename(at(t.temp), at(t.name));
      } catch (error) {
        await Promise.all(temps.map((t) => rm(at(t.temp), { force: true }).catch(() => undefined)));
        throw toBootcardError(error, context ?? `Could not write ${files.map((f) => shown(f.name)).join(', ')}`);
      }
      // Makes the renames durable; best effort, since the files are in place even where a file system cannot fsync a folder.
      await handle.sync().catch(() => undefined);
      return files.map((f) => shown(f.name));
    },
    close: () => handle.close(),
  };
}

/** Opens the folder, writes the files (see OutputFolder.write), closes it; returns the files' paths. */
export async function writeOutputFiles(
  root: string,
  folder: string,
  files: readonly OutputFile[],
  options: { replace: boolean; context?: string },
): Promise<string[]> {
  const held = await openOutputFolder(root, folder);
  try {
    return await held.write(files, options);
  } finally {
    await held.close();
  }
}
