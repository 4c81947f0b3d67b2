import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listDrives, deviceNumberOf } from '../../electron/core/drives/enumerate.io.js';
import { driveConstraints } from '../../electron/core/drives/constraints.js';
import type { Drive } from '../../electron/core/drives/types.js';
import { REPO_ROOT } from '../helpers/shared.js';

/** Recorded machines: a sysfs tree, the mount table, the swap list and `lsblk --json --output-all` (parsed by drivelist's own parser). */
function recorded(name: string) {
  const base = path.join(REPO_ROOT, 'tests', 'fixtures', 'drives', name);
  return { sysfs: path.join(base, 'sys'), mountinfo: path.join(base, 'mountinfo'), swaps: path.join(base, 'swaps'), lsblkJson: path.join(base, 'lsblk.json') };
}

async function drivesOf(name: string): Promise<Map<string, Drive>> {
  const drives = await listDrives({ paths: recorded(name) });
  return new Map(drives.map((d) => [d.device, d]));
}

const IMAGE = { size: 64 * 1024 * 1024 };
const codes = (d: Drive | undefined, options = {}) => driveConstraints(d!, IMAGE, options).map((c) => c.code);

describe('drive enumeration on recorded machines', () => {
  it("laptop: the built-in reader's card (mmcblk0, RM=0) is an SD card, not a system drive; the NVMe disk is", async () => {
    const drives = await drivesOf('laptop-reader');
    const card = drives.get('/dev/mmcblk0')!;
    expect(card).toMatchObject({ bus: 'mmc', isSystem: false, isRemovable: false, isCard: true, size: 124_735_488 * 512 });
    expect(card.sd).toMatchObject({ type: 'SD', manufacturerId: 3, manufacturer: 'SanDisk', oemId: 'SD', name: 'SC64G', serial: '0x1a2b3c4d', manufactureDate: '2019-08' });
    expect(card.sd?.writeProtect).toEqual({ temporary: false, permanent: false });
    // Its first partition was auto-mounted by the desktop: refused as mounted, not as a system drive.
    expect(card.mountpoints).toEqual(['/media/alice/bootfs']);
    expect(codes(card)).toEqual(['DRIVE_MOUNTED']);
    const nvme = drives.get('/dev/nvme0n1')!;
    expect(nvme.isSystem).toBe(true);
    expect(nvme.systemReasons).toContain('nvme0n1p2 is mounted on /');
    expect(codes(nvme)).toContain('DRIVE_SYSTEM');
  });

  it('USB multi-slot reader: the SD slot with a card is a target, empty slots say "no card", a USB stick is not an SD card', async () => {
    const drives = await drivesOf('usb-multi-reader');
    const sd = drives.get('/dev/sdb')!;
    expect(sd).toMatchObject({ bus: 'usb', vendor: 'Generic-', model: 'SD/MMC', isCard: true, isSystem: false });
    expect(codes(sd)).toEqual([]);
    expect(codes(drives.get('/dev/sdd'))).toEqual(['DRIVE_NO_MEDIA']);
    expect(codes(drives.get('/dev/sdf'))).toEqual(['DRIVE_NOT_CARD']);
    expect(codes(drives.get('/dev/sdf'), { allowNonCard: true })).toEqual([]);
    const sda = drives.get('/dev/sda')!;
    expect(sda.isSystem).toBe(true);
    expect(sda.swaps).toEqual(['/dev/sda3']);
    expect(sda.systemReasons).toContain('sda3 is active swap');
  });

  it('a Pi booted from its SD card: mmcblk0 holds / and /boot/firmware (mounted as /dev/root) and is the system drive', async () => {
    const drives = await drivesOf('pi-sd-boot');
    const system = drives.get('/dev/mmcblk0')!;
    expect(system.isCard).toBe(true);
    expect(system.isSystem).toBe(true);
    expect(system.systemReasons).toEqual(['mmcblk0p2 is mounted on /', 'mmcblk0p1 is mounted on /boot/firmware']);
    expect(codes(system)).toEqual(['DRIVE_SYSTEM']);
    // The USB reader (Genesys "Generic STORAGE DEVICE") holding the card to write is fine.
    expect(codes(drives.get('/dev/sda'))).toEqual([]);
  });

  it('eMMC: boot0/boot1/rpmb are never listed; the eMMC is the system; a locked SD card is refused as write-protected', async () => {
    const drives = await drivesOf('emmc-boot-partitions');
    expect([...drives.keys()].sort()).toEqual(['/dev/mmcblk0', '/dev/mmcblk1']);
    const emmc = drives.get('/dev/mmcblk0')!;
    expect(emmc).toMatchObject({ isSystem: true, isCard: false, description: 'eMMC BJTD4R' });
    expect(emmc.sd).toMatchObject({ type: 'MMC', oemId: '0x0001', serial: '0x8b1d3ae3', manufactureDate: '2021-09' });
    const locked = drives.get('/dev/mmcblk1')!;
    expect(locked.sd).toMatchObject({ manufacturer: 'Samsung', oemId: 'SM', writeProtect: { temporary: true, permanent: false } });
    const constraints = driveConstraints(locked, IMAGE);
    expect(constraints.map((c) => c.code)).toEqual(['DRIVE_WRITE_PROTECTED']);
    expect(constraints[0]!.message).toMatch(/unlock/);
  });

  it('btrfs: a mount whose device field is anonymous (0:N) is tied to its disk by its source, so the disk is mounted or the system', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-btrfs-'));
    try {
      // The same machine, with / and a card's partition on btrfs, as the kernel reports them.
      const mountinfo = path.join(dir, 'mountinfo');
      writeFileSync(mountinfo, '25 1 0:27 /@ / rw,relatime shared:1 - btrfs /dev/sda2 rw,subvol=/@\n40 25 0:31 / /media/me/data rw,relatime - btrfs /dev/sdb1 rw\n');
      const drives = new Map((await listDrives({ paths: { ...recorded('usb-multi-reader'), mountinfo, swaps: path.join(dir, 'no-swaps') } })).map((d) => [d.device, d]));
      expect(drives.get('/dev/sda')).toMatchObject({ isSystem: true, systemReasons: ['sda2 is mounted on /'] });
      expect(drives.get('/dev/sdb')!.mountpoints).toEqual(['/media/me/data']);
      expect(codes(drives.get('/dev/sdb'))).toEqual(['DRIVE_MOUNTED']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to list anything when the mount table cannot be read', async () => {
    await expect(listDrives({ paths: { ...recorded('pi-sd-boot'), mountinfo: '/nonexistent/mountinfo' } })).rejects.toMatchObject({ code: 'DRIVE_ENUMERATION_FAILED' });
  });

  it('lists the real machine through drivelist without throwing, and never lists eMMC boot partitions', async () => {
    const drives = await listDrives({ includeLoop: true });
    for (const d of drives) expect(d.name).not.toMatch(/boot\d|rpmb/);
    expect(deviceNumberOf(0x10300)).toBe('259:0');
  });
});
