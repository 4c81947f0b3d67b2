/**
 * Files taken from a firmware archive or folder, and the path rules every
 * entry must pass before anything is extracted.
 */
import { BootcardError } from '../errors.js';
import { CardErrorCode } from './errors.js';

export interface FirmwareFile {
  /** Path inside the archive, `/`-separated, relative (e.g. `overlays/miniuart-bt.dtbo`). */
  readonly path: string;
  readonly data: Uint8Array;
  /** Modification time from the archive, Unix seconds. */
  readonly mtime?: number;
}

/**
 * Returns the entry's path without a trailing `/`, or throws CARD_UNSAFE_PATH
 * for an absolute path, a drive letter, a backslash or a `..` part: an
 * archive must not name anything outside itself.
 */
export function checkArchivePath(entryPath: string, archive: string): string {
  const fail = (why: string) => {
    throw new BootcardError(
      CardErrorCode.UNSAFE_PATH,
      `${archive} is unsafe and was not used: its entry "${entryPath}" ${why}. Use the firmware zip from the pftf/RPi4 releases page.`,
      { entry: entryPath },
    );
  };
  if (entryPath.startsWith('/') || /^[A-Za-z]:/.test(entryPath)) fail('has an absolute path');
  if (entryPath.includes('\\')) fail('contains a backslash');
  if (entryPath.includes('\0')) fail('contains a NUL character');
  const parts = entryPath.replace(/\/+$/, '').split('/');
  if (parts.some((p) => p === '..')) fail('points outside the archive (..)');
  return parts.filter((p) => p !== '' && p !== '.').join('/');
}
