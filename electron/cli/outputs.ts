/**
 * One rule for every output the CLI writes where the user said: bootcard makes what the
 * user named (the file of --out, the folder of --out-dir) and never the folders above it,
 * so a typo in a path is refused, naming the folder that is missing, instead of growing a
 * new tree. A path given as a file must not be a folder.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, CommonErrorCode } from '../core/errors.js';
import { OutputErrorCode } from '../core/files/output-errors.js';

async function kindOf(p: string): Promise<'folder' | 'other' | 'missing'> {
  try {
    return (await stat(p)).isDirectory() ? 'folder' : 'other';
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT' || (error as { code?: string }).code === 'ENOTDIR') return 'missing';
    throw error;
  }
}

/** The nearest folder up from `dir` that is missing (the one to create first). */
async function firstMissing(dir: string): Promise<string> {
  let missing = dir;
  for (let parent = path.dirname(dir); parent !== missing && (await kindOf(parent)) === 'missing'; parent = path.dirname(parent)) missing = parent;
  return missing;
}

/** Refuses a folder that does not exist (or is not a folder), naming it and the option it came from. */
export async function assertOutputFolder(dir: string, option: string, given: string = dir): Promise<void> {
  const kind = await kindOf(dir);
  if (kind === 'folder') {
    // Outputs are written beside their final name and renamed into place, so the folder itself must be writable.
    const writable = await access(dir, constants.W_OK | constants.X_OK).then(() => true, () => false);
    if (!writable) {
      throw new BootcardError(
        CommonErrorCode.PERMISSION_DENIED,
        `Your user may not write into the folder ${dir} (${option} ${given}). Choose a folder you can write to (your home folder, for instance), or have its owner give you access (ls -ld ${dir}).`,
        { path: dir, option },
      );
    }
    return;
  }
  if (kind === 'other') {
    throw new BootcardError(OutputErrorCode.NOT_A_FOLDER, `${dir} is not a folder (${option} ${given}); choose a folder to write into.`, { path: dir, option });
  }
  const missing = await firstMissing(dir);
  throw new BootcardError(
    OutputErrorCode.FOLDER_MISSING,
    `The folder ${missing} does not exist (${option} ${given}); bootcard does not create folders. Create it first (mkdir -p ${dir}) or choose an existing folder.`,
    { path: missing, option },
  );
}

/** Refuses an output file whose folder is missing, or a path that is a folder (`--out /tmp`). */
export async function assertOutputFile(file: string, option: string, given: string = file, example = 'pieeprom.bin'): Promise<void> {
  if ((await kindOf(file)) === 'folder') {
    throw new BootcardError(OutputErrorCode.NOT_A_FILE, `${given} is a folder (${option}); name the file to write in it, e.g. ${option} ${path.join(given, example)}.`, { path: file, option });
  }
  await assertOutputFolder(path.dirname(file), option, given);
}

/** --out-dir: the folder itself may be new (it is what the user named); the one above it must exist. */
export async function prepareOutputFolder(dir: string, option: string, given: string = dir): Promise<void> {
  const kind = await kindOf(dir);
  if (kind === 'folder') return;
  if (kind === 'other') await assertOutputFolder(dir, option, given);
  await assertOutputFolder(path.dirname(dir), option, given);
  await mkdir(dir).catch((error: { code?: string }) => {
    if (error.code !== 'EEXIST') throw error;
  });
}
