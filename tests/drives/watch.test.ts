import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, symlinkSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchDrives, type DriveEvent } from '../../electron/core/drives/enumerate.io.js';
import { REPO_ROOT } from '../helpers/shared.js';

describe('hot-plug watch', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function until(events: DriveEvent[], predicate: (e: DriveEvent) => boolean): Promise<DriveEvent> {
    // Up to 15 s: the watcher polls every 20 ms, but a CI machine running every test file at once can be slow.
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const found = events.find(predicate);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no such event in ${JSON.stringify(events.map((e) => e.type))}`);
  }

  it('reports a card put into a reader slot, a new reader, and a reader unplugged', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-watch-'));
    cpSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'drives', 'usb-multi-reader'), dir, { recursive: true, verbatimSymlinks: true });
    const sys = path.join(dir, 'sys');
    const paths = { sysfs: sys, mountinfo: path.join(dir, 'mountinfo'), swaps: path.join(dir, 'swaps'), lsblkJson: path.join(dir, 'lsblk.json') };
    const events: DriveEvent[] = [];
    const stop = watchDrives((e) => events.push(e), { paths, intervalMs: 20 });
    try {
      await until(events, (e) => e.type === 'attach' && e.drive.device === '/dev/sdb');
      events.length = 0;

      // A microSD card goes into the reader's empty "Micro SD/M2" slot: its size changes from 0.
      writeFileSync(path.join(sys, 'class', 'block', 'sdd', 'size'), '62333952\n');
      const inserted = await until(events, (e) => e.type === 'change');
      expect(inserted).toMatchObject({ type: 'change', drive: { device: '/dev/sdd', size: 62333952 * 512, isCard: true } });

      // A second reader is plugged in.
      const devpath = 'devices/pci0000:00/0000:00:14.0/usb2/2-3/2-3:1.0/host8/target8:0:0/8:0:0:0';
      mkdirSync(path.join(sys, devpath, 'block', 'sdg'), { recursive: true });
      writeFileSync(path.join(sys, devpath, 'vendor'), 'Generic \n');
      writeFileSync(path.join(sys, devpath, 'model'), 'STORAGE DEVICE  \n');
      for (const [f, v] of [['dev', '8:96'], ['size', '31116288'], ['ro', '0'], ['removable', '1']]) writeFileSync(path.join(sys, devpath, 'block', 'sdg', f!), `${v}\n`);
      symlinkSync('../..', path.join(sys, devpath, 'block', 'sdg', 'device'));
      symlinkSync(`../../${devpath}/block/sdg`, path.join(sys, 'class', 'block', 'sdg'));
      symlinkSync(`../${devpath}/block/sdg`, path.join(sys, 'block', 'sdg'));
      const lsblk = JSON.parse(readFileSync(paths.lsblkJson, 'utf8')) as { blockdevices: object[] };
      lsblk.blockdevices.push({ name: '/dev/sdg', kname: '/dev/sdg', size: 31116288 * 512, ro: false, rm: true, hotplug: true, tran: 'usb', vendor: 'Generic', model: 'STORAGE DEVICE', subsystems: 'block:scsi:usb:pci' });
      writeFileSync(paths.lsblkJson, JSON.stringify(lsblk));
      const attached = await until(events, (e) => e.type === 'attach');
      expect(attached).toMatchObject({ drive: { device: '/dev/sdg', bus: 'usb', isCard: true } });

      // The first reader (four slots) is unplugged.
      for (const name of ['sdb', 'sdc', 'sdd', 'sde']) {
        unlinkSync(path.join(sys, 'block', name));
        unlinkSync(path.join(sys, 'class', 'block', name));
      }
      await until(events, (e) => e.type === 'detach' && e.device === '/dev/sde');
      expect(events.filter((e) => e.type === 'detach').map((e) => (e.type === 'detach' ? e.device : '')).sort()).toEqual(['/dev/sdb', '/dev/sdc', '/dev/sdd', '/dev/sde']);
    } finally {
      stop();
    }
  });
});
