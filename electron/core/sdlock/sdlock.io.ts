/**
 * SD card write-protect: status, lock (TMP_WRITE_PROTECT), unlock, and the
 * irreversible permanent lock (PERM_WRITE_PROTECT), through the native addon
 * in native/ (MMC_IOC_CMD on a raw /dev/mmcblkN). The CSD format and the
 * command sequence are described in ./csd.ts.
 *
 * Every change reads the CSD back and fails unless the card holds exactly the
 * register that was written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BootcardError, inWizardWords } from '../errors.js';
import {
  CSD_BYTES,
  CSD_CRC_BYTE,
  SdLockErrorCode,
  cardStatusErrors,
  decodeCsd,
  toHex,
  withCsdCrc,
  withWriteProtect,
  writeProtectState,
  type DecodedCsd,
  type SdLockState,
} from './csd.js';

export { SdLockErrorCode, type DecodedCsd, type SdLockState } from './csd.js';

export interface SdLockStatus {
  readonly device: string;
  readonly state: SdLockState;
  readonly csd: DecodedCsd;
  /** The card's relative address on its host, e.g. 0xaaaa. */
  readonly rca: number;
  /** The sysfs mmc device, e.g. mmc0:aaaa. */
  readonly mmcDevice: string;
  /** sysfs `type`: SD, MMC, SDIO, SDcombo; null when the attribute is absent. */
  readonly cardType: string | null;
}

export interface SdLockChange extends SdLockStatus {
  /** False when the card already was in the wanted state and nothing was sent. */
  readonly changed: boolean;
  readonly previousState: SdLockState;
}

export interface SdLockOptions {
  /** Where sysfs is; default: $BOOTCARD_SYSFS or /sys. */
  readonly sysfsRoot?: string;
  /** Lock even when a partition of the card is mounted. Default false. */
  readonly allowMounted?: boolean;
}

/** What the addon resolves with (native/src/addon.cc). */
interface NativeCsdRun {
  readonly before: Buffer;
  readonly after?: Buffer;
  readonly statusAfterProgram?: number;
  readonly rca: number;
  readonly blockName: string;
  readonly mmcDevice: string;
  readonly sysfsPath: string;
  readonly cardType: string;
  readonly trace: string;
}

interface NativeError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly step: string;
  readonly detail: string;
  readonly programmed: boolean;
  readonly cardStatus?: number;
  readonly trace: string;
}

interface SdLockAddon {
  readCsd(device: string, sysfsRoot: string): Promise<NativeCsdRun>;
  programCsd(device: string, sysfsRoot: string, expected: Buffer, next: Buffer): Promise<NativeCsdRun>;
}

const ADDON_FILE = path.join('native', 'build', 'Release', 'sdlock.node');

