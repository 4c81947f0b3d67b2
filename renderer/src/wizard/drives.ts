/**
 * Which of a drive's problems (the drive layer's constraints, as drives.list
 * reports them) keep the wizard from offering it for the chosen task.
 */
import type { DriveProblem, DriveView } from '../../../electron/ipc/channels/drives.js';
import { DriveErrorCode } from '../../../electron/core/drives/types.js';
import type { Recipe } from './state.js';
import { formatExactBytes, formatSize } from '../format.js';

/** Lock / unlock talks to the card itself: it needs an SD card, which may well be locked, read-only or mounted. */
const SDLOCK_BLOCKERS = new Set<string>([DriveErrorCode.SYSTEM, DriveErrorCode.LOOP, DriveErrorCode.NOT_CARD, DriveErrorCode.NO_MEDIA]);

export function blockingProblems(drive: DriveView, recipe: Recipe): readonly DriveProblem[] {
  if (recipe === 'sdlock') return drive.problems.filter((p) => SDLOCK_BLOCKERS.has(p.code));
  // A mounted card is unmounted by the writer right before it opens it, as `bootcard flash` does.
  return drive.problems.filter((p) => p.code !== DriveErrorCode.MOUNTED);
}

/** What the user should know about a card they may pick (shown beside it and on the Review step). */
export function driveNote(drive: DriveView, recipe: Recipe): string | null {
  if (recipe === 'sdlock' || drive.mountpoints.length === 0) return null;
  return `mounted on ${drive.mountpoints.join(', ')}: unmounted before writing`;
}

/** Drives in the order people count them: /dev/loop2 before /dev/loop10, /dev/sdb before /dev/sdc. */
export function byDeviceName(a: DriveView, b: DriveView): number {
  return a.device.localeCompare(b.device, 'en', { numeric: true });
}

/**
 * A drive problem in the wizard's words. The drive layer's messages are the
 * CLI's, with its flags (--include-loop, --allow-non-card, `bootcard sd
 * unlock`); the wizard has none of those, so it says what the page offers.
 */
export function problemText(problem: DriveProblem, drive: Pick<DriveView, 'device' | 'description'> & Partial<Pick<DriveView, 'size'>>, imageSize: number | null): string {
  const d = drive.device;
  switch (problem.code) {
    case DriveErrorCode.LOOP:
      return `${d} is a loop device (a file posing as a disk): the wizard writes only to cards.`;
    case DriveErrorCode.NOT_CARD:
      return `${d} (${drive.description || 'unknown disk'}) does not look like an SD card, so the wizard does not offer it.`;
    case DriveErrorCode.TOO_SMALL:
      return imageSize === null || drive.size === undefined
        ? problem.message
        : `${d} holds ${formatSize(drive.size)} (${formatExactBytes(drive.size)}) but the card image needs ${formatSize(imageSize)} (${formatExactBytes(imageSize)}): use a larger card.`;
    case DriveErrorCode.WRITE_PROTECTED:
      return /permanently/.test(problem.message)
        ? problem.message
        : `The card in ${d} is write-protected (locked). Unlock it first: Start over, pick “Lock, unlock or inspect a card”, then Unlock.`;
    default:
      return problem.message;
  }
}
