/** The named boot orders mean one thing on both surfaces: card recovery --preset and its help. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BOOT_PRESET_NAMES, bootPresetHex, bootPresetWords } from '../../electron/core/card/boot-presets.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';

describeShared('boot presets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-presets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("sd, usb and network are Imager's cards: their BOOT_ORDER is the one in Imager's boot-conf files, on both boards", () => {
    for (const board of ['2711', '2712'] as const) {
      for (const name of ['sd', 'usb', 'network'] as const) {
        const imager = readFileSync(eepromFixture(`imager-${board}-boot-conf-${name}.txt`), 'utf8');
        expect(imager, `${board} ${name}`).toContain(`BOOT_ORDER=${bootPresetHex(name, board)}\n`);
      }
    }
    expect(bootPresetHex('network', '2711')).toBe('0xf21');
    expect(bootPresetHex('network-first', '2711')).toBe('0xf12');
  });

  it('card recovery --help lists the four presets, each with its order in words', async () => {
    const help = await runBootcard(['card', 'recovery', '--help']);
    expect(help.code).toBe(0);
    for (const name of BOOT_PRESET_NAMES) expect(help.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(help.stdout).toContain('BOOT_ORDER=0xf21: 1. SD card 2. network (TFTP) 3. restart');
    expect(help.stdout).toContain('BOOT_ORDER=0xf12: 1. network (TFTP) 2. SD card 3. restart');
  });

  it('--preset network-first makes a card whose bootloader tries the network first, and says so in words', async () => {
    const out = path.join(dir, 'netfirst.img');
    const run = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'network-first', '--size', '64M', '--timestamp', '1700000000',
      '--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2711.bin'), '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Preset network-first (bootcard's own): ${bootPresetWords('network-first', '2711')}.`);
    const inspect = await runBootcard(['card', 'inspect', out, '--json']);
    expect(JSON.parse(inspect.stdout).bootloader.config).toBe(readFileSync(eepromFixture('imager-2711-boot-conf-network.txt'), 'utf8').replace('BOOT_ORDER=0xf21', 'BOOT_ORDER=0xf12'));
    const unknown = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'netboot', '--eeprom', 'x', '--recovery', 'y', '--out', out]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('choose sd, usb, network, network-first');
  });
});
