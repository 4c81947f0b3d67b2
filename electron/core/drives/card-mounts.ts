/**
 * Which mounts belong to one card, and in which order to unmount them.
 *
 * A mount belongs to the card when mountinfo's MAJOR:MINOR (field 3) is the
 * disk's or one of its partitions'. Names are never compared by prefix:
 * /dev/loop1 is not /dev/loop11, sdb is not sdba, mmcblk1 is not mmcblk10.
 * The one exception is a file system that reports an anonymous device number
 * (major 0, e.g. btrfs): there the mount's source must be exactly one of the
 * card's own device nodes.
 */
import type { MountEntry, MountNode } from './mountinfo.js';
import type { Drive } from './types.js';

export interface CardIdentity {
  /** MAJOR:MINOR of the disk and each partition (Drive.deviceNumbers). */
  readonly deviceNumbers: readonly string[];
  /** Kernel names of the disk and each partition, e.g. ["sdb", "sdb1"]. */
  readonly names: readonly string[];
}

export function cardIdentity(drive: Drive): CardIdentity {
  return { deviceNumbers: drive.deviceNumbers, names: [drive.name, ...drive.partitions] };
}

function isAnonymous(deviceNumber: string): boolean {
  return deviceNumber.startsWith('0:');
}

export function isCardMount(mount: MountEntry, card: CardIdentity): boolean {
  if (card.deviceNumbers.includes(mount.deviceNumber)) return true;
  return isAnonymous(mount.deviceNumber) && card.names.some((name) => mount.source === `/dev/${name}`);
}

function depth(mountpoint: string): number {
  return mountpoint === '/' ? 0 : mountpoint.split('/').length - 1;
}

/** A mount stacked right on top of `mount` (on the same folder): umount on that folder would take it, not `mount`. */
export function mountedOver(mounts: readonly MountNode[], mount: MountNode): MountNode | undefined {
  return mounts.find((m) => m.parentId === mount.id && m.mountpoint === mount.mountpoint);
}

/**
 * The card's mounts, deepest mount point first (a mount inside another of the
 * card's mounts has to go first), and for one mount point stacked several
 * times, the one mounted last (listed last in mountinfo) first.
 */
export function cardMounts<M extends MountEntry>(mounts: readonly M[], card: CardIdentity): M[] {
  return mounts
    .map((mount, index) => ({ mount, index }))
    .filter(({ mount }) => isCardMount(mount, card))
    .sort((a, b) => depth(b.mount.mountpoint) - depth(a.mount.mountpoint) || b.index - a.index)
    .map(({ mount }) => mount);
}
