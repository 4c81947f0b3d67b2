import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildPieeprom, makePieepromSig, parsePieepromSig } from '../../electron/core/eeprom/index.js';
import { describeShared } from '../helpers/shared.js';
import { IMAGES, fixtureBytes } from './helpers.js';

describeShared('pieeprom.sig', () => {
  it('is the sha256 line and the ts line, as rpi-eeprom-digest writes them', () => {
    const image = fixtureBytes(IMAGES.pi4Netboot);
    const hash = createHash('sha256').update(image).digest('hex');
    expect(makePieepromSig(image, 1786493216)).toBe(`${hash}\nts: 1786493216\n`);
    expect(makePieepromSig(image, 1786493216, { targetSoc: '2711' })).toBe(`${hash}\nts: 1786493216\ntarget-soc: 2711\n`);
    expect(parsePieepromSig(makePieepromSig(image, 7, { targetSoc: '2711' }))).toEqual({ sha256: hash, ts: 7, targetSoc: '2711' });
  });

  it('hashes the built image, so the sig matches what goes on the card', () => {
    const built = buildPieeprom({ base: fixtureBytes(IMAGES.pi5), set: { BOOT_ORDER: '0xf21' } });
    const sig = parsePieepromSig(makePieepromSig(built.image, 1));
    expect(sig.sha256).toBe(createHash('sha256').update(built.image).digest('hex'));
  });
});

describe('pieeprom.sig timestamps', () => {
  it('refuses timestamps the bootloader cannot read', () => {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) expect(() => makePieepromSig(new Uint8Array(4), bad)).toThrow(/whole seconds since 1970/);
    expect(() => parsePieepromSig('nothex\nts: 1\n')).toThrow(/SHA-256/);
  });
});
