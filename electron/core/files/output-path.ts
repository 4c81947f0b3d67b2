/**
 * The rules for where the wizard may write (pure; output-root.io.ts applies
 * them to the opened folders). Every file a wizard request names lands under
 * one output root. `bootcard serve` often runs as root while the page is
 * driven by whoever holds the URL, so the rules are those that keep a local
 * user from steering root's writes: a path stays inside the root, no
 * component is a link, and no folder on the way can be changed by another
 * user (so nobody can swap a folder or file between bootcard's check and its
 * rename).
 */
import path from 'node:path';
import { BootcardError, inWizardWords } from '../errors.js';
import { OutputErrorCode } from './output-errors.js';

export { OutputErrorCode };

/**
 * The folders from the root down to the one the request names, as components
 * below `root` ([] for the root itself). `root` is absolute and free of links
 * (a realpath); `requested` is relative to it, or absolute inside it.
 */
export function outputFolderComponents(root: string, requested: string): string[] {
  if (requested.includes('\0')) throw new BootcardError(OutputErrorCode.BAD_NAME, 'A path may not contain a NUL character.', { path: requested });
  const target = path.resolve(root, requested);
  const relative = path.relative(root, target);
  if (relative === '') return [];
  if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new BootcardError(
      OutputErrorCode.OUTSIDE_ROOT,
      `${requested} is outside the output folder ${root}: bootcard saves files only under it. Name a folder inside it (e.g. a relative path), or start bootcard serve with --output-dir.`,
      { path: requested, root, ...inWizardWords(`${requested} is outside the output folder ${root}: bootcard saves files only under it. Name a folder inside it (a relative path such as pieeprom).`) },
    );
  }
  return relative.split(path.sep);
}

/** Throws unless `name` is one plain file name. */
export function checkOutputFileName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new BootcardError(OutputErrorCode.BAD_NAME, `"${name}" is not a file name: name a file, not a folder.`, { name });
  }
}

export interface FolderStat {
  readonly uid: number;
  readonly mode: number;
}

/**
 * Why a folder on the way to an output may not be trusted, or null.
 * `insideRoot`: the root itself or a folder below it (where files are
 * created), as opposed to an ancestor of the root. An ancestor may be a
 * sticky world-writable folder like /tmp, because there nobody but its owner
 * can rename or remove the (root- or self-owned) next folder; inside the root
 * no other user may write at all.
 */
export function folderTrustProblem(folder: string, stat: FolderStat, ownUid: number, insideRoot: boolean): string | null {
  if (stat.uid !== ownUid && stat.uid !== 0) {
    return `${folder} belongs to another user (uid ${stat.uid}), who could swap what bootcard writes there; bootcard writes only in folders of its own user (uid ${ownUid}) or root. Run bootcard as that user, or give bootcard serve --output-dir on a folder of its own.`;
  }
  const othersMayWrite = (stat.mode & 0o022) !== 0;
  const sticky = (stat.mode & 0o1000) !== 0;
  if (othersMayWrite && (insideRoot || !sticky)) {
    return `${folder} can be written by other users (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}), who could swap what bootcard writes there; remove their write permission (chmod go-w) or pick another folder.`;
  }
  return null;
}

/** The message of OUTPUT_EXISTS: what would be replaced. */
export function existsMessage(folder: string, names: readonly string[]): string {
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${list} already ${names.length === 1 ? 'exists' : 'exist'} in ${folder}. Confirm to replace ${names.length === 1 ? 'it' : 'them'}, or pick another ${names.length === 1 ? 'name' : 'folder'}.`;
}
