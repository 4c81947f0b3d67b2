/**
 * Opens what the wizard asks to inspect, read-only: a whole disk that the
 * drive layer lists (an SD card, a USB reader; loop devices only in test
 * mode), or a regular image file. Anything else (a folder, a partition,
 * /dev/null, a FIFO) is refused with what to pick instead. Reading needs no
 * privileges beyond read access to the node: it never goes through the
 * privileged writer.
 */
import { promises as fs, type Stats } from 'node:fs';
import { listDrives, describeTarget, deviceNumberOf, type EnumerationPaths } from '../drives/enumerate.io.js';
import { DriveErrorCode } from '../drives/types.js';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { openByteReader, type FileByteReader } from '../fat32/byte-reader.io.js';
import { CardErrorCode } from './errors.js';

export type InspectionTarget = { readonly kind: 'device'; readonly path: string } | { readonly kind: 'image'; readonly path: string };

export interface OpenInspectionOptions {
  /** List loop devices as disks (tests, `bootcard serve --include-loop`). */
  readonly includeLoop: boolean;
  readonly paths?: Partial<EnumerationPaths>;
}

function whatItIs(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isBlockDevice()) return 'a block device';
  return 'a regular file';
}

function notInspectable(message: string, target: InspectionTarget): BootcardError {
  return new BootcardError(CardErrorCode.NOT_INSPECTABLE, message, { path: target.path, kind: target.kind });
}

function permissionError(target: InspectionTarget, cause: unknown): BootcardError {
  const fix =
    target.kind === 'device'
      ? 'Reading a card needs read access to its device node: run bootcard as root, or add your user to the group that owns the node (usually "disk": sudo usermod -aG disk $USER, then log in again).'
      : 'Make the image file readable by your user (chmod or chown), or run bootcard as root.';
  return new BootcardError(CommonErrorCode.PERMISSION_DENIED, `Cannot read ${target.path}: permission denied. ${fix}`, { path: target.path }, { cause });
}

async function statTarget(target: InspectionTarget): Promise<Stats> {
  try {
    return await fs.stat(target.path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EACCES' || code === 'EPERM') throw permissionError(target, error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new BootcardError(
        CommonErrorCode.FILE_NOT_FOUND,
        target.kind === 'device'
          ? `${target.path} does not exist: the card may have been removed. Insert it and pick it again.`
          : `${target.path} does not exist. Check the path of the image file.`,
        { path: target.path },
        { cause: error },
      );
    }
    throw toBootcardError(error, `Could not look at ${target.path}`);
  }
}

/** Refuses a device that is not a whole disk the drive layer lists (or has no card in it). */
async function checkListedDisk(target: InspectionTarget, stat: Stats, options: OpenInspectionOptions): Promise<void> {
  const number = deviceNumberOf(stat.rdev);
  const drives = await listDrives({ includeLoop: options.includeLoop, ...(options.paths ? { paths: options.paths } : {}) });
  const drive = drives.find((d) => d.deviceNumbers[0] === number);
  if (drive) {
    if (drive.size === 0) {
      throw new BootcardError(DriveErrorCode.NO_MEDIA, `There is no card in ${target.path}. Insert the card and try again.`, { path: target.path });
    }
    return;
  }
  const kind = await describeTarget(target.path, options.paths ? { paths: options.paths } : {});
  if (kind.kind === 'partition') {
    throw notInspectable(`${target.path} is a partition, not a whole card. Inspect the whole card, ${kind.disk}.`, target);
  }
  const reason = kind.kind === 'other' && kind.reason ? ` (${kind.reason})` : kind.kind === 'drive' && kind.drive.isLoop ? ' (a loop device)' : '';
  throw notInspectable(`${target.path} is not a disk bootcard lists${reason}. Pick a card from the list, or name an image file.`, target);
}

/**
 * Checks the target and opens it for `inspectCard`. The kind of file is
 * checked again on the opened handle, so a path swapped after the check is
 * refused rather than read.
 */
export async function openInspectionTarget(target: InspectionTarget, options: OpenInspectionOptions): Promise<FileByteReader> {
  const stat = await statTarget(target);
  if (target.kind === 'image') {
    if (stat.isBlockDevice()) throw notInspectable(`${target.path} is a block device, not an image file. Pick it from the list of cards instead.`, target);
    if (!stat.isFile()) throw notInspectable(`${target.path} is ${whatItIs(stat)}, not an image file. Name a card image file (such as card.img).`, target);
  } else {
    if (!stat.isBlockDevice()) {
      throw notInspectable(`${target.path} is ${whatItIs(stat)}, not a disk. Pick a card from the list, or name an image file.`, target);
    }
    await checkListedDisk(target, stat, options);
  }
  const same = (opened: Stats) => {
    const ok = target.kind === 'image' ? opened.isFile() && opened.ino === stat.ino && opened.dev === stat.dev : opened.isBlockDevice() && opened.rdev === stat.rdev;
    if (!ok) throw notInspectable(`${target.path} changed while it was being opened. Try again.`, target);
  };
  try {
    return await openByteReader(target.path, { check: same });
  } catch (error) {
    if (BootcardError.is(error, CommonErrorCode.PERMISSION_DENIED)) throw permissionError(target, error);
    throw error;
  }
}