/** The folder holding bootcard's package.json: from electron/ (tests) or dist/electron/ (built). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'bootcard') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('bootcard package.json not found above the sdlock module');
    dir = parent;
  }
}

let addon: SdLockAddon | undefined;

function loadAddon(): SdLockAddon {
  if (addon) return addon;
  let file = '(unknown)';
  try {
    const root = packageRoot();
    file = path.join(root, ADDON_FILE);
    // Packaged: electron-builder unpacks *.node next to app.asar.
    const unpacked = file.replace(`${path.sep}app.asar${path.sep}`, `${path.sep}app.asar.unpacked${path.sep}`);
    if (unpacked !== file && existsSync(unpacked)) file = unpacked;
    const require = createRequire(import.meta.url);
    addon = require(file) as SdLockAddon;
    return addon;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    throw new BootcardError(
      SdLockErrorCode.ADDON_MISSING,
      `The SD write-protect addon (${ADDON_FILE}) is not built or does not load (${reason}). Run \`npm install\` (or \`npm rebuild\`) in the bootcard folder; it needs g++, make and python3.`,
      { file, reason },
      { cause: error },
    );
  }
}

function sysfsRootOf(options: SdLockOptions | undefined): string {
  return options?.sysfsRoot ?? (process.env.BOOTCARD_SYSFS || '/sys');
}

function isNativeError(error: unknown): error is NativeError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && typeof (error as { step?: unknown }).step === 'string';
}

/** Turns an addon rejection into the error a user can act on. */
function mapNativeError(device: string, error: unknown): BootcardError {
  if (!isNativeError(error)) {
    return new BootcardError(SdLockErrorCode.IO_ERROR, `SD write-protect on ${device} failed: ${String(error)}`);
  }
  const details = {
    device,
    code: error.code,
    errno: error.errno,
    step: error.step,
    ...(error.cardStatus !== undefined ? { cardStatus: `0x${(error.cardStatus >>> 0).toString(16).padStart(8, '0')}` } : {}),
    ...(error.trace ? { trace: error.trace } : {}),
  };
  const afterWrite = error.programmed ? ` The new CSD was sent; check the card with \`bootcard sd status ${device}\`.` : '';
  const make = (code: string, message: string, wizard?: string) =>
    new BootcardError(code, message + afterWrite, wizard === undefined ? details : { ...details, ...inWizardWords(wizard + afterWrite) }, { cause: error });
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      return make(
        SdLockErrorCode.PERMISSION_DENIED,
        `No permission to send card commands to ${device} (${error.step}); they need root (CAP_SYS_RAWIO). Run bootcard as root (e.g. \`sudo bootcard sd ...\`), or lock the card through the privileged writer (\`--lock\` when writing it).`,
        `No permission to send card commands to ${device} (${error.step}); they need root (CAP_SYS_RAWIO). Start bootcard as root, or write-protect the card as it is written (“Write-protect each card afterwards” on Choose cards).`,
      );
    case 'ENOTTY':
    case 'EINVAL':
    case 'EOPNOTSUPP':
    case 'ENOSYS':
    case 'ENOTBLK':
    case 'NO_SYSFS_CARD': {
      // A mistyped name lands here too (the addon looks the name up in sysfs first): say so.
      const typo = error.code === 'NO_SYSFS_CARD' && !existsSync(device) ? ` There is no ${device} on this system: check the name (\`bootcard drives\` lists the cards).` : '';
      return make(
        SdLockErrorCode.NOT_MMC,
        `${device} is not an SD card in a raw MMC/SD slot (${error.step}: ${error.detail}). Write-protecting needs a card in a built-in SD slot (/dev/mmcblkN); USB card readers cannot pass the CMD27 command to the card.${typo}`,
      );
    }
    case 'NOT_WHOLE_CARD':
      return make(
        SdLockErrorCode.NOT_WHOLE_CARD,
        `${device} is a partition (${error.detail}); give the whole card, e.g. /dev/${error.detail.replace(/(p\d+|boot\d+|rpmb|gp\d+)$/, '')}.`,
      );
    case 'ENOMEDIUM':
    case 'ENODEV':
    case 'ENOENT':
    case 'ENXIO':
      return make(SdLockErrorCode.NO_CARD, `No card found at ${device} (${error.detail}). Insert the card and check the device name.`);
    case 'ETIMEDOUT':
      return make(
        SdLockErrorCode.TIMEOUT,
        `The card in ${device} did not answer in time (${error.step}). Take it out, put it back and try again.`,
      );
    case 'EILSEQ':
      return make(
        SdLockErrorCode.CARD_REFUSED,
        `The card in ${device} refused ${error.step}: a CRC error, the data did not reach the card intact. Try again; if it repeats, clean the card's contacts or use another slot.`,
      );
    case 'EIO':
      return make(SdLockErrorCode.CARD_REFUSED, `The card in ${device} refused ${error.step} (I/O error). Some cards do not support changing their write protection.`);
    case 'CARD_STATUS': {
      const bits = cardStatusErrors(error.cardStatus ?? 0);
      const why = bits.includes('CSD_OVERWRITE')
        ? 'it will not change that part of its CSD (CSD_OVERWRITE)'
        : bits.includes('COM_CRC_ERROR')
          ? 'a CRC error (COM_CRC_ERROR), the data did not reach the card intact; try again'
          : bits.includes('CARD_IS_LOCKED')
          ? 'it is password-locked (CMD42); unlock its password first'
          : `it reported ${bits.join(', ') || 'an error'}`;
      return make(SdLockErrorCode.CARD_REFUSED, `The card in ${device} refused ${error.step}: ${why}.`);
    }
    case 'CSD_CHANGED':
      return make(SdLockErrorCode.CARD_CHANGED, `The card in ${device} changed while bootcard was working on it (was it swapped?). Run the command again.`);
    default:
      return make(SdLockErrorCode.IO_ERROR, `SD write-protect on ${device} failed at ${error.step}: ${error.detail} (${error.code}).`);
  }
}

async function callAddon<T>(device: string, run: (a: SdLockAddon) => Promise<T>): Promise<T> {
  const a = loadAddon();
  try {
    return await run(a);
  } catch (error) {
    throw mapNativeError(device, error);
  }
}

function statusFrom(device: string, run: NativeCsdRun, raw: Uint8Array): SdLockStatus {
  // The kernel's R2 reply carries no CRC byte; the register has one, so put it back.
  const csd = withCsdCrc(raw);
  return {
    device,
    state: writeProtectState(csd),
    csd: decodeCsd(csd),
    rca: run.rca,
    mmcDevice: run.mmcDevice,
    cardType: run.cardType === '' ? null : run.cardType,
  };
}

