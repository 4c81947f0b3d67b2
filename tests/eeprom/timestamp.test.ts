/**
 * The update timestamp, where rpi-eeprom-config --timestamp puts it. The
 * expected bytes are written here from the reference's rule (set_timestamp):
 *   - an `updatetime` file in the first 64 KiB (A/B Pi 5 images): ~ts then ts,
 *     little-endian u32, at the start of its content (header + 24), and the
 *     same in the `updatetime` of the partition [64 KiB, 1052 KiB);
 *   - otherwise: ts little-endian in the last 4 bytes, ~ts in the 4 before.
 * Nothing else in the image changes.
 */
import { expect, it } from 'vitest';
import { buildPieeprom, createBatchBuilder, parseEepromImage, planBatch, readBootConf, readUpdateTimestamp } from '../../electron/core/eeprom/index.js';
import { describeShared } from '../helpers/shared.js';
import { IMAGES, fixtureBytes, sameBytes } from './helpers.js';

const TS = 1_790_000_123;
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const RULE_BYTES = Uint8Array.from([...le32(~TS >>> 0), ...le32(TS)]);

/** Offsets where `a` and `b` differ. */
function differences(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/** Expected image: the base with RULE_BYTES at each offset. */
function withBytesAt(base: Uint8Array, offsets: readonly number[]): Uint8Array {
  const out = base.slice();
  for (const o of offsets) out.set(RULE_BYTES, o);
  return out;
}

describeShared('the update timestamp, as rpi-eeprom-config --timestamp writes it', () => {
  it('Pi 4 (2026, its updatetime file lies past 64 KiB): ~ts and ts in the last 8 bytes, the updatetime file untouched', () => {
    const base = fixtureBytes(IMAGES.pi4);
    const built = buildPieeprom({ base, updateTimestamp: TS }).image;
    const expected = withBytesAt(base, [base.length - 8]);
    expect(sameBytes(built, expected)).toBe(true);
    expect(differences(built, base).every((o) => o >= base.length - 8)).toBe(true);
    expect(readUpdateTimestamp(built)).toBe(TS);
  });

  it('Pi 4 (2020, no updatetime file at all): the last 8 bytes too', () => {
    const base = fixtureBytes(IMAGES.pi4Old);
    const built = buildPieeprom({ base, updateTimestamp: TS }).image;
    expect(sameBytes(built, withBytesAt(base, [base.length - 8]))).toBe(true);
  });

  it('Pi 5 A/B image (bootsys): ~ts, ts at the start of both updatetime files, in the read-only section and in partition A', () => {
    const base = fixtureBytes(IMAGES.pi5);
    // Where the two updatetime files are, read from the headers by hand: magic 55aaf11f then the name.
    const headers: number[] = [];
    for (let o = 0; o + 20 <= 64 * 1024 + 988 * 1024; o += 8) {
      if (base[o] === 0x55 && base[o + 1] === 0xaa && base[o + 2] === 0xf1 && base[o + 3] === 0x1f && Buffer.from(base.subarray(o + 8, o + 18)).toString('latin1') === 'updatetime') headers.push(o);
    }
    expect(headers).toEqual([0x67a0, 0xa1d10]);
    const built = buildPieeprom({ base, updateTimestamp: TS }).image;
    expect(sameBytes(built, withBytesAt(base, headers.map((h) => h + 24)))).toBe(true);
    // The last 8 bytes stay erased, slot B untouched.
    expect(Buffer.from(built.subarray(built.length - 8)).toString('hex')).toBe('ffffffffffffffff');
    expect(readUpdateTimestamp(built)).toBe(TS);
  });

  it('a 2 MiB image without an updatetime file in its first 64 KiB (the Pi 5 images before the A/B layout) gets the last 8 bytes', () => {
    // The fixtures hold only the A/B Pi 5 image: rename its read-only updatetime so the rule's other branch applies.
    const base = fixtureBytes(IMAGES.pi5);
    base.set(Buffer.from('updatetimx'), 0x67a0 + 8);
    const built = buildPieeprom({ base, updateTimestamp: TS }).image;
    expect(sameBytes(built, withBytesAt(base, [base.length - 8]))).toBe(true);
  });

  it('the config and the timestamp together; the .sig timestamp alone changes no byte', () => {
    const base = fixtureBytes(IMAGES.pi5);
    const config = '[all]\nBOOT_UART=1\nBOOT_ORDER=0xf21\n';
    const both = buildPieeprom({ base, config, updateTimestamp: TS }).image;
    const configOnly = buildPieeprom({ base, config }).image;
    expect(sameBytes(both, withBytesAt(configOnly, [0x67a0 + 24, 0xa1d10 + 24]))).toBe(true);
    expect(readBootConf(both)).toBe(config);
    expect(sameBytes(buildPieeprom({ base, timestamp: TS }).image, base)).toBe(true);
    expect(readUpdateTimestamp(base)).toBeUndefined();
  });

  it('the batch builder stamps every row the same way', () => {
    for (const name of [IMAGES.pi4, IMAGES.pi5]) {
      const base = fixtureBytes(name);
      const image = parseEepromImage(base);
      const plan = planBatch({ base, csv: 'name,TFTP_PREFIX\na,1\nb,2\n' });
      const build = createBatchBuilder(base, image, { timestamp: TS, updateTimestamp: TS });
      for (const row of plan.rows) {
        const fast = build(row).image.slice();
        expect(sameBytes(fast, buildPieeprom({ base, config: row.config, updateTimestamp: TS }).image)).toBe(true);
        expect(readUpdateTimestamp(fast)).toBe(TS);
      }
    }
  });

  it('refuses a timestamp the bootloader cannot hold', () => {
    expect(() => buildPieeprom({ base: fixtureBytes(IMAGES.pi4), updateTimestamp: 2 ** 32 })).toThrow(/between 0 and 4294967295/);
    expect(() => buildPieeprom({ base: fixtureBytes(IMAGES.pi4), updateTimestamp: 1.5 })).toThrow(/whole seconds/);
  });
});

describeShared('replacing files exactly as rpi-eeprom-config update()', () => {
  it('a file ending 8 bytes before the next section gets a padding header of length 0 (pad_bytes >= 8)', () => {
    const base = fixtureBytes(IMAGES.pi4);
    // bootconf.sig's slot on the 2026 Pi 4 image: header at 0x72900, next section (bootconf.txt) at 0x72e00.
    const sig = new Uint8Array(0x72e00 - 0x72900 - 24 - 8).fill(0x61);
    const built = buildPieeprom({ base, files: { 'bootconf.sig': sig } }).image;
    const end = 0x72900 + 24 + sig.length;
    expect(end).toBe(0x72df8);
    expect(Buffer.from(built.subarray(end, end + 8)).toString('hex')).toBe('55aafeef00000000');
    expect(sameBytes(built.subarray(0x72e00), base.subarray(0x72e00))).toBe(true);
    expect(parseEepromImage(built).files.map((f) => f.name)).toEqual(['updatetime', 'pubkey.bin', 'cacert.der', 'bootconf.sig', 'bootconf.txt']);
  });
});
