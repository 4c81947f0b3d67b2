import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { composeRecoveryCard, RECOVERY_PRESET_CONFIGS, RECOVERY_PRESETS } from '../../electron/core/card/recovery-card.js';
import { DEFAULT_PARTITION_OFFSET } from '../../electron/core/fat32/compose.js';
import { readBootConf } from '../../electron/core/eeprom/image.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { runBootcard } from '../helpers/cli.js';
import { fsckFat, mcopyAll, saveImage, savePartition, sfdiskDump } from './fat-tools.js';

const MIB = 1024 * 1024;
const TS = 1760000000;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-recovery-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (name: string) => path.join(dir, `${n++}-${name}`);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describeShared('EEPROM recovery card', () => {
  it("embeds Raspberry Pi Imager's three configs for both boards byte for byte", () => {
    for (const board of ['2711', '2712'] as const) {
      // Imager's three; network-first is bootcard's own (Imager's network card with the network tried first).
      for (const preset of RECOVERY_PRESETS.filter((p) => p !== 'network-first')) {
        expect(RECOVERY_PRESET_CONFIGS[board][preset], `${board} ${preset}`).toBe(readFileSync(eepromFixture(`imager-${board}-boot-conf-${preset}.txt`), 'utf8'));
      }
    }
  });

  it('makes a Pi 4 card with recovery.bin, pieeprom.bin/.sig and vl805.bin/.sig that fsck.fat and mtools accept', async () => {
    const pieeprom = readFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin'));
    const recovery = readFileSync(eepromFixture('recovery-2711.bin'));
    const vl805 = readFileSync(eepromFixture('vl805-000138c0.bin'));
    const card = composeRecoveryCard({ board: '2711', pieeprom, recovery, vl805, preset: 'network', timestamp: TS });
    const imageFile = tmp('recovery.img');
    await saveImage(card, imageFile);
    expect(sfdiskDump(imageFile)).toMatch(/start=\s*8192, size=\s*524288, type=c\b/);
    const part = tmp('part.img');
    savePartition(card, DEFAULT_PARTITION_OFFSET, 256 * MIB, part);
    const fsck = fsckFat(part);
    expect(fsck.findings, fsck.output).toEqual([]);
    const files = mcopyAll(imageFile, DEFAULT_PARTITION_OFFSET, tmp('out'));
    expect([...files.keys()].sort()).toEqual(['pieeprom.bin', 'pieeprom.sig', 'recovery.bin', 'vl805.bin', 'vl805.sig']);
    expect(Buffer.compare(files.get('recovery.bin')!, recovery)).toBe(0);
    expect(Buffer.compare(files.get('vl805.bin')!, vl805)).toBe(0);
    const onCard = files.get('pieeprom.bin')!;
    expect(onCard.length).toBe(pieeprom.length);
    expect(readBootConf(onCard)).toBe(readFileSync(eepromFixture('imager-2711-boot-conf-network.txt'), 'utf8'));
    // As Imager's recovery images: rpi-eeprom-digest -c 2711 for pieeprom.sig, a bare sha256sum for vl805.sig.
    expect(files.get('pieeprom.sig')!.toString()).toBe(`${sha(onCard)}\nts: ${TS}\ntarget-soc: 2711\n`);
    expect(files.get('vl805.sig')!.toString()).toBe(`${sha(vl805)}\n`);
  });

  it('makes a Pi 5 card from --firmware-dir with --set on top of the usb preset, and inspect explains it', async () => {
    const fw = tmp('bootloader-2712');
    mkdirSync(fw);
    copyFileSync(eepromFixture('pieeprom-2712-2026-05-26.bin'), path.join(fw, 'pieeprom-2026-05-26.bin'));
    copyFileSync(eepromFixture('recovery-2712.bin'), path.join(fw, 'recovery.bin'));
    const out = tmp('pi5.img');
    const run = await runBootcard(['card', 'recovery', '--board', '2712', '--preset', 'usb', '--set', 'BOOT_UART=0', '--firmware-dir', fw, '--out', out, '--timestamp', String(TS), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.files.map((f: { path: string }) => f.path)).toEqual(['recovery.bin', 'pieeprom.bin', 'pieeprom.sig']);
    expect(result.config).toContain('BOOT_ORDER=0xf146');
    expect(result.config).toContain('BOOT_UART=0');
    const inspect = await runBootcard(['card', 'inspect', out]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain('This is an EEPROM recovery card');
    expect(inspect.stdout).toContain('type 0x0c (FAT32 (LBA))');
    expect(inspect.stdout).toMatch(/BOOT_ORDER=0xf146.*boot order: 1\. NVMe SSD 2\. USB mass storage 3\. SD card/);
    const json = JSON.parse((await runBootcard(['card', 'inspect', out, '--json'])).stdout);
    expect(json.bootloader.board).toBe('2712');
    expect(json.tree.map((f: { name: string }) => f.name).sort()).toEqual(['pieeprom.bin', 'pieeprom.sig', 'recovery.bin']);
  });

  it('--firmware-dir takes the newest pieeprom and vl805 for a Pi 4; explicit files override', async () => {
    const fw = tmp('bootloader-2711');
    mkdirSync(fw);
    copyFileSync(eepromFixture('pieeprom-2711-2020-07-16.bin'), path.join(fw, 'pieeprom-2020-07-16.bin'));
    copyFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin'), path.join(fw, 'pieeprom-2026-05-17.bin'));
    copyFileSync(eepromFixture('recovery-2711.bin'), path.join(fw, 'recovery.bin'));
    copyFileSync(eepromFixture('vl805-000138c0.bin'), path.join(fw, 'vl805-000138c0.bin'));
    copyFileSync(eepromFixture('vl805-000138c0.bin'), path.join(fw, 'vl805-00013701.bin'));
    const run = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'sd', '--firmware-dir', fw, '--out', tmp('pi4.img'), '--timestamp', String(TS), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const sources = JSON.parse(run.stdout).sources;
    expect(path.basename(sources.pieeprom)).toBe('pieeprom-2026-05-17.bin');
    expect(path.basename(sources.vl805)).toBe('vl805-000138c0.bin');
    const override = await runBootcard([
      'card', 'recovery', '--board', '2711', '--preset', 'sd', '--firmware-dir', fw,
      '--eeprom', path.join(fw, 'pieeprom-2020-07-16.bin'), '--out', tmp('pi4-old.img'), '--timestamp', String(TS), '--json',
    ]);
    expect(override.code, override.stderr).toBe(0);
    expect(path.basename(JSON.parse(override.stdout).sources.pieeprom)).toBe('pieeprom-2020-07-16.bin');
  });

  it('uses a --config file and gives the same image twice', async () => {
    const args = (out: string) => [
      'card', 'recovery', '--board', '2711', '--config', eepromFixture('bootconf-netboot.txt'),
      '--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2711.bin'),
      '--out', out, '--timestamp', String(TS),
    ];
    const a = tmp('a.img');
    const b = tmp('b.img');
    expect((await runBootcard(args(a))).code).toBe(0);
    expect((await runBootcard(args(b))).code).toBe(0);
    expect(Buffer.compare(readFileSync(a), readFileSync(b))).toBe(0);
  });

  it('refuses a wrong board, a partition of 32 GB, --size whole without a card, and writes nothing', async () => {
    const common = ['--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2711.bin'), '--preset', 'sd'];
    const out = tmp('refused.img');
    const wrongBoard = await runBootcard(['card', 'recovery', '--board', '2712', ...common, '--out', out]);
    expect(wrongBoard.code).toBe(1);
    expect(wrongBoard.stderr).toMatch(/image is for a Pi 4 \(2711\) but --board is 2712/);
    const huge = await runBootcard(['card', 'recovery', '--board', '2711', ...common, '--out', out, '--size', '32G']);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/under 32 GB/);
    const whole = await runBootcard(['card', 'recovery', '--board', '2711', ...common, '--out', out, '--size', 'whole']);
    expect(whole.code).toBe(2);
    expect(whole.stderr).toMatch(/--size whole fills a card, so it needs --to DEVICE/);
    const noConfig = await runBootcard(['card', 'recovery', '--board', '2711', '--eeprom', 'x', '--recovery', 'y', '--out', out]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toMatch(/--preset sd\|usb\|network\|network-first or --config FILE/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a config that is not UTF-8 text, and a recovery.bin or pieeprom that is the wrong file, before reading it', async () => {
    const eeprom = eepromFixture('pieeprom-2711-2026-05-17.bin');
    const recovery = eepromFixture('recovery-2711.bin');
    const out = tmp('wrong-file.img');
    const latin1 = tmp('latin1.conf');
    writeFileSync(latin1, Buffer.from('[all]\n# caf\xe9\nBOOT_ORDER=0xf21\n', 'latin1'));
    const notText = await runBootcard(['card', 'recovery', '--board', '2711', '--config', latin1, '--eeprom', eeprom, '--recovery', recovery, '--out', out]);
    expect(notText.code).toBe(1);
    expect(notText.stderr).toMatch(/is not UTF-8 text/);
    // A 3 GiB sparse file (an OS image given by mistake): refused by its size, never read.
    const osImage = tmp('os.img');
    writeFileSync(osImage, '');
    truncateSync(osImage, 3 * 1024 * MIB);
    const bigRecovery = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'sd', '--eeprom', eeprom, '--recovery', osImage, '--out', out]);
    expect(bigRecovery.code).toBe(1);
    expect(bigRecovery.stderr).toMatch(/The recovery\.bin .* is 3\.0 GiB, far larger than a recovery\.bin can be: check the path/);
    const bigEeprom = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'sd', '--eeprom', osImage, '--recovery', recovery, '--out', out]);
    expect(bigEeprom.code).toBe(1);
    expect(bigEeprom.stderr).toMatch(/Not a bootloader EEPROM image: it is 3221225472 bytes/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a bootloader config with errors, listing them', async () => {
    const bad = tmp('bad.conf');
    writeFileSync(bad, '[all]\nBOOT_ORDER=0xzz\n');
    const run = await runBootcard([
      'card', 'recovery', '--board', '2711', '--config', bad,
      '--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2711.bin'), '--out', tmp('bad.img'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/BOOT_ORDER/);
  });
});

