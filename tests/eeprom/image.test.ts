import { describe, expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import {
  EepromErrorCode,
  buildPieeprom,
  bootConfCapacity,
  getEepromFile,
  parseEepromImage,
  readBootConf,
  readBootConfBytes,
  readUpdateTimestamp,
  replaceEepromFile,
} from '../../electron/core/eeprom/index.js';
import { describeShared } from '../helpers/shared.js';
import { ALL_IMAGES, IMAGES, configOfSize, fixtureBytes, fixtureText, sameBytes } from './helpers.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof BootcardError) return error.code;
    throw error;
  }
  throw new Error('expected a BootcardError');
}

describeShared('pieeprom image format against the real rpi-eeprom images', () => {
  it.each(ALL_IMAGES)('%s: building with its own config reproduces it byte for byte', (name) => {
    const base = fixtureBytes(name);
    const built = buildPieeprom({ base, config: readBootConf(base) });
    expect(built.image.length).toBe(base.length);
    expect(sameBytes(built.image, base)).toBe(true);
    // Without --config the base's own config is used: the same image.
    expect(sameBytes(buildPieeprom({ base }).image, base)).toBe(true);
  });

  it('reproduces rpi-eeprom-config\'s netboot image from its base and bootconf-netboot.txt', () => {
    const built = buildPieeprom({ base: fixtureBytes(IMAGES.pi4), config: fixtureText('bootconf-netboot.txt') });
    expect(sameBytes(built.image, fixtureBytes(IMAGES.pi4Netboot))).toBe(true);
    expect(built.board).toBe('2711');
    expect(built.diagnostics).toEqual([]);
  });

  it('reads the configs the fixture README documents', () => {
    expect(readBootConf(fixtureBytes(IMAGES.pi4))).toBe('[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\nNET_INSTALL_AT_POWER_ON=1\n');
    expect(readBootConf(fixtureBytes(IMAGES.pi5))).toBe('[all]\nBOOT_UART=1\nBOOT_ORDER=0xf461\nNET_INSTALL_AT_POWER_ON=1\n');
    expect(Buffer.from(readBootConfBytes(fixtureBytes(IMAGES.pi4Netboot))).toString('utf8')).toBe(fixtureText('bootconf-netboot.txt'));
  });

  it('detects the board and lists the modifiable files of each layout', () => {
    const old = parseEepromImage(fixtureBytes(IMAGES.pi4Old));
    expect(old.board).toBe('2711');
    expect(old.files.map((f) => f.name)).toEqual(['bootconf.txt']);
    expect(old.files[0]!.offset).toBe(0x50000);

    const pi4 = parseEepromImage(fixtureBytes(IMAGES.pi4));
    expect(pi4.files.map((f) => f.name)).toEqual(['updatetime', 'pubkey.bin', 'cacert.der', 'bootconf.sig', 'bootconf.txt']);
    expect(bootConfCapacity(pi4)).toBe(4076);

    const pi5 = parseEepromImage(fixtureBytes(IMAGES.pi5));
    expect(pi5.board).toBe('2712');
    expect(pi5.files.map((f) => f.name)).toEqual(['updatetime', 'bootsys', 'updatetime', 'pubkey.bin', 'cacert.der', 'bootconf.sig', 'bootconf.txt']);
    // Slot B of the A/B layout: one padding section from 0x107000.
    expect(pi5.sections.at(-1)).toMatchObject({ offset: 0x107000, kind: 'padding' });
  });

  it('Pi 5: a longer config pads only up to the A/B slot boundary and leaves slot B untouched', () => {
    const base = fixtureBytes(IMAGES.pi5);
    const config = configOfSize(3000);
    const built = buildPieeprom({ base, config });
    const parsed = parseEepromImage(built.image);
    expect(readBootConf(built.image)).toBe(config);
    expect(sameBytes(built.image.subarray(0x107000), base.subarray(0x107000))).toBe(true);
    const pads = parsed.sections.filter((s) => s.offset > 0xa3000);
    expect(pads.map((s) => [s.offset, s.kind])).toEqual([[0xa3000 + 24 + 3000, 'padding'], [0x107000, 'padding']]);
    expect(pads[0]!.offset + 8 + pads[0]!.length).toBe(0x107000);
    // And back again: the original image.
    expect(sameBytes(buildPieeprom({ base: built.image, config: readBootConf(base) }).image, base)).toBe(true);
  });

  it('a shorter config erases the old bytes to 0xff, as rpi-eeprom-config does', () => {
    const base = fixtureBytes(IMAGES.pi4Netboot);
    const built = buildPieeprom({ base, config: '[all]\n' });
    const at = 0x72e00 + 24;
    expect(Buffer.from(built.image.subarray(at, at + 6)).toString()).toBe('[all]\n');
    expect(built.image.subarray(at + 6, 0x7f000).every((b) => b === 0xff)).toBe(true);
  });

  it('refuses a file that is not 512 KiB or 2 MiB', () => {
    expect(codeOf(() => parseEepromImage(new Uint8Array(1000)))).toBe(EepromErrorCode.BAD_IMAGE_SIZE);
    expect(codeOf(() => parseEepromImage(fixtureBytes('recovery-2711.bin')))).toBe(EepromErrorCode.BAD_IMAGE_SIZE);
    expect(() => parseEepromImage(fixtureBytes(IMAGES.pi4).subarray(0, 524287))).toThrow(/524287 bytes.*524288/);
  });

  it('refuses a corrupt section chain, saying where', () => {
    const bytes = fixtureBytes(IMAGES.pi4);
    bytes.set([0x12, 0x34, 0x56, 0x78], 0x11da8); // the padding section after the first stage
    expect(codeOf(() => parseEepromImage(bytes))).toBe(EepromErrorCode.CORRUPT);
    expect(() => parseEepromImage(bytes)).toThrow(/corrupt.*0x11da8/);
    const overrun = fixtureBytes(IMAGES.pi4);
    overrun.set([0x00, 0x10, 0x00, 0x00], 0x72e00 + 4); // bootconf.txt claims 1 MiB
    expect(codeOf(() => parseEepromImage(overrun))).toBe(EepromErrorCode.CORRUPT);
    const vl805 = new Uint8Array(524288);
    vl805.set(fixtureBytes('vl805-000138c0.bin'));
    expect(codeOf(() => parseEepromImage(vl805))).toBe(EepromErrorCode.CORRUPT);
  });

  it('refuses a config over 4076 bytes and accepts exactly 4076 (rpi-eeprom-config\'s limit)', () => {
    const base = fixtureBytes(IMAGES.pi4);
    const ok = buildPieeprom({ base, config: configOfSize(4076) });
    expect(readBootConf(ok.image).length).toBe(4076);
    let error: unknown;
    try {
      buildPieeprom({ base, config: configOfSize(4077) });
    } catch (e) {
      error = e;
    }
    expect(BootcardError.is(error, EepromErrorCode.CONFIG_TOO_LARGE)).toBe(true);
    expect((error as Error).message).toMatch(/4077 bytes.*at most 4076 bytes/);
  });

  it('refuses a config over the free space the image really has, with the byte counts', () => {
    // A real Pi 4 image with another section 2 KiB after bootconf.txt, like the
    // 2025-07 releases where code grew into the config's sector.
    const base = fixtureBytes(IMAGES.pi4);
    const next = 0x72e00 + 2048;
    base.set([0x55, 0xaa, 0xf0, 0x0f, 0x00, 0x00, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8], next);
    base.set([0xff, 0xff, 0xff, 0xff], next + 16);
    const padAt = 0x72e00 + 24 + 79 + 1; // the padding section the release tools put in the gap
    new DataView(base.buffer).setUint32(padAt, 0x55aafeef);
    new DataView(base.buffer).setUint32(padAt + 4, next - padAt - 8);
    const image = parseEepromImage(base);
    expect(bootConfCapacity(image)).toBe(2048 - 24);
    expect(sameBytes(buildPieeprom({ base }).image, base)).toBe(true);
    const fits = buildPieeprom({ base, config: configOfSize(2024) });
    expect(sameBytes(fits.image.subarray(next), base.subarray(next))).toBe(true);
    expect(() => buildPieeprom({ base, config: configOfSize(2025) })).toThrow(/2025 bytes but this image has room for only 2024 bytes/);
    expect(codeOf(() => buildPieeprom({ base, config: configOfSize(2025) }))).toBe(EepromErrorCode.NO_SPACE);
  });

  it('replaces other modifiable files within their slot (bootconf.sig)', () => {
    const base = fixtureBytes(IMAGES.pi4);
    const sig = new TextEncoder().encode('a'.repeat(64) + '\nts: 1\n');
    const out = replaceEepromFile(base, 'bootconf.sig', sig);
    expect(Buffer.from(getEepromFile(out, 'bootconf.sig')).toString()).toBe('a'.repeat(64) + '\nts: 1\n');
    expect(sameBytes(out.subarray(0x72e00), base.subarray(0x72e00))).toBe(true);
    expect(() => replaceEepromFile(base, 'bootconf.sig', new Uint8Array(1300))).toThrow(/1300 bytes but only 1256 bytes are free/);
    expect(codeOf(() => replaceEepromFile(fixtureBytes(IMAGES.pi4Old), 'bootconf.sig', sig))).toBe(EepromErrorCode.FILE_NOT_IN_IMAGE);
  });

  it('a .sig timestamp alone leaves the image as rpi-eeprom-config writes it', () => {
    const base = fixtureBytes(IMAGES.pi4);
    expect(sameBytes(buildPieeprom({ base, timestamp: 1_790_000_000 }).image, base)).toBe(true);
    expect(readUpdateTimestamp(base)).toBeUndefined();
  });
});

describe('pieeprom image format without fixtures', () => {
  it('finds no chain in an erased image', () => {
    expect(codeOf(() => parseEepromImage(new Uint8Array(524288).fill(0xff)))).toBe(EepromErrorCode.CORRUPT);
  });
});
