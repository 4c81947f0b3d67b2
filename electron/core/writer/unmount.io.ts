/**
 * Unmounts exactly one card's own file systems before it is written.
 *
 * The card's mounts are found by device number (drives/card-mounts.ts), each
 * is unmounted with umount(8) (never lazily: a busy file system stays mounted,
 * and bootcard says who keeps it busy), and the mount table is read again
 * afterwards. Anything left mounted refuses the card with DRIVE_BUSY before a
 * byte is written.
 */
import { execFile } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { cardIdentity, cardMounts, mountedOver } from '../drives/card-mounts.js';
import { describeDeviceUsers, findDeviceUsers } from '../drives/device-users.io.js';
import { parseMountTree, type MountEntry, type MountNode } from '../drives/mountinfo.js';
import { DriveErrorCode, type Drive } from '../drives/types.js';
import { BootcardError, CommonErrorCode } from '../errors.js';
import { WriteErrorCode } from './types.js';

/** Where umount(8) may live; the first one found is used for the life of the process (never $PATH). */
const UMOUNT_CANDIDATES = ['/usr/bin/umount', '/bin/umount', '/usr/sbin/umount', '/sbin/umount'];

/** A clean unmount of a slow card with much unwritten data can take a while; a busy one fails at once. */
const UMOUNT_TIMEOUT_MS = 120_000;

/** More mounts than any card has: stops a table that keeps changing from looping forever. */
const MAX_UNMOUNTS = 64;

let umountPath: Promise<string> | undefined;

async function findUmount(): Promise<string> {
  for (const candidate of UMOUNT_CANDIDATES) {
    try {
      await fs.access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new BootcardError(CommonErrorCode.INTERNAL, `umount was not found (looked in ${UMOUNT_CANDIDATES.join(', ')}); install util-linux (mount) or unmount the card yourself.`);
}

export interface UnmountOptions {
  /**
   * The mount table to read; default the kernel's own /proc/self/mountinfo,
   * never BOOTCARD_MOUNTINFO: a recorded table may describe the card for the
   * checks, but only the real one says what root is about to unmount.
   */
  readonly mountinfo?: string;
  readonly signal?: AbortSignal;
  /** procfs root for naming the processes in the way (tests). */
  readonly proc?: string;
}

async function readMounts(file: string): Promise<MountNode[]> {
  try {
    return parseMountTree(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw new BootcardError(DriveErrorCode.ENUMERATION_FAILED, `Cannot read the mount table ${file} (${(error as Error).message}), so bootcard cannot tell whether the card is mounted; nothing was written.`);
  }
}

function runUmount(umount: string, mountpoint: string, signal: AbortSignal | undefined): Promise<{ ok: boolean; message: string }> {
  return new Promise((resolve) => {
    execFile(
      umount,
      [mountpoint],
      // C locale: the reason in the message reads the same everywhere; no PATH games for the helpers umount runs.
      { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }, timeout: UMOUNT_TIMEOUT_MS, killSignal: 'SIGKILL', ...(signal ? { signal } : {}) },
      (error, _stdout, stderr) => {
        const text = String(stderr).trim().split('\n').filter(Boolean).at(-1) ?? '';
        resolve(error ? { ok: false, message: text || error.message } : { ok: true, message: '' });
      },
    );
  });
}

const CLOSE_PROGRAMS = 'Close the files and programs using it (or leave that folder), then write again.';

async function busyError(drive: Drive, mount: MountEntry, reason: string, proc: string | undefined, advice = CLOSE_PROGRAMS): Promise<BootcardError> {
  const users = await findDeviceUsers(cardIdentity(drive), proc ? { proc } : {});
  const who = users.length > 0 ? ` It is in use by ${describeDeviceUsers(users)}.` : '';
  return new BootcardError(
    DriveErrorCode.BUSY,
    `${drive.device} is busy: ${mount.mountpoint} could not be unmounted (${reason}).${who} ${advice} Nothing was written; the card is still mounted.`,
    { target: drive.device, mountpoint: mount.mountpoint, reason, processes: users.map((u) => ({ pid: u.pid, command: u.command, uses: u.uses })) },
  );
}


/**
 * A folder on the way to `mountpoint` that someone other than root could
 * change, if there is one. umount (and the kernel) find the mount point by
 * name, as root: whoever can swap a folder on that path for a link between
 * bootcard's check and the unmount could make root unmount something else
 * (/home, another user's card). So bootcard unmounts only where every folder
 * above the mount point is root's and not writable by others (or sticky, with
 * root's entry in it), as udisks' /media/USER/LABEL is, and asks the user to
 * unmount anything else themselves. ACLs show in the group bits (their mask).
 */
async function changeableFolderOn(mountpoint: string): Promise<string | undefined> {
  if (!path.isAbsolute(mountpoint) || path.normalize(mountpoint) !== mountpoint) return mountpoint;
  const parts = mountpoint.split('/').filter(Boolean);
  let folder = '/';
  for (const part of parts) {
    const entry = path.join(folder, part);
    try {
      const [dir, child] = await Promise.all([fs.lstat(folder), fs.lstat(entry)]);
      if (!dir.isDirectory() || !child.isDirectory()) return entry;
      const othersMayWrite = (dir.mode & 0o022) !== 0;
      const sticky = (dir.mode & 0o1000) !== 0;
      if (dir.uid !== 0 || (othersMayWrite && !(sticky && child.uid === 0))) return folder;
    } catch {
      return entry;
    }
    folder = entry;
  }
  return undefined;
}

/** Unmounts every file system of `drive` (nothing else), or throws DRIVE_BUSY and leaves them mounted. */
export async function unmountCard(drive: Drive, options: UnmountOptions = {}): Promise<void> {
  const table = options.mountinfo ?? '/proc/self/mountinfo';
  const card = cardIdentity(drive);
  for (let round = 0; ; round++) {
    const mounts = await readMounts(table);
    const next = cardMounts(mounts, card)[0];
    if (!next) return;
    if (options.signal?.aborted) {
      throw new BootcardError(WriteErrorCode.CANCELLED, `Cancelled before ${drive.device} was written; nothing was written.`, { target: drive.device });
    }
    if (round >= MAX_UNMOUNTS) {
      throw await busyError(drive, next, 'it is mounted again as fast as it is unmounted', options.proc);
    }
    // umount acts on whatever is mounted on top of that folder: make sure that is the card's (from the table: a stat there could reach a user's FUSE server).
    const over = mountedOver(mounts, next);
    if (over) throw await busyError(drive, next, `another file system (${over.source}, ${over.fstype}) is mounted over it`, options.proc);
    const changeable = await changeableFolderOn(next.mountpoint);
    if (changeable !== undefined) {
      throw await busyError(drive, next, `it is in ${changeable}, which users other than root can change, so bootcard does not unmount it as root`, options.proc, `Unmount it yourself (\`umount ${next.mountpoint}\`), then write again.`);
    }
    umountPath ??= findUmount();
    const outcome = await runUmount(await umountPath, next.mountpoint, options.signal);
    if (options.signal?.aborted) {
      throw new BootcardError(WriteErrorCode.CANCELLED, `Cancelled while unmounting ${drive.device}; nothing was written.`, { target: drive.device });
    }
    if (!outcome.ok) throw await busyError(drive, next, outcome.message, options.proc);
  }
}
