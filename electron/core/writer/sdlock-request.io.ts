/**
 * The privileged child's side of an SD write-protect request: it checks the
 * device itself (the parent's word is not trusted: the child runs as root on
 * behalf of a user who could name any device), then calls the sdlock core.
 *
 * The device must be the whole SD card it names: a /dev/mmcblkN node that
 * exists, is a block device of that name (not a link to another disk, not a
 * partition) and is not the system drive by the drive constraints.
 */
import { driveConstraints, vanishedConstraint } from '../drives/constraints.js';
import { describeTarget, enumerationPaths, type TargetKind } from '../drives/enumerate.io.js';
import { DriveErrorCode, type Drive } from '../drives/types.js';
import { BootcardError } from '../errors.js';
import {
  PERMANENT_LOCK_CONFIRMATION,
  SdLockErrorCode,
  getSdLockStatus,
  lockSdCard,
  permanentlyLockSdCard,
  unlockSdCard,
  type SdLockChange,
  type SdLockOptions,
  type SdLockStatus,
} from '../sdlock/sdlock.io.js';
import { SD_CARD_DEVICE, type SdLockRequestMessage } from './protocol.js';

export interface SdLockRequestDeps {
  /** Where the device is looked up; default: drives/enumerate.io.ts, fresh from sysfs and the mount table. */
  readonly describeTarget?: (device: string) => Promise<TargetKind>;
}

/** The drive behind `device`, or the refusal a user can act on. */
export async function checkSdLockTarget(device: string, deps: SdLockRequestDeps = {}): Promise<Drive> {
  if (!SD_CARD_DEVICE.test(device)) {
    throw new BootcardError(DriveErrorCode.NOT_A_DRIVE, `${device} is not an SD card in a built-in slot; give the whole card, e.g. /dev/mmcblk0.`, { device });
  }
  const target = await (deps.describeTarget ?? ((d: string) => describeTarget(d, { paths: enumerationPaths() })))(device);
  switch (target.kind) {
    case 'missing': {
      const gone = vanishedConstraint(device);
      throw new BootcardError(gone.code, `${gone.message} (\`bootcard drives\` lists the cards.)`, { device });
    }
    case 'partition':
      throw new BootcardError(DriveErrorCode.PARTITION, `${device} is a partition; give the whole card, ${target.disk}.`, { device, disk: target.disk });
    case 'file':
    case 'other':
      throw new BootcardError(DriveErrorCode.NOT_A_DRIVE, target.kind === 'other' && target.reason ? target.reason : `${device} is not a block device; give the whole card, e.g. /dev/mmcblk0.`, { device });
    case 'drive':
      break;
  }
  const { drive } = target;
  if (drive.device !== device) {
    throw new BootcardError(DriveErrorCode.NOT_A_DRIVE, `${device} leads to ${drive.device}, not to the SD card it names; give the card's own device (\`bootcard drives\` lists them).`, { device, drive: drive.device });
  }
  const system = driveConstraints(drive, { size: 0 }).find((c) => c.code === DriveErrorCode.SYSTEM);
  if (system) throw new BootcardError(system.code, system.message, { device });
  return drive;
}

/** Runs one request after checking its device; the result is the core's. */
export async function performSdLockRequest(request: SdLockRequestMessage, deps: SdLockRequestDeps = {}): Promise<SdLockStatus | SdLockChange> {
  const device = request.device;
  if (request.operation === 'permlock' && request.confirm !== PERMANENT_LOCK_CONFIRMATION) {
    throw new BootcardError(SdLockErrorCode.CONFIRMATION_REQUIRED, `A permanent lock can never be undone: ${device} would stay read-only forever. Confirm it explicitly (CLI: --yes-permanently).`, { device });
  }
  await checkSdLockTarget(device, deps);
  const options: SdLockOptions = { allowMounted: request.allowMounted };
  switch (request.operation) {
    case 'status':
      return getSdLockStatus(device, options);
    case 'lock':
      return lockSdCard(device, options);
    case 'unlock':
      return unlockSdCard(device, options);
    case 'permlock':
      return permanentlyLockSdCard(device, { confirm: PERMANENT_LOCK_CONFIRMATION }, options);
  }
}
