/**
 * Resolving write targets, once: each name the user gave is followed (links
 * and all) exactly one time, by the drive layer's describeTarget; from then on
 * the writer works with the resolved whole-disk node (/dev/NAME). Two names of
 * one card (/dev/sdb and /dev/disk/by-id/..., or a link to it) are one target,
 * and the request is refused before anything is written.
 */
import path from 'node:path';
import { describeTarget, type TargetKind } from '../drives/enumerate.io.js';
import { DriveErrorCode, type Drive } from '../drives/types.js';
import { BootcardError } from '../errors.js';
import { WriteErrorCode } from './types.js';

export interface ResolvedTarget {
  /** The name as given. */
  readonly target: string;
  readonly found: TargetKind;
}

export type Describe = (target: string) => Promise<TargetKind>;

/** What makes two targets the same: the device number for a disk, the real path for anything else. */
function identityOf(target: string, found: TargetKind): { key: string; name: string } {
  switch (found.kind) {
    case 'drive':
      return { key: `device ${found.drive.deviceNumbers[0] ?? found.drive.device}`, name: found.drive.device };
    case 'partition':
      return { key: `path ${found.device}`, name: found.device };
    case 'file':
    case 'missing':
    case 'other':
      return { key: `path ${path.resolve(found.path)}`, name: path.resolve(found.path) };
    default:
      return { key: `path ${path.resolve(target)}`, name: target };
  }
}

/** Resolves every target once; throws WRITE_BAD_REQUEST when two of them are the same card or file. */
export async function resolveTargets(targets: readonly string[], describe: Describe = (t) => describeTarget(t)): Promise<ResolvedTarget[]> {
  const resolved = await Promise.all(targets.map(async (target) => ({ target, found: await describe(target) })));
  const seen = new Map<string, string>();
  for (const { target, found } of resolved) {
    const { key, name } = identityOf(target, found);
    const first = seen.get(key);
    if (first !== undefined) {
      const same = first === target ? `${target} is named twice` : `${first} and ${target} are the same ${found.kind === 'drive' ? 'card' : 'target'} (${name})`;
      throw new BootcardError(WriteErrorCode.BAD_REQUEST, `${same}; name each card once. Nothing was written.`, { targets: [first, target], resolved: name });
    }
    seen.set(key, target);
  }
  return resolved;
}

function notADevice(target: string, found: TargetKind): BootcardError {
  switch (found.kind) {
    case 'file':
      return new BootcardError(DriveErrorCode.NOT_A_DRIVE, `${target} is a file (${found.path}), not a card; the wizard writes only to cards it lists. Write image files with \`bootcard flash --to FILE\`.`, { target });
    case 'partition':
      return new BootcardError(DriveErrorCode.PARTITION, `${target} is a partition; write to the whole card (${found.disk}) instead.`, { target });
    case 'missing':
      return new BootcardError(DriveErrorCode.VANISHED, `${target} does not exist (the card was removed, or the path is wrong).`, { target });
    default:
      return new BootcardError(DriveErrorCode.NOT_A_DRIVE, found.kind === 'other' && found.reason ? found.reason : `${target} is not a disk; the wizard writes only to cards it lists.`, { target });
  }
}

/**
 * For callers that write devices only (the wizard's card.write): every target
 * must be a whole-disk block device the drive layer knows, each named once.
 * Returns the resolved drives (their `device` is the /dev/NAME node to hand on).
 */
export async function resolveDeviceTargets(targets: readonly string[], describe: Describe = (t) => describeTarget(t)): Promise<Drive[]> {
  const resolved = await resolveTargets(targets, describe);
  return resolved.map(({ target, found }) => {
    if (found.kind !== 'drive') throw notADevice(target, found);
    return found.drive;
  });
}
