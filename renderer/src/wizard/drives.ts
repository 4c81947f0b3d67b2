/**
 * Which of a drive's problems (the drive layer's constraints, as drives.list
 * reports them) keep the wizard from offering it for the chosen task.
 */
import type { DriveProblem, DriveView } from '../../../electron/ipc/channels/drives.js';
import { DriveErrorCode } from '../../../electron/core/drives/types.js';
import type { Recipe } from './state.js';

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
