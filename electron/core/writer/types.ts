/** The writer's request, result and error codes, shared by the CLI, the GUI and the privileged child. */
import type { BootcardErrorJSON } from '../errors.js';
import type { SparseImage } from '../image/sparse-image.js';
import type { WriteProgress } from './progress.js';

export const WriteErrorCode = {
  /** The target failed a check right before opening (the message is the constraint's). */
  REFUSED: 'WRITE_REFUSED',
  /** The device could not be opened exclusively: something else has it open or mounted. */
  BUSY: 'WRITE_DEVICE_BUSY',
  /** The card went away while it was being written or verified. */
  VANISHED: 'WRITE_DEVICE_VANISHED',
  IO: 'WRITE_IO_ERROR',
  /** Read-back differs from what was written. */
  VERIFY_FAILED: 'WRITE_VERIFY_FAILED',
  /** The user (or the GUI) cancelled. */
  CANCELLED: 'WRITE_CANCELLED',
  /** pkexec: the user dismissed the password prompt. */
  AUTH_CANCELLED: 'WRITE_AUTH_CANCELLED',
  /** pkexec: not authorised, or no polkit agent to ask. */
  AUTH_FAILED: 'WRITE_AUTH_FAILED',
  /** pkexec is not installed. */
  NO_POLKIT: 'WRITE_NO_POLKIT',
  /** The privileged child broke the protocol or died. */
  CHILD_FAILED: 'WRITE_CHILD_FAILED',
  /** No targets, a duplicate target, or an unreadable image. */
  BAD_REQUEST: 'WRITE_BAD_REQUEST',
  /** The image file changed after bootcard opened it (checksums and card would come from two different images). */
  IMAGE_CHANGED: 'WRITE_IMAGE_CHANGED',
} as const;

/**
 * An image file the writer does not open itself: `read` fetches its bytes
 * (inside the privileged child, from the parent that opened the file with the
 * user's rights). `sourcePath` and `sourceDeviceNumber` only say where it lives,
 * so a card that holds the image is refused; nothing opens them.
 */
export interface StreamSource {
  readonly size: number;
  /** Reads `length` image bytes at `position` into `buffer` at `bufferOffset` (all within the image). */
  readonly read: (buffer: Buffer, bufferOffset: number, length: number, position: number) => Promise<void>;
  readonly sourcePath?: string;
  readonly sourceDeviceNumber?: string;
}

/** The image to write: a composed sparse image, an image file written whole (opened here), or one read through a stream. */
export type WriteSource = SparseImage | { readonly path: string } | StreamSource;

export interface WriteOptions {
  readonly verify: boolean;
  readonly includeLoop?: boolean;
  readonly allowNonCard?: boolean;
  /** After a successful verify, set the card's temporary write-protect (SD cards on an MMC host only). */
  readonly lockAfterVerify?: boolean;
}

export interface WriteRequest extends WriteOptions {
  readonly image: WriteSource;
  /** Device paths (/dev/sdb) or image file paths; each written independently. */
  readonly targets: readonly string[];
  readonly onProgress?: (progress: WriteProgress) => void;
  /** Called as soon as each target is finished (in completion order); the promise resolves with all of them in target order. */
  readonly onResult?: (result: WriteResult) => void;
  readonly signal?: AbortSignal;
}

export interface LockOutcome {
  readonly ok: boolean;
  readonly state?: string;
  readonly error?: BootcardErrorJSON;
}

export interface WriteResult {
  readonly target: string;
  readonly ok: boolean;
  readonly error?: BootcardErrorJSON;
  /** What was written: 'device' or an image 'file'. */
  readonly kind: 'device' | 'file';
  /** The whole-disk node the target resolved to (e.g. /dev/sdb for /dev/disk/by-id/usb-...): the device that was checked and written. */
  readonly device?: string;
  readonly description?: string;
  /**
   * Bytes actually written to the target: the partition table wipe, the data
   * ranges, and zeros only where a must-be-zero region did not read as zero
   * already (so rewriting a card with the same image writes little more than
   * its data). For an image file: the data written.
   */
  readonly bytesWritten: number;
  readonly durationMs: number;
  /** True when every written byte was read back and matched. */
  readonly verified: boolean;
  /**
   * SHA-256 of the image data that was verified on the card: the data ranges in
   * offset order for a composed image, the whole file (as `sha256sum` prints it)
   * for an image file.
   */
  readonly sha256?: string;
  /** The card's CID serial (PSN), when the card sits on an MMC host. */
  readonly cidSerial?: string;
  readonly lock?: LockOutcome;
}

export function isSparseSource(source: WriteSource): source is SparseImage {
  return 'ranges' in source;
}

export function isStreamSource(source: WriteSource): source is StreamSource {
  return 'read' in source;
}
