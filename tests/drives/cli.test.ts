import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { saveSparseImage } from '../../electron/core/image/sparse-image.io.js';
import type { SparseImage } from '../../electron/core/image/sparse-image.js';
import { runBootcard } from '../helpers/cli.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { MiB, readFileRange, rendered, testCardImage } from '../writer/card-image.js';

function recordedEnv(name: string): NodeJS.ProcessEnv {
  const base = path.join(REPO_ROOT, 'tests', 'fixtures', 'drives', name);
  return {
    ...process.env,
    BOOTCARD_SYSFS: path.join(base, 'sys'),
    BOOTCARD_MOUNTINFO: path.join(base, 'mountinfo'),
    BOOTCARD_SWAPS: path.join(base, 'swaps'),
    BOOTCARD_LSBLK_JSON: path.join(base, 'lsblk.json'),
  };
}

describe('bootcard drives', () => {
  it('lists the cards and reader slots, hiding the system disk unless --all', async () => {
    const run = await runBootcard(['drives'], { env: recordedEnv('usb-multi-reader') });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^DEVICE\s+SIZE\s+DESCRIPTION/);
    expect(run.stdout).toMatch(/\/dev\/sdb\s+14\.8 GiB\s+Generic- SD\/MMC \(bootfs\)/);
    expect(run.stdout).toMatch(/\/dev\/sdd .*no card/);
    expect(run.stdout).toMatch(/\/dev\/sdf .*not an SD card/);
    expect(run.stdout).not.toContain('/dev/sda');
    const all = await runBootcard(['drives', '--all'], { env: recordedEnv('usb-multi-reader') });
    expect(all.stdout).toMatch(/\/dev\/sda .*SYSTEM/);
  });

  it('--json gives each drive with its CID fields and problems', async () => {
    const run = await runBootcard(['drives', '--json'], { env: recordedEnv('emmc-boot-partitions') });
    expect(run.code).toBe(0);
    const drives = JSON.parse(run.stdout) as { device: string; sd?: { serial?: string }; problems: { code: string }[] }[];
    expect(drives.map((d) => d.device)).toEqual(['/dev/mmcblk1']);
    expect(drives[0]!.sd?.serial).toBe('0xc0ffee00');
    expect(drives[0]!.problems.map((p) => p.code)).toEqual(['DRIVE_WRITE_PROTECTED']);
  });
});

describe('bootcard flash usage', () => {
  it('needs --to, and refuses --lock without verification', async () => {
    const image = path.join(REPO_ROOT, 'tests', 'fixtures', 'drives', 'pi-sd-boot', 'mountinfo');
    const none = await runBootcard(['flash', image]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--to DEV/);
    const lock = await runBootcard(['flash', image, '--to', '/dev/sdz', '--no-verify', '--lock']);
    expect(lock.code).toBe(2);
    expect(lock.stderr).toMatch(/drop --no-verify/);
    const missing = await runBootcard(['flash', '/nonexistent/card.img', '--to', '/dev/sdz']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Cannot read the image/);
  });
});

describeLoop('bootcard flash', () => {
  let dir: string;
  let image: SparseImage;
  let imageFile: string;
  let loops: LoopDevice[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-flash-'));
    image = testCardImage(2);
    imageFile = path.join(dir, 'card.img');
    await saveSparseImage(image, imageFile);
  });
  afterEach(() => {
    for (const l of loops) l.detach();
    loops = [];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('without --yes and nobody to ask, writes nothing and says to pass --yes', async () => {
    loops = [attachLoop(64 * MiB, dir)];
    const run = await runBootcard(['flash', imageFile, '--to', loops[0]!.device, '--include-loop']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/About to ERASE/);
    expect(run.stderr).toMatch(/--yes/);
    expect(readFileRange(loops[0]!.backingFile, 0, 64 * MiB).every((b) => b === 0)).toBe(true);
  });

  it('refuses a loop device without --include-loop', async () => {
    loops = [attachLoop(64 * MiB, dir)];
    const run = await runBootcard(['flash', imageFile, '--to', loops[0]!.device, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/loop device; pass --include-loop/);
  });

  it('asks, and writes two cards when the answer is yes; nothing when no', async () => {
    loops = [attachLoop(64 * MiB, dir), attachLoop(64 * MiB, dir)];
    const no = await runBootcard(['flash', imageFile, '--to', loops[0]!.device, '--include-loop'], { stdin: 'n\n' });
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/Erase this card\?/);
    const run = await runBootcard(['flash', imageFile, ...loops.flatMap((l) => ['--to', l.device]), '--include-loop', '--json'], { stdin: 'y\n' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Erase these 2 cards\?/);
    expect(run.stderr).toMatch(/verifying\s+100%/);
    const { results } = JSON.parse(run.stdout) as { results: { ok: boolean; verified: boolean }[] };
    expect(results.map((r) => [r.ok, r.verified])).toEqual([[true, true], [true, true]]);
    for (const l of loops) expect(readFileRange(l.backingFile, 0, image.size).equals(rendered(image))).toBe(true);
  });

  it('--lock reports, per card, that a loop device cannot be locked', async () => {
    loops = [attachLoop(64 * MiB, dir)];
    const run = await runBootcard(['flash', imageFile, '--to', loops[0]!.device, '--include-loop', '--yes', '--lock']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/written and verified .*NOT locked: /);
    expect(run.stderr).toMatch(/1 of 1 target failed/);
  });
});
