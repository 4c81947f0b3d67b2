/**
 * The writer re-checks every target itself, right before opening it, and a
 * refused target is never opened: the device-opening function is a spy.
 */
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { listDrives, type TargetKind } from '../../electron/core/drives/enumerate.io.js';
import type { Drive } from '../../electron/core/drives/types.js';
import { runWrite, type Destination } from '../../electron/core/writer/engine.io.js';
import { composeFat32Image } from '../../electron/core/fat32/compose.js';
import { REPO_ROOT } from '../helpers/shared.js';

async function recordedDrives(name: string): Promise<Map<string, Drive>> {
  const base = path.join(REPO_ROOT, 'tests', 'fixtures', 'drives', name);
  const drives = await listDrives({
    paths: { sysfs: path.join(base, 'sys'), mountinfo: path.join(base, 'mountinfo'), swaps: path.join(base, 'swaps'), lsblkJson: path.join(base, 'lsblk.json') },
  });
  return new Map(drives.map((d) => [d.device, d]));
}

const image = composeFat32Image({ files: [{ path: 'a.txt', data: new Uint8Array(100) }], partitionSize: 40 * 1024 * 1024, partitionType: 0x0c });

describe('refused targets are never opened', () => {
  it('system, locked, mounted-and-busy, non-card, empty-slot, partition and vanished targets', async () => {
    const pi = await recordedDrives('pi-sd-boot');
    const emmc = await recordedDrives('emmc-boot-partitions');
    const usb = await recordedDrives('usb-multi-reader');
    const world = new Map<string, TargetKind>([
      ['/dev/mmcblk0', { kind: 'drive', drive: pi.get('/dev/mmcblk0')! }],
      ['/dev/mmcblk1', { kind: 'drive', drive: emmc.get('/dev/mmcblk1')! }],
      ['/dev/sdf', { kind: 'drive', drive: usb.get('/dev/sdf')! }],
      ['/dev/sdd', { kind: 'drive', drive: usb.get('/dev/sdd')! }],
      ['/dev/sda', { kind: 'drive', drive: usb.get('/dev/sda')! }],
      ['/dev/sdb1', { kind: 'partition', device: '/dev/sdb1', disk: '/dev/sdb' }],
      ['/dev/sdz', { kind: 'missing', path: '/dev/sdz' }],
    ]);
    const openDevice = vi.fn((): Destination => {
      throw new Error('must not be called');
    });
    // Nothing of a refused card is unmounted either (the system disk's / least of all).
    const unmount = vi.fn(async () => {
      throw new Error('must not be called');
    });
    const results = await runWrite(
      { image, targets: [...world.keys()], verify: true },
      { deps: { describeTarget: async (t) => world.get(t)!, openDevice, unmount } },
    );
    expect(openDevice).not.toHaveBeenCalled();
    expect(unmount).not.toHaveBeenCalled();
    expect(results.map((r) => [r.target, r.ok, r.bytesWritten, r.error?.code])).toEqual([
      ['/dev/mmcblk0', false, 0, 'DRIVE_SYSTEM'],
      ['/dev/mmcblk1', false, 0, 'DRIVE_WRITE_PROTECTED'],
      ['/dev/sdf', false, 0, 'DRIVE_NOT_CARD'],
      ['/dev/sdd', false, 0, 'DRIVE_NO_MEDIA'],
      ['/dev/sda', false, 0, 'DRIVE_SYSTEM'],
      ['/dev/sdb1', false, 0, 'DRIVE_IS_PARTITION'],
      ['/dev/sdz', false, 0, 'DRIVE_VANISHED'],
    ]);
    expect(results[5]!.error!.message).toContain('/dev/sdb');
  });

  it('a target that changes between the first check and the open is checked again and refused', async () => {
    const usb = await recordedDrives('usb-multi-reader');
    const card = usb.get('/dev/sdb')!;
    let calls = 0;
    // First look: a free card. Second look (right before opening): someone mounted it on / .
    const describeTarget = async (): Promise<TargetKind> =>
      ++calls === 1 ? { kind: 'drive', drive: card } : { kind: 'drive', drive: { ...card, isSystem: true, systemReasons: ['sdb1 is mounted on /'], mountpoints: ['/'] } };
    const openDevice = vi.fn((): Destination => {
      throw new Error('must not be called');
    });
    const unmount = vi.fn(async () => undefined);
    const [result] = await runWrite({ image, targets: ['/dev/sdb'], verify: false }, { deps: { describeTarget, openDevice, unmount } });
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(openDevice).not.toHaveBeenCalled();
    expect(unmount).not.toHaveBeenCalled();
    expect(result!.error).toMatchObject({ code: 'DRIVE_SYSTEM' });
  });
});
