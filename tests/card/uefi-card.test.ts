import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { composeUefiCard } from '../../electron/core/card/uefi-card.js';
import { readFirmwareFolder, readFirmwareZip } from '../../electron/core/card/firmware-zip.io.js';
import { CardErrorCode } from '../../electron/core/card/errors.js';
import { configTxtPreset } from '../../electron/core/configtxt/config-txt.js';
import { BootcardError } from '../../electron/core/errors.js';
import { DEFAULT_PARTITION_OFFSET } from '../../electron/core/fat32/compose.js';
import { dataBytes } from '../../electron/core/image/sparse-image.js';
import { describeShared, uefiFixture } from '../helpers/shared.js';
import { runBootcard } from '../helpers/cli.js';
import { fsckFat, mcopyAll, saveImage, savePartition, sfdiskDump } from './fat-tools.js';
import { makeZip, pftfEntries, PFTF_CONFIG_TXT, type ZipEntrySpec } from './firmware-zip.js';

const MIB = 1024 * 1024;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-uefi-card-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (name: string) => path.join(dir, `${n++}-${name}`);

describeShared('UEFI firmware card', () => {
  const entries = pftfEntries(path.join(dir, 'src'));
  const zip = makeZip(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), entries);
  const fd = readFileSync(uefiFixture('rpi-efi-v1.34-layout.fd'));

  it('puts every firmware file on an 0xEF partition that fsck.fat and mtools accept, with config.txt edited', async () => {
    const firmware = await readFirmwareZip(zip, { partitionSize: 256 * MIB });
    const marker = new TextEncoder().encode('NVRAM settings written');
    const card = composeUefiCard({
      firmware,
      configTxt: [...configTxtPreset('hdmi-1080p'), { kind: 'dtoverlay', value: 'disable-wifi' }],
      transformRpiEfiFd: (bytes) => {
        const out = bytes.slice();
        out.set(marker, 0x1000);
        return out;
      },
    });
    const imageFile = tmp('uefi.img');
    await saveImage(card, imageFile);
    expect(sfdiskDump(imageFile)).toMatch(/start=\s*8192, size=\s*524288, type=ef/);
    const part = tmp('part.img');
    savePartition(card, DEFAULT_PARTITION_OFFSET, 256 * MIB, part);
    const fsck = fsckFat(part);
    expect(fsck.findings, fsck.output).toEqual([]);

    const copied = mcopyAll(imageFile, DEFAULT_PARTITION_OFFSET, tmp('out'));
    const expectedPaths = entries.filter((e) => !e.directory).map((e) => e.name).sort();
    expect([...copied.keys()].sort()).toEqual(expectedPaths);
    for (const e of entries) {
      if (e.directory || e.name === 'config.txt' || e.name === 'RPI_EFI.fd') continue;
      const expected = e.src ? readFileSync(e.src) : Buffer.from(e.text ?? '');
      expect(Buffer.compare(copied.get(e.name)!, expected), e.name).toBe(0);
    }
    const config = copied.get('config.txt')!.toString();
    expect(config).toBe(`${PFTF_CONFIG_TXT.replace('dtoverlay=upstream-pi4\n', 'dtoverlay=upstream-pi4\ndtoverlay=disable-wifi\n')}hdmi_force_hotplug=1\nhdmi_group=2\nhdmi_mode=82\n`);
    const efi = copied.get('RPI_EFI.fd')!;
    expect(efi.length).toBe(fd.length);
    expect(efi.subarray(0x1000, 0x1000 + marker.length).toString()).toBe('NVRAM settings written');
    expect(Buffer.compare(efi.subarray(0x2000), fd.subarray(0x2000))).toBe(0);
  });

  it('carries at most 16 MiB of data for a 256 MiB card, and the same bytes every time', async () => {
    const compose = async () => composeUefiCard({ firmware: await readFirmwareZip(zip, { partitionSize: 256 * MIB }) });
    const a = await compose();
    const b = await compose();
    expect(dataBytes(a)).toBeLessThanOrEqual(16 * MIB);
    expect(a.ranges.length).toBe(b.ranges.length);
    a.ranges.forEach((r, i) => expect(Buffer.compare(Buffer.from(r.data), Buffer.from(b.ranges[i]!.data))).toBe(0));
  });

  it('writes the UEFI settings options into RPI_EFI.fd on the card, where bootcard uefi vars list finds them', async () => {
    const out = tmp('settings.img');
    const run = await runBootcard(['card', 'uefi', '--firmware', zip, '--out', out, '--boot-timeout', '3', '--ram-limit', 'off', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).uefiSettings).toMatchObject({ bootTimeoutSeconds: 3, ramLimit3GB: false });
    const list = await runBootcard(['uefi', 'vars', 'list', out]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/Timeout/);
    expect(list.stdout).toMatch(/RamLimitTo3GB/);
  });

  it('keeps a config.txt that is not UTF-8 byte for byte, and refuses to edit it rather than change its other bytes', async () => {
    const firmware = await readFirmwareZip(zip, { partitionSize: 256 * MIB });
    const latin1 = Buffer.from('# r\xe9glages\narm_64bit=1\narmstub=RPI_EFI.fd\n', 'latin1');
    const custom = firmware.map((f) => (f.path === 'config.txt' ? { ...f, data: new Uint8Array(latin1) } : f));
    const imageFile = tmp('latin1.img');
    await saveImage(composeUefiCard({ firmware: custom }), imageFile);
    expect(Buffer.compare(mcopyAll(imageFile, DEFAULT_PARTITION_OFFSET, tmp('latin1-out')).get('config.txt')!, latin1)).toBe(0);
    expect(() => composeUefiCard({ firmware: custom, configTxt: configTxtPreset('hdmi-hotplug') })).toThrow(
      expect.objectContaining({ code: CardErrorCode.CONFIG_TXT_NOT_TEXT, message: expect.stringMatching(/not UTF-8 text/) }),
    );
  });

  it('reads an unpacked firmware folder the same as the zip', async () => {
    const folder = tmp('unpacked');
    const { execFileSync } = await import('node:child_process');
    execFileSync('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', zip, folder]);
    const fromFolder = await readFirmwareFolder(folder, { partitionSize: 256 * MIB });
    const fromZip = await readFirmwareZip(zip, { partitionSize: 256 * MIB });
    expect(fromFolder.map((f) => f.path).sort()).toEqual(fromZip.map((f) => f.path).sort());
  });

  const bad: [string, ZipEntrySpec[], string, RegExp][] = [
    ['a ../ entry', [{ name: '../evil.txt', text: 'x' }], CardErrorCode.UNSAFE_PATH, /points outside the archive/],
    ['an absolute path', [{ name: '/etc/evil.txt', text: 'x' }], CardErrorCode.UNSAFE_PATH, /absolute path/],
    ['a symbolic link', [{ name: 'overlays/link.dtbo', symlink: '/etc/passwd' }], CardErrorCode.LINK_IN_ARCHIVE, /symbolic link/],
  ];
  it.each(bad)('refuses a zip with %s, and the CLI writes nothing', async (_what, extra, code, message) => {
    const badZip = makeZip(tmp('bad.zip'), [...entries, ...extra]);
    await expect(readFirmwareZip(badZip, { partitionSize: 256 * MIB })).rejects.toSatisfy((e: unknown) => BootcardError.is(e, code) && message.test((e as Error).message));
    const out = tmp('bad-out.img');
    const run = await runBootcard(['card', 'uefi', '--firmware', badZip, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(path.dirname(out)).filter((f) => f.includes('bad-out'))).toEqual([]);
  });

  it('refuses a zip without RPI_EFI.fd, naming what is missing, before extracting it', async () => {
    const noFd = makeZip(tmp('no-fd.zip'), entries.filter((e) => e.name !== 'RPI_EFI.fd'));
    await expect(readFirmwareZip(noFd, { partitionSize: 256 * MIB })).rejects.toSatisfy((e: unknown) => BootcardError.is(e, CardErrorCode.NOT_PFTF_FIRMWARE));
    const out = tmp('no-fd.img');
    const run = await runBootcard(['card', 'uefi', '--firmware', noFd, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not the Raspberry Pi 4 UEFI firmware: RPI_EFI\.fd is missing/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a zip whose unpacked size exceeds the partition before extracting it', async () => {
    const big = tmp('zeros.bin');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(big, Buffer.alloc(48 * MIB));
    const bomb = makeZip(tmp('big.zip'), [...entries, { name: 'padding.bin', src: big }]);
    const out = tmp('big.img');
    const run = await runBootcard(['card', 'uefi', '--firmware', bomb, '--out', out, '--size', '40M']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unpacks to .* more than the 40\.0 MiB partition holds: choose a larger --size/);
    expect(existsSync(out)).toBe(false);
  });
});