describeShared('finding the recovery card files (CLI and wizard share this)', () => {
  it('picks the newest image, recovery.bin and vl805 for the board from a folder of board-named files', async () => {
    const { resolveRecoveryFiles } = await import('../../electron/core/card/recovery-files.io.js');
    const dir = path.dirname(eepromFixture('recovery-2711.bin'));
    const pi4 = await resolveRecoveryFiles('2711', { firmwareDir: dir });
    // 2026-05-17 beats 2020-07-16; the "+bootconf-netboot" build is not a release and is never picked.
    expect(path.basename(pi4.pieeprom)).toBe('pieeprom-2711-2026-05-17.bin');
    expect(path.basename(pi4.recovery)).toBe('recovery-2711.bin');
    expect(path.basename(pi4.vl805 ?? '')).toBe('vl805-000138c0.bin');
    const pi5 = await resolveRecoveryFiles('2712', { firmwareDir: dir });
    expect(path.basename(pi5.pieeprom)).toBe('pieeprom-2712-2026-05-26.bin');
    expect(path.basename(pi5.recovery)).toBe('recovery-2712.bin');
    expect(pi5.vl805).toBeUndefined();
  });

  it('descends into an rpi-eeprom checkout\'s firmware-<board>/default folder', async () => {
    const { resolveRecoveryFiles } = await import('../../electron/core/card/recovery-files.io.js');
    const root = mkdtempSync(path.join(os.tmpdir(), 'bootcard-rpi-eeprom-'));
    try {
      const dflt = path.join(root, 'firmware-2711', 'default');
      mkdirSync(dflt, { recursive: true });
      copyFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin'), path.join(dflt, 'pieeprom-2026-05-17.bin'));
      copyFileSync(eepromFixture('pieeprom-2711-2020-07-16.bin'), path.join(dflt, 'pieeprom-2020-07-16.bin'));
      copyFileSync(eepromFixture('recovery-2711.bin'), path.join(dflt, 'recovery.bin'));
      const found = await resolveRecoveryFiles('2711', { firmwareDir: root });
      expect(found.pieeprom).toBe(path.join(dflt, 'pieeprom-2026-05-17.bin'));
      expect(found.recovery).toBe(path.join(dflt, 'recovery.bin'));
      await expect(resolveRecoveryFiles('2712', { firmwareDir: root })).rejects.toMatchObject({ code: 'CARD_FIRMWARE_DIR_INCOMPLETE' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
