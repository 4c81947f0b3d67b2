/**
 * `bootcard uefi vars list|set|delete` through the real CLI: on firmware files, on a card image made
 * with the Debian tools (sfdisk, mkfs.fat, mtools), and on a real block device (loop).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';
import { attachLoop, describeLoop } from '../helpers/loop.js';
import { describeShared } from '../helpers/shared.js';
import { RPI_FIXTURES, diffRuns, pythonParse, u16, u32 } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bootcard-uefi-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copyFixture(index: number, name: string): string {
  const file = path.join(dir, name);
  copyFileSync(RPI_FIXTURES[index]!.path, file);
  chmodSync(file, 0o644);
  return file;
}

/** A card image: MBR with one FAT32 partition at 1 MiB holding RPI_EFI.fd (made with sfdisk, mkfs.fat, mcopy). */
function makeCardImage(fdFile: string, name: string): string {
  const part = path.join(dir, `${name}.part`);
  const image = path.join(dir, name);
  writeFileSync(part, '');
  execFileSync('truncate', ['-s', '64M', part]);
  execFileSync('mkfs.fat', ['-F', '32', '-s', '1', '-S', '512', part], { stdio: 'ignore' });
  execFileSync('mcopy', ['-i', part, fdFile, '::RPI_EFI.fd']);
  execFileSync('truncate', ['-s', `${65 * 1024 * 1024}`, image]);
  execFileSync('sfdisk', ['--quiet', image], { input: 'label: dos\nstart=2048, type=c\n' });
  execFileSync('dd', [`if=${part}`, `of=${image}`, 'bs=1M', 'seek=1', 'conv=notrunc'], { stdio: 'ignore' });
  rmSync(part);
  return image;
}

describeShared('bootcard uefi vars (CLI)', () => {
  it('set writes the settings in place; list --json reads them back; an independent parser agrees', async () => {
    const file = copyFixture(1, 'set.fd');
    const set = await runBootcard(['uefi', 'vars', 'set', file, '--ram-limit', 'off', '--system-table', 'dt', '--boot-timeout', '1', '--http-boot-first', 'http://10.0.0.5/boot.efi']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toContain('v1.38 to v1.41');
    expect(set.stdout).toContain('RamLimitTo3GB');
    const list = await runBootcard(['uefi', 'vars', 'list', file, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const json = JSON.parse(list.stdout) as { layout: string; settings: Record<string, unknown>; variables: { name: string; live: boolean }[] };
    expect(json.layout).toBe('pftf-rpi4-v1.39');
    expect(json.settings).toEqual({ ramLimit3GB: false, systemTable: 'dt', bootTimeoutSeconds: 1, httpBootFirstUrl: 'http://10.0.0.5/boot.efi', bootOrder: ['Boot0000'] });
    const py = pythonParse(new Uint8Array(readFileSync(file)));
    expect(py.variables.filter((v) => v.live).map((v) => v.name)).toEqual(['RamLimitTo3GB', 'SystemTableMode', 'Timeout', 'Boot0000', 'BootOrder']);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('--output leaves the input alone; delete removes a setting', async () => {
    const file = copyFixture(0, 'in.fd');
    const out = path.join(dir, 'out.fd');
    const original = readFileSync(file);
    expect((await runBootcard(['uefi', 'vars', 'set', file, '-o', out, '--ram-limit', 'off'])).code).toBe(0);
    expect(readFileSync(file).equals(original)).toBe(true);
    const del = await runBootcard(['uefi', 'vars', 'delete', out, 'RamLimitTo3GB']);
    expect(del.code, del.stderr).toBe(0);
    expect(pythonParse(new Uint8Array(readFileSync(out))).variables.map((v) => [v.name, v.live])).toEqual([['RamLimitTo3GB', false]]);
  });

  it('usage errors exit 2 and failures exit 1, changing nothing', async () => {
    const file = copyFixture(0, 'bad.fd');
    const original = readFileSync(file);
    expect((await runBootcard(['uefi', 'vars', 'set', file, '--boot-timeout', 'soon'])).code).toBe(2);
    expect((await runBootcard(['uefi', 'vars', 'set', file, '--system-table', 'fdt'])).code).toBe(2);
    expect((await runBootcard(['uefi', 'vars', 'set', file, '--fan-temp', '99'])).code).toBe(2);
    expect((await runBootcard(['uefi', 'vars', 'set', file])).code).toBe(2);
    expect(readFileSync(file).equals(original)).toBe(true);

    // A damaged FV header: exit 1, a message saying what to do, the file untouched.
    const damaged = Buffer.from(original);
    damaged[0x1d0000 + 0x32] = damaged[0x1d0000 + 0x32]! ^ 0xff;
    writeFileSync(file, damaged);
    const r = await runBootcard(['uefi', 'vars', 'set', file, '--ram-limit', 'off']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/firmware-volume header .* damaged/);
    expect(readFileSync(file).equals(damaged)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);

    const missing = await runBootcard(['uefi', 'vars', 'list', path.join(dir, 'nope.fd')]);
    expect(missing.code).toBe(1);
  });

  it('lists the RPI_EFI.fd inside a card image, and refuses to set on one', async () => {
    const fdFile = copyFixture(1, 'for-image.fd');
    expect((await runBootcard(['uefi', 'vars', 'set', fdFile, '--ram-limit', 'off', '--boot-timeout', '2'])).code).toBe(0);
    const image = makeCardImage(fdFile, 'card.img');
    const list = await runBootcard(['uefi', 'vars', 'list', image, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const json = JSON.parse(list.stdout) as { source: string; variables: { name: string; data: string }[] };
    expect(json.source).toBe('card');
    expect(json.variables.map((v) => [v.name, v.data])).toEqual([
      ['RamLimitTo3GB', u32(0)],
      ['Timeout', u16(2)],
    ]);
    const before = readFileSync(image);
    const set = await runBootcard(['uefi', 'vars', 'set', image, '--ram-limit', 'on']);
    expect(set.code).toBe(2);
    expect(set.stderr).toContain('bootcard card uefi');
    expect(diffRuns(new Uint8Array(before), new Uint8Array(readFileSync(image)))).toEqual([]);
  });
});

describeLoop('bootcard uefi vars list on a card (loop device)', () => {
  it('reads RPI_EFI.fd from the block device', async () => {
    const fdFile = copyFixture(0, 'for-loop.fd');
    expect((await runBootcard(['uefi', 'vars', 'set', fdFile, '--system-table', 'both'])).code).toBe(0);
    const image = readFileSync(makeCardImage(fdFile, 'loop-card.img'));
    const loop = attachLoop(image.length, dir);
    try {
      writeFileSync(loop.backingFile, image);
      const list = await runBootcard(['uefi', 'vars', 'list', loop.device]);
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain('RPI_EFI.fd on the card');
      expect(list.stdout).toMatch(/SystemTableMode\s+1 \(ACPI \+ device tree\)/);
    } finally {
      loop.detach();
    }
  });
});
