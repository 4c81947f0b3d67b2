/**
 * recovery.bin is checked before a recovery card is composed: a card whose
 * loader the boot ROM cannot run, or that is not a loader, would leave the Pi
 * unable to flash its bootloader.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { composeRecoveryCard, identifyRecoveryLoader } from '../../electron/core/card/recovery-card.js';
import { BootcardError } from '../../electron/core/errors.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';

const dir = mkdtempSync(path.join(tmpdir(), 'bootcard-recovery-bin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TS = 1_790_000_000;
const fixture = (name: string) => new Uint8Array(readFileSync(eepromFixture(name)));

function refusal(fn: () => unknown): BootcardError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BootcardError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describeShared('recovery.bin checks', () => {
  it('tells the two real loaders apart and recognises a pieeprom image', () => {
    expect(identifyRecoveryLoader(fixture('recovery-2711.bin'))).toEqual({ kind: 'loader', board: '2711' });
    expect(identifyRecoveryLoader(fixture('recovery-2712.bin'))).toEqual({ kind: 'loader', board: '2712' });
    expect(identifyRecoveryLoader(fixture('pieeprom-2712-2026-05-26.bin'))).toEqual({ kind: 'pieeprom', board: '2712' });
    expect(identifyRecoveryLoader(fixture('vl805-000138c0.bin'))).toEqual({ kind: 'unknown' });
  });

  it.each([
    ['the Pi 5 loader on a Pi 4 card', '2711', 'pieeprom-2711-2026-05-17.bin', 'recovery-2712.bin', /is the Pi 5 \(2712\) loader, but this card is for a Pi 4 \(2711\).*firmware-2711\/default/],
    ['the Pi 4 loader on a Pi 5 card', '2712', 'pieeprom-2712-2026-05-26.bin', 'recovery-2711.bin', /is the Pi 4 \(2711\) loader, but this card is for a Pi 5 \(2712\).*bootloader-2712\/default\/recovery\.bin/],
    ['a pieeprom image as recovery.bin', '2711', 'pieeprom-2711-2026-05-17.bin', 'pieeprom-2711-2026-05-17.bin', /is a Pi 4 \(2711\) bootloader EEPROM image \(pieeprom\), not the recovery loader: give it as the EEPROM image/],
    ['an unknown file (the VL805 firmware)', '2711', 'pieeprom-2711-2026-05-17.bin', 'vl805-000138c0.bin', /is not a Raspberry Pi EEPROM recovery loader/],
  ] as const)('refuses %s', (_what, board, pieeprom, recovery, message) => {
    const error = refusal(() => composeRecoveryCard({ board, pieeprom: fixture(pieeprom), recovery: fixture(recovery), preset: 'sd', timestamp: TS }));
    expect(error.code).toBe('EEPROM_BAD_RECOVERY_BIN');
    expect(error.message).toMatch(message);
  });

  it('refuses random bytes, and the CLI writes no card', async () => {
    const junk = path.join(dir, 'junk.bin');
    writeFileSync(junk, pseudoRandomBytes(100_000, 7));
    const out = path.join(dir, 'card.img');
    const r = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'sd', '--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', junk, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a Raspberry Pi EEPROM recovery loader .*Use the recovery\.bin from rpi-eeprom's firmware-2711\/default/);
    expect(existsSync(out)).toBe(false);
    const swapped = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'sd', '--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2712.bin'), '--out', out]);
    expect(swapped.code).toBe(1);
    expect(swapped.stderr).toMatch(/Pi 5 \(2712\) loader/);
    expect(existsSync(out)).toBe(false);
  });

  it('a Pi 5 card with the Pi 5 loader carries pieeprom.sig as Imager makes it (rpi-eeprom-digest -c 2712)', () => {
    const card = composeRecoveryCard({ board: '2712', pieeprom: fixture('pieeprom-2712-2026-05-26.bin'), recovery: fixture('recovery-2712.bin'), preset: 'sd', timestamp: TS });
    expect(card.files.map((f) => f.path)).toEqual(['recovery.bin', 'pieeprom.bin', 'pieeprom.sig']);
  });
});
