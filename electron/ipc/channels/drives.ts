/**
 * The drive list: every block device the drive layer sees, each with the
 * reasons it cannot take this image (none = usable), and hot-plug updates.
 */
import { z } from 'zod';
import { channel } from '../define.js';

export interface DriveProblem {
  readonly code: string;
  readonly message: string;
}

export interface DriveView {
  readonly device: string;
  readonly description: string;
  readonly size: number;
  readonly isCard: boolean;
  readonly isRemovable: boolean;
  readonly isSystem: boolean;
  readonly isReadOnly: boolean;
  readonly mountpoints: readonly string[];
  /** Why this drive cannot be written now; empty when it can. */
  readonly problems: readonly DriveProblem[];
  /** System drives and other non-candidates sit behind "show all". */
  readonly hiddenByDefault: boolean;
}

export interface DriveListResult {
  readonly drives: readonly DriveView[];
}

export type DriveWatchEvent = { readonly type: 'drives'; readonly drives: readonly DriveView[] };

const imageSize = z.number().int().nonnegative().max(2 ** 44).optional();

export const driveChannels = {
  'drives.list': channel<DriveListResult>()(z.object({ imageSize }).strict()),
  /** Runs until cancelled, sending the whole list again whenever a drive comes or goes. */
  'drives.watch': channel<{ readonly stopped: true }, DriveWatchEvent>()(z.object({ imageSize }).strict()),
};
