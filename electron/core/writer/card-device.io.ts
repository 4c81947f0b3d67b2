/**
 * The one way the writer opens a card: etcher-sdk's BlockDevice for reading,
 * writing and verifying, but bootcard's own open (etcher-sdk's opens by name,
 * unmounts through mountutils by name prefix and retries EBUSY for minutes).
 *
 * The node is the drive layer's /dev/NAME (never a path the user named),
 * opened with O_NOFOLLOW and O_EXCL (the kernel refuses while a partition is
 * mounted or another program holds the card exclusively: a second bootcard
 * writing the same card), then the opened handle itself is checked: a block
 * device with the checked MAJOR:MINOR. One handle serves the write, the flush
 * and the verification, so the card stays claimed until bootcard is done.
 */
import { constants, promises as fs } from 'node:fs';
import type { Drive as DrivelistDrive } from 'drivelist';
import { sourceDestination } from 'etcher-sdk';
import { cardIdentity } from '../drives/card-mounts.js';
import { describeDeviceUsers, findDeviceUsers } from '../drives/device-users.io.js';
import { deviceNumberOf } from '../drives/enumerate.io.js';
import { DriveErrorCode, type Drive } from '../drives/types.js';
import { BootcardError } from '../errors.js';
import { WriteErrorCode } from './types.js';

/** How long EBUSY is retried in total: long enough for udev's probe after an unmount, short enough to answer at once. */
export const EXCLUSIVE_OPEN_BUSY_MS = 3000;
const BUSY_RETRY_PAUSE_MS = 200;

export interface CardDeviceOptions {
  readonly signal?: AbortSignal;
  /** Total time EBUSY is retried; default EXCLUSIVE_OPEN_BUSY_MS. */
  readonly busyForMs?: number;
}

/** The drivelist shape etcher-sdk's BlockDevice wants, from bootcard's Drive. */
export function asDrivelistDrive(drive: Drive): DrivelistDrive {
  return {
    enumerator: 'bootcard',
    busType: drive.bus.toUpperCase(),
    busVersion: null,
    device: drive.device,
    devicePath: null,
    raw: drive.device,
    description: drive.description,
    error: null,
    size: drive.size,
    blockSize: 512,
    logicalBlockSize: 512,
    mountpoints: drive.mountpoints.map((p) => ({ path: p, label: null })),
    isReadOnly: drive.isReadOnly,
    isSystem: drive.isSystem,
    isVirtual: drive.isLoop,
    isRemovable: drive.isRemovable,
    isCard: null,
    isSCSI: null,
    isUSB: drive.bus === 'usb',
    isUAS: null,
    partitionTableType: null,
  };
}

function cancelled(device: string): BootcardError {
  return new BootcardError(WriteErrorCode.CANCELLED, `Cancelled before ${device} was written; nothing was written.`, { target: device });
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function busyError(drive: Drive): Promise<BootcardError> {
  const users = await findDeviceUsers(cardIdentity(drive));
  const who = users.length > 0 ? `: ${describeDeviceUsers(users)}` : ' (another bootcard writing it, a partition tool, or a file system mounted again)';
  return new BootcardError(
    WriteErrorCode.BUSY,
    `${drive.device} is in use by another program${who}, so bootcard cannot have it to itself. Wait until that program is done with the card (or close it), then write again. Nothing was written.`,
    { target: drive.device, processes: users.map((u) => ({ pid: u.pid, command: u.command, uses: u.uses })) },
  );
}

/**
 * Opens the drive's node without following links, exclusively for writing,
 * retrying EBUSY only briefly, and checks the handle is the checked device.
 */
export async function openCardHandle(drive: Drive, flags: number, options: CardDeviceOptions = {}): Promise<fs.FileHandle> {
  const deadline = Date.now() + (options.busyForMs ?? EXCLUSIVE_OPEN_BUSY_MS);
  let handle: fs.FileHandle;
  for (;;) {
    if (options.signal?.aborted) throw cancelled(drive.device);
    try {
      handle = await fs.open(drive.device, flags | constants.O_NOFOLLOW);
      break;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === 'ELOOP') {
        throw new BootcardError(DriveErrorCode.NOT_A_DRIVE, `${drive.device} is a symbolic link, not the card's device node; bootcard refuses it. Nothing was written.`, { target: drive.device });
      }
      if (code !== 'EBUSY') throw error;
      if (Date.now() >= deadline) throw await busyError(drive);
      await pause(BUSY_RETRY_PAUSE_MS, options.signal);
    }
  }
  try {
    const stats = await handle.stat();
    const opened = deviceNumberOf(stats.rdev);
    if (!stats.isBlockDevice() || opened !== drive.deviceNumbers[0]) {
      throw new BootcardError(
        DriveErrorCode.NOT_A_DRIVE,
        `${drive.device} is not the device that was checked (${stats.isBlockDevice() ? `device ${opened} instead of ${drive.deviceNumbers[0] ?? '?'}` : 'not a block device'}); bootcard refuses it. Nothing was written.`,
        { target: drive.device, expected: drive.deviceNumbers[0], opened: stats.isBlockDevice() ? opened : null },
      );
    }
    if (options.signal?.aborted) throw cancelled(drive.device);
    return handle;
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** A card to write and verify through one exclusive handle; open() never unmounts (unmount.io.ts does, by device number). */
export class CardDevice extends sourceDestination.BlockDevice {
  private readonly card: Drive;
  private readonly options: CardDeviceOptions;

  constructor(drive: Drive, options: CardDeviceOptions = {}) {
    super({ drive: asDrivelistDrive(drive), write: true, direct: true, keepOriginal: true });
    this.card = drive;
    this.options = options;
  }

  protected override async _open(): Promise<void> {
    this.fileHandle = await openCardHandle(this.card, constants.O_RDWR | constants.O_DIRECT | constants.O_EXCL, this.options);
  }

  protected override async _close(): Promise<void> {
    await this.fileHandle.close();
  }

  /** fsync on the open handle: the block layer's buffers and the drive's write cache. */
  async flush(): Promise<void> {
    await this.fileHandle.sync();
  }
}