function checkSdCard(device: string, run: NativeCsdRun): void {
  if (run.cardType !== '' && run.cardType !== 'SD' && run.cardType !== 'SDcombo') {
    throw new BootcardError(
      SdLockErrorCode.NOT_SD_CARD,
      `${device} is ${run.cardType === 'MMC' ? 'an eMMC/MMC device' : `a ${run.cardType} device`} (${run.mmcDevice}), not an SD memory card; bootcard only write-protects SD cards.`,
      { device, cardType: run.cardType },
    );
  }
}

/** Reads the card's CSD and reports its write protection. Changes nothing. */
export async function getSdLockStatus(device: string, options?: SdLockOptions): Promise<SdLockStatus> {
  const run = await callAddon(device, (a) => a.readCsd(device, sysfsRootOf(options)));
  checkSdCard(device, run);
  return statusFrom(device, run, run.before);
}

/** /dev/<name> or /dev/<name>pN in the mount table. */
function mountedPartitions(blockName: string): string[] {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  const own = new RegExp(`^/dev/${blockName.replace(/[^a-z0-9]/gi, '')}(p\\d+)?$`);
  return table
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[0] !== undefined && own.test(fields[0]))
    .map((fields) => `${fields[0]} on ${(fields[1] ?? '').replace(/\\040/g, ' ')}`);
}

async function changeWriteProtect(device: string, target: SdLockState, options: SdLockOptions | undefined): Promise<SdLockChange> {
  const sysfsRoot = sysfsRootOf(options);
  const first = await callAddon(device, (a) => a.readCsd(device, sysfsRoot));
  checkSdCard(device, first);
  const current = statusFrom(device, first, first.before);
  const alreadyThere = current.state === target || (target === 'temporary' && current.state === 'permanent');
  if (alreadyThere) return { ...current, changed: false, previousState: current.state };

  // Throws PERMANENTLY_LOCKED for a permanent card asked to unlock.
  const next = withWriteProtect(withCsdCrc(first.before), target);

  if (target !== 'off' && !options?.allowMounted) {
    const mounted = mountedPartitions(first.blockName);
    if (mounted.length > 0) {
      throw new BootcardError(
        SdLockErrorCode.MOUNTED,
        `${device} is mounted (${mounted.join(', ')}). Unmount it first: a write-protected card makes the mounted file system fail.`,
        { device, mounted },
      );
    }
  }

  const second = await callAddon(device, (a) => a.programCsd(device, sysfsRoot, first.before, Buffer.from(next)));
  const after = second.after;
  if (!after || after.length !== CSD_BYTES || toHex(after.subarray(0, CSD_CRC_BYTE)) !== toHex(next.subarray(0, CSD_CRC_BYTE))) {
    throw new BootcardError(
      SdLockErrorCode.READBACK_MISMATCH,
      `The card in ${device} accepted the new CSD but reads back a different one: it did not store the write-protect change. The card may not support it.`,
      { device, written: toHex(next), readBack: after ? toHex(after) : null, trace: second.trace },
    );
  }
  const status = statusFrom(device, second, after);
  return { ...status, changed: true, previousState: current.state };
}

/** Sets TMP_WRITE_PROTECT: the card refuses writes until unlocked. Reads back to confirm. */
export function lockSdCard(device: string, options?: SdLockOptions): Promise<SdLockChange> {
  return changeWriteProtect(device, 'temporary', options);
}

/** Clears TMP_WRITE_PROTECT. Refused with SDLOCK_PERMANENTLY_LOCKED on a permanently locked card. */
export function unlockSdCard(device: string, options?: SdLockOptions): Promise<SdLockChange> {
  return changeWriteProtect(device, 'off', options);
}

export const PERMANENT_LOCK_CONFIRMATION = 'PERMANENTLY';

/**
 * Sets PERM_WRITE_PROTECT. This can never be undone: the card stays read-only
 * for the rest of its life. Demands `{ confirm: 'PERMANENTLY' }`.
 */
export function permanentlyLockSdCard(
  device: string,
  confirmation: { readonly confirm: typeof PERMANENT_LOCK_CONFIRMATION },
  options?: SdLockOptions,
): Promise<SdLockChange> {
  if ((confirmation as { confirm?: unknown } | undefined)?.confirm !== PERMANENT_LOCK_CONFIRMATION) {
    return Promise.reject(
      new BootcardError(
        SdLockErrorCode.CONFIRMATION_REQUIRED,
        `A permanent lock can never be undone: ${device} would stay read-only forever. Confirm it explicitly (CLI: --yes-permanently).`,
        { device },
      ),
    );
  }
  return changeWriteProtect(device, 'permanent', options);
}
