/**
 * `runSdLockOperation`: the one way the CLI and the GUI read or change an SD
 * card's write protection. Sending card commands (MMC_IOC_CMD) needs root
 * (CAP_SYS_RAWIO): as root it calls the sdlock core here; otherwise it asks
 * the privileged child (through pkexec, the same password prompt as writing),
 * which checks the device again itself (sdlock-request.io.ts).
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError } from '../errors.js';
import {
  PERMANENT_LOCK_CONFIRMATION,
  SdLockErrorCode,
  getSdLockStatus,
  lockSdCard,
  permanentlyLockSdCard,
  unlockSdCard,
  type SdLockChange,
  type SdLockStatus,
} from '../sdlock/sdlock.io.js';
import type { ChildPurpose } from './privilege.js';
import { SD_CARD_DEVICE, type SdLockOperation, type SdLockWireResult } from './protocol.js';
import { runPrivilegedChild, type PrivilegeOptions } from './spawn-child.io.js';
import { WriteErrorCode } from './types.js';

export type { SdLockOperation } from './protocol.js';

export interface SdLockOperationOptions extends PrivilegeOptions {
  /** Lock even when a partition of the card is mounted. Default false. */
  readonly allowMounted?: boolean;
  /** Required for 'permlock': the permanent lock can never be undone. */
  readonly confirm?: typeof PERMANENT_LOCK_CONFIRMATION;
  /**
   * Where sysfs is (tests): as root, passed to the core; for the child,
   * $BOOTCARD_SYSFS in `env`.
   */
  readonly sysfsRoot?: string;
}

const SDLOCK_PURPOSE: ChildPurpose = {
  nothingDone: 'The card was not touched',
  action: "Reading or changing an SD card's write protection",
};

export function runSdLockOperation(operation: 'status', device: string, options?: SdLockOperationOptions): Promise<SdLockStatus>;
export function runSdLockOperation(operation: 'lock' | 'unlock' | 'permlock', device: string, options?: SdLockOperationOptions): Promise<SdLockChange>;
export function runSdLockOperation(operation: SdLockOperation, device: string, options?: SdLockOperationOptions): Promise<SdLockStatus | SdLockChange>;
export async function runSdLockOperation(operation: SdLockOperation, device: string, options: SdLockOperationOptions = {}): Promise<SdLockStatus | SdLockChange> {
  if (options.privilege === undefined || options.privilege === 'auto') {
    if (process.getuid?.() === 0) return runInProcess(operation, device, options);
  }
  return runInChild(operation, device, options);
}

function runInProcess(operation: SdLockOperation, device: string, options: SdLockOperationOptions): Promise<SdLockStatus | SdLockChange> {
  const core = { allowMounted: options.allowMounted ?? false, ...(options.sysfsRoot ? { sysfsRoot: options.sysfsRoot } : {}) };
  switch (operation) {
    case 'status':
      return getSdLockStatus(device, core);
    case 'lock':
      return lockSdCard(device, core);
    case 'unlock':
      return unlockSdCard(device, core);
    case 'permlock':
      // The core refuses a missing confirmation with SDLOCK_CONFIRMATION_REQUIRED.
      return permanentlyLockSdCard(device, { confirm: options.confirm as typeof PERMANENT_LOCK_CONFIRMATION }, core);
  }
}

/**
 * The device the child is asked about: a /dev/disk/by-id link is resolved to
 * its card; anything that is not a whole /dev/mmcblkN is refused here, before a
 * password prompt for a request the child would refuse anyway.
 */
async function childDevice(device: string): Promise<string> {
  const resolved = await realpath(device).catch(() => path.resolve(device));
  if (SD_CARD_DEVICE.test(resolved)) return resolved;
  const partition = /^(\/dev\/mmcblk\d+)p\d+$/.exec(resolved);
  if (partition) {
    throw new BootcardError(SdLockErrorCode.NOT_WHOLE_CARD, `${device} is a partition; give the whole card, e.g. ${partition[1]}.`, { device });
  }
  throw new BootcardError(
    SdLockErrorCode.NOT_MMC,
    `${device} is not an SD card in a built-in slot (/dev/mmcblkN). Write-protecting needs a card in a built-in SD slot; USB card readers cannot pass the CMD27 command to the card. \`bootcard drives\` lists the cards.`,
    { device },
  );
}

async function runInChild(operation: SdLockOperation, given: string, options: SdLockOperationOptions): Promise<SdLockStatus | SdLockChange> {
  const env = options.env ?? process.env;
  const device = await childDevice(given);
  const result = await runPrivilegedChild<SdLockWireResult>({
    ...(options.privilege ? { privilege: options.privilege } : {}),
    ...(options.pkexec ? { pkexec: options.pkexec } : {}),
    ...(options.writerHelper ? { writerHelper: options.writerHelper } : {}),
    ...(options.notice ? { notice: options.notice } : {}),
    env,
    ...(options.sysfsRoot ? { childEnv: { BOOTCARD_SYSFS: options.sysfsRoot } } : {}),
    message: {
      type: 'sdlock',
      operation,
      device,
      allowMounted: options.allowMounted ?? false,
      ...(options.confirm === PERMANENT_LOCK_CONFIRMATION ? { confirm: options.confirm } : {}),
    },
    purpose: SDLOCK_PURPOSE,
    whenStopped: `Check the card with \`bootcard sd status ${device}\`.`,
    onReport: (report) => {
      if (report.type !== 'sdlock-result') {
        throw new BootcardError(WriteErrorCode.CHILD_FAILED, `The privileged helper answered an SD write-protect request with a '${report.type}' message.`);
      }
      return { value: report.result };
    },
  });
  if (operation !== 'status' && (result.changed === undefined || result.previousState === undefined)) {
    throw new BootcardError(WriteErrorCode.CHILD_FAILED, `The privileged helper did not say whether ${device} changed; check it with \`bootcard sd status ${device}\`.`);
  }
  return result;
}
