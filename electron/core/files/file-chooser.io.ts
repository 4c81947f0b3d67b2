/**
 * What the wizard's file chooser in a browser (`bootcard serve`) may show: the
 * folders and files under the output root and under bootcard's cache, and
 * nothing else on the station. A folder is opened from its root one component
 * at a time with O_NOFOLLOW|O_DIRECTORY relative to the handle before (through
 * /proc/self/fd, as output-root.io.ts does), so a link never leads out of a
 * root; links are listed as links and never entered or offered.
 */
import { constants, realpathSync } from 'node:fs';
import { lstat, open, readdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import { outputFolderComponents } from './output-path.js';

export const FileChooserErrorCode = {
  NO_ROOT: 'FILES_NO_ROOT',
  NOT_A_FOLDER: 'FILES_NOT_A_FOLDER',
  LINK: 'FILES_LINK',
} as const;

import type { ChooserEntry, ChooserListing, ChooserRoot } from './chooser.js';

export type { ChooserEntry, ChooserListing, ChooserRoot };

const MAX_ENTRIES = 2000;
const FOLDER_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** The real path of each root that exists (a missing cache is simply not offered). */
export function chooserRoots(roots: Readonly<Record<ChooserRoot, string>>): Partial<Record<ChooserRoot, string>> {
  const out: Partial<Record<ChooserRoot, string>> = {};
  for (const [name, dir] of Object.entries(roots) as [ChooserRoot, string][]) {
    try {
      out[name] = realpathSync(dir);
    } catch {
      // Not there (no download yet): nothing to choose from it.
    }
  }
  return out;
}

async function openBelow(rootPath: string, components: readonly string[]): Promise<FileHandle> {
  let current = await open(rootPath, FOLDER_FLAGS).catch((error: unknown) => {
    throw toBootcardError(error, `Cannot open ${rootPath}`);
  });
  let shown = rootPath;
  try {
    for (const name of components) {
      shown = path.join(shown, name);
      const at = `/proc/self/fd/${current.fd}/${name}`;
      const next = await open(at, FOLDER_FLAGS).catch(async (error: NodeJS.ErrnoException) => {
        // O_NOFOLLOW|O_DIRECTORY on a link fails with ELOOP or ENOTDIR: say which it was, having followed nothing.
        const isLink = error.code === 'ELOOP' || (error.code === 'ENOTDIR' && (await lstat(at).then((i) => i.isSymbolicLink(), () => false)));
        if (isLink) throw new BootcardError(FileChooserErrorCode.LINK, `${shown} is a link; the file chooser does not follow links.`, { path: shown });
        if (error.code === 'ENOTDIR') throw new BootcardError(FileChooserErrorCode.NOT_A_FOLDER, `${shown} is not a folder.`, { path: shown });
        throw toBootcardError(Object.assign(error, { path: shown }), `Cannot open ${shown}`);
      });
      await current.close();
      current = next;
    }
  } catch (error) {
    await current.close().catch(() => undefined);
    throw error;
  }
  return current;
}

/** Lists `relative` under the root `root` (its real path in `roots`). */
export async function listChooserFolder(roots: Partial<Record<ChooserRoot, string>>, root: ChooserRoot, relative: string): Promise<ChooserListing> {
  const rootPath = roots[root];
  if (rootPath === undefined) {
    throw new BootcardError(FileChooserErrorCode.NO_ROOT, root === 'cache' ? "bootcard's download cache does not exist yet (nothing was downloaded)." : 'This station has no output folder.', { root });
  }
  // Refuses .. and absolute paths outside the root, as a save would.
  const components = outputFolderComponents(rootPath, relative);
  const handle = await openBelow(rootPath, components);
  try {
    const at = `/proc/self/fd/${handle.fd}`;
    const names = await readdir(at);
    const entries: ChooserEntry[] = [];
    for (const name of names.slice(0, MAX_ENTRIES)) {
      const info = await lstat(`${at}/${name}`).catch(() => null);
      if (!info) continue;
      if (info.isDirectory()) entries.push({ name, kind: 'folder' });
      else if (info.isFile()) entries.push({ name, kind: 'file', size: info.size });
      else if (info.isSymbolicLink()) entries.push({ name, kind: 'link' });
      // Devices, FIFOs and sockets are nothing to choose.
    }
    entries.sort((a, b) => Number(b.kind === 'folder') - Number(a.kind === 'folder') || a.name.localeCompare(b.name, 'en', { numeric: true }));
    const rel = components.join('/');
    return { root, rootPath, relative: rel, path: rel === '' ? rootPath : path.join(rootPath, rel), entries, truncated: names.length > MAX_ENTRIES };
  } finally {
    await handle.close();
  }
}
