/**
 * Every reason a drive cannot take an image, as pure functions shared by the
 * CLI, the GUI and the privileged writer (which checks again right before it
 * opens each device). An empty list means the drive may be written.
 */
import { formatBytes } from '../units.js';
import { DriveErrorCode, type Drive } from './types.js';

export interface Constraint {
  readonly code: string;
  readonly message: string;
}

export interface ImageFacts {
  /** Bytes the card must hold. */
  readonly size: number;
  /** The image file being written, when it is a file. */
  readonly sourcePath?: string;
  /** MAJOR:MINOR of the device that holds `sourcePath` (from stat), when known. */
  readonly sourceDeviceNumber?: string;
}

export interface ConstraintOptions {
  /** Allow loop devices (tests, image builders). */
  readonly includeLoop?: boolean;
  /** Allow disks that are not SD cards (USB sticks, eMMC...). */
  readonly allowNonCard?: boolean;
}

function isInside(file: string, mountpoint: string): boolean {
  if (mountpoint === '/') return file.startsWith('/');
  return file === mountpoint || file.startsWith(`${mountpoint}/`);
}

export function driveConstraints(drive: Drive, image: ImageFacts, options: ConstraintOptions = {}): Constraint[] {
  const out: Constraint[] = [];
  const d = drive.device;
  if (drive.isSystem) {
    out.push({
      code: DriveErrorCode.SYSTEM,
      message: `${d} is a system drive (${drive.systemReasons.join('; ') || 'a fixed internal disk'}); bootcard never writes to it. Pick the SD card instead.`,
    });
  }
  if (drive.isLoop && !options.includeLoop) {
    out.push({ code: DriveErrorCode.LOOP, message: `${d} is a loop device; pass --include-loop to write to it.` });
  }
  if (!drive.isCard && !drive.isLoop && !drive.isSystem && !options.allowNonCard) {
    out.push({
      code: DriveErrorCode.NOT_CARD,
      message: `${d} (${drive.description || 'unknown disk'}) does not look like an SD card; pass --allow-non-card if you really mean to write it.`,
    });
  }
  if (drive.mountpoints.length > 0 && !drive.isSystem) {
    out.push({
      code: DriveErrorCode.MOUNTED,
      message: `${d} is mounted on ${drive.mountpoints.join(', ')}; unmount it first (e.g. \`umount ${drive.mountpoints.join(' ')}\`), or let bootcard unmount it when it writes.`,
    });
  }
  if (drive.swaps.length > 0 && !drive.isSystem) {
    out.push({ code: DriveErrorCode.IN_USE, message: `${d} is used as swap (${drive.swaps.join(', ')}); run \`swapoff\` on it first.` });
  }
  if (drive.holders.length > 0) {
    out.push({ code: DriveErrorCode.IN_USE, message: `${d} is in use by ${drive.holders.join(', ')} (LVM, RAID or encryption); release it first.` });
  }
  if (drive.sd?.writeProtect?.permanent) {
    out.push({ code: DriveErrorCode.WRITE_PROTECTED, message: `The card in ${d} is permanently write-protected; it can never be written again. Use another card.` });
  } else if (drive.sd?.writeProtect?.temporary) {
    out.push({ code: DriveErrorCode.WRITE_PROTECTED, message: `The card in ${d} is write-protected (locked); unlock it with \`bootcard sd unlock ${d}\`.` });
  } else if (drive.isReadOnly) {
    out.push({ code: DriveErrorCode.READ_ONLY, message: `${d} is read-only; slide the card's lock switch to unlocked, re-insert it, and try again.` });
  }
  if (drive.size === 0) {
    out.push({ code: DriveErrorCode.NO_MEDIA, message: `${d} has no card in it; insert a card.` });
  } else if (drive.size < image.size) {
    out.push({
      code: DriveErrorCode.TOO_SMALL,
      message: `${d} holds ${formatBytes(drive.size)} but the image needs ${formatBytes(image.size)}; use a larger card.`,
    });
  }
  const holdsSource =
    (image.sourceDeviceNumber !== undefined && drive.deviceNumbers.includes(image.sourceDeviceNumber)) ||
    (image.sourcePath !== undefined &&
      (drive.loopBackingFile === image.sourcePath || drive.mountpoints.some((m) => m !== '/' && isInside(image.sourcePath!, m))));
  if (holdsSource) {
    out.push({ code: DriveErrorCode.HOLDS_SOURCE, message: `${d} holds the image file ${image.sourcePath ?? ''}; writing would destroy it. Copy the image elsewhere first.` });
  }
  return out;
}

/** The constraint for a target that is no longer there. */
export function vanishedConstraint(device: string): Constraint {
  return { code: DriveErrorCode.VANISHED, message: `${device} is gone (the card was removed or the reader unplugged); insert it again and retry.` };
}

/** Image files bootcard may replace; any other existing file (a typo such as `--to /etc/fstab`) is refused. */
const IMAGE_FILE_NAME = /\.(img|raw|bin|iso)$/i;

/** Checks for a regular-file target (an image file to write). */
export function fileTargetConstraints(file: string, exists: boolean, sourcePath?: string): Constraint[] {
  if (sourcePath !== undefined && file === sourcePath) {
    return [{ code: DriveErrorCode.HOLDS_SOURCE, message: `${file} is the image being written; pick another output file.` }];
  }
  if (exists && !IMAGE_FILE_NAME.test(file)) {
    return [{ code: DriveErrorCode.FILE_EXISTS, message: `${file} exists and is not an image file (.img); bootcard does not overwrite it. Pick a new file name.` }];
  }
  return [];
}
