/**
 * Which mounts the writer unmounts: exactly the card's own, by device number.
 * The recorded table is a station with many readers, where names share prefixes
 * (loop1/loop11/loop110, sdb/sdba, mmcblk1/mmcblk10): the old helper unmounted
 * by name prefix and took /dev/loop110 down when /dev/loop11 was written.
 */
import { describe, expect, it } from 'vitest';
import { cardMounts, mountedOver } from '../../electron/core/drives/card-mounts.js';
import { parseMountinfo, parseMountTree } from '../../electron/core/drives/mountinfo.js';

// mountinfo(5) lines as the kernel prints them; device numbers as the kernel assigns them
// (loop: 7:N, partitions of loops: 259:N; sdb 8:16, sdba 67:64; mmcblk1 179:8, mmcblk10 179:80).
const STATION = [
  '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '30 22 7:1 / /media/op/loop1 rw,relatime shared:10 - vfat /dev/loop1 rw',
  '31 22 7:11 / /media/op/loop11 rw,relatime shared:11 - vfat /dev/loop11 rw',
  '32 22 7:110 / /media/op/loop110 rw,relatime shared:12 - vfat /dev/loop110 rw',
  '33 22 259:3 / /media/op/loop11p1 rw,relatime shared:13 - vfat /dev/loop11p1 rw',
  '34 22 259:4 / /media/op/loop110p1 rw,relatime shared:14 - vfat /dev/loop110p1 rw',
  '40 22 8:17 / /media/op/BOOT rw,relatime shared:20 - vfat /dev/sdb1 rw',
  '41 22 8:18 / /media/op/ROOT rw,relatime shared:21 - ext4 /dev/sdb2 rw',
  '42 41 8:17 /overlays /media/op/ROOT/boot/overlays rw,relatime shared:22 - vfat /dev/sdb1 rw',
  '43 22 67:65 / /media/op/sdba1 rw,relatime shared:23 - vfat /dev/sdba1 rw',
  '50 22 179:9 / /media/op/mmc1 rw,relatime shared:30 - vfat /dev/mmcblk1p1 rw',
  '51 22 179:81 / /media/op/mmc10 rw,relatime shared:31 - vfat /dev/mmcblk10p1 rw',
  '52 22 179:80 / /media/op/mmc10-whole rw,relatime shared:32 - vfat /dev/mmcblk10 rw',
  // btrfs shows an anonymous device number; only the source ties it to a disk.
  '60 22 0:45 / /media/op/btrfs rw,relatime shared:40 - btrfs /dev/sdc1 rw',
  '61 22 0:46 / /media/op/btrfs2 rw,relatime shared:41 - btrfs /dev/sdc10 rw',
].join('\n');

const mounts = parseMountinfo(STATION);
const pointsOf = (card: { deviceNumbers: string[]; names: string[] }) => cardMounts(mounts, card).map((m) => m.mountpoint);

describe('the card mount matcher (device numbers, never name prefixes)', () => {
  it('loop1 is not loop11 or loop110, and loop11 is not loop110', () => {
    expect(pointsOf({ deviceNumbers: ['7:1'], names: ['loop1'] })).toEqual(['/media/op/loop1']);
    expect(pointsOf({ deviceNumbers: ['7:11', '259:3'], names: ['loop11', 'loop11p1'] }).sort()).toEqual(['/media/op/loop11', '/media/op/loop11p1']);
  });

  it('sdb is not sdba; a bind mount of the card inside its own mount goes first', () => {
    const sdb = pointsOf({ deviceNumbers: ['8:16', '8:17', '8:18'], names: ['sdb', 'sdb1', 'sdb2'] });
    expect(sdb[0]).toBe('/media/op/ROOT/boot/overlays');
    expect(sdb.slice(1).sort()).toEqual(['/media/op/BOOT', '/media/op/ROOT']);
    expect(pointsOf({ deviceNumbers: ['67:64', '67:65'], names: ['sdba', 'sdba1'] })).toEqual(['/media/op/sdba1']);
  });

  it('mmcblk1 is not mmcblk10', () => {
    expect(pointsOf({ deviceNumbers: ['179:8', '179:9'], names: ['mmcblk1', 'mmcblk1p1'] })).toEqual(['/media/op/mmc1']);
    expect(pointsOf({ deviceNumbers: ['179:80', '179:81'], names: ['mmcblk10', 'mmcblk10p1'] }).sort()).toEqual(['/media/op/mmc10', '/media/op/mmc10-whole']);
  });

  it('an anonymous device number (btrfs) matches only the exact source node', () => {
    expect(pointsOf({ deviceNumbers: ['8:32', '8:33'], names: ['sdc', 'sdc1'] })).toEqual(['/media/op/btrfs']);
  });

  it('sees what is mounted over a card mount (umount there would take that one instead)', () => {
    const tree = parseMountTree(
      [
        '22 1 254:1 / / rw shared:1 - ext4 /dev/vda1 rw',
        '40 22 8:17 / /media/op/BOOT rw shared:20 - vfat /dev/sdb1 rw',
        '70 40 0:60 / /media/op/BOOT rw shared:50 - fuse.sshfs me@host: rw',
        '41 22 8:18 / /media/op/ROOT rw shared:21 - ext4 /dev/sdb2 rw',
        '71 41 0:61 / /media/op/ROOT/tmp rw shared:51 - tmpfs tmpfs rw',
      ].join('\n'),
    );
    const card = { deviceNumbers: ['8:16', '8:17', '8:18'], names: ['sdb', 'sdb1', 'sdb2'] };
    const [boot, root] = [tree.find((m) => m.id === 40)!, tree.find((m) => m.id === 41)!];
    expect(cardMounts(tree, card).map((m) => m.id).sort()).toEqual([40, 41]);
    expect(mountedOver(tree, boot)).toMatchObject({ id: 70, fstype: 'fuse.sshfs' });
    // A mount inside (not on) the card's folder is not "over" it; umount of the folder simply fails busy.
    expect(mountedOver(tree, root)).toBeUndefined();
  });

  it('a card with nothing mounted has nothing to unmount, and the system disk is never matched by a card', () => {
    expect(pointsOf({ deviceNumbers: ['8:48', '8:49'], names: ['sdd', 'sdd1'] })).toEqual([]);
    expect(pointsOf({ deviceNumbers: ['7:1'], names: ['loop1'] })).not.toContain('/');
  });
});
