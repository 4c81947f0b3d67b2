import { describe, expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import {
  SdLockErrorCode,
  cardStatusErrors,
  crc7,
  crc7Byte,
  csdFromHex,
  decodeCsd,
  toHex,
  withCsdCrc,
  withWriteProtect,
  writeProtectState,
  type SdLockState,
} from '../../electron/core/sdlock/csd.js';

/**
 * CSD registers of real cards, with the CRC byte as the cards sent it
 * (goughlui.com, "Project: Read, Collect & Decode SD Card CSD Register Data",
 * 2014, read from /sys/block/mmcblk1/device/csd on a host that keeps the CRC;
 * and a udev attribute dump of a 16 GB SDHC card at RCA 0xaaaa).
 */
const REAL_CARDS = [
  { name: 'Raspbmc 4 GB SDHC', hex: '400e00325b5900001d697f800a40008b', version: '2.0', cSize: 7529, capacity: 3_947_888_640, copy: false },
  { name: 'Samsung 32 GB SDHC', hex: '400e00325b590000e9e57f800a4040f1', version: '2.0', cSize: 59877, capacity: 31_393_316_864, copy: true },
  { name: 'Kingston 128 GB SDXC', hex: '400e00325b590003a5df7f800a400007', version: '2.0', cSize: 239071, capacity: 125_342_580_736, copy: false },
  { name: 'Kingston 2 GB SDSC', hex: '002d00325b5a83d5fefbff80168000cf', version: '1.0', cSize: 3927, capacity: 2_059_403_264, copy: false },
  { name: 'SanDisk 2 GB SDSC', hex: '002600325f5a83c93efbcfff928040cb', version: '1.0', cSize: 3876, capacity: 2_032_664_576, copy: true },
  { name: '16 GB SDHC (udev dump)', hex: '400e00325b59000076b27f800a404013', version: '2.0', cSize: 30386, capacity: 15_931_539_456, copy: true },
] as const;

const bytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16));

describe('CRC7 (x^7 + x^3 + 1)', () => {
  it('matches the SD specification\'s command examples', () => {
    // CMD0 GO_IDLE_STATE, argument 0: the frame ends in 0x95.
    expect(crc7Byte(bytes('4000000000'))).toBe(0x95);
    expect(crc7(bytes('4000000000'))).toBe(0x4a);
    // CMD17 READ_SINGLE_BLOCK, argument 0: 0x55.
    expect(crc7Byte(bytes('5100000000'))).toBe(0x55);
    // CMD8 SEND_IF_COND, argument 0x1AA: 0x87.
    expect(crc7Byte(bytes('48000001aa'))).toBe(0x87);
    // Response R7 example from the spec, CMD8 echo: 08 00 00 01 AA -> 0x13.
    expect(crc7Byte(bytes('08000001aa'))).toBe(0x13);
  });

  it.each(REAL_CARDS)('reproduces the CRC byte of a real card: $name', ({ hex }) => {
    const csd = csdFromHex(hex);
    expect(crc7Byte(csd.subarray(0, 15))).toBe(csd[15]);
    expect(decodeCsd(csd).crcValid).toBe(true);
  });
});

describe('decodeCsd', () => {
  it.each(REAL_CARDS)('decodes $name', ({ hex, version, cSize, capacity, copy }) => {
    const csd = decodeCsd(csdFromHex(hex));
    expect(csd.version).toBe(version);
    expect(csd.cSize).toBe(cSize);
    expect(csd.capacityBytes).toBe(capacity);
    expect(csd.copy).toBe(copy);
    expect(csd.permWriteProtect).toBe(false);
    expect(csd.tmpWriteProtect).toBe(false);
    expect(csd.hex).toBe(hex);
  });

  it('flags a CSD whose CRC byte a host dropped (sysfs `csd` ends in 00) and restores it', () => {
    const fromSysfs = csdFromHex('400e00325b59000076b27f800a404000');
    expect(decodeCsd(fromSysfs).crcValid).toBe(false);
    expect(toHex(withCsdCrc(fromSysfs))).toBe('400e00325b59000076b27f800a404013');
  });

  it('rejects anything but 16 bytes or 32 hex digits', () => {
    expect(() => decodeCsd(new Uint8Array(15))).toThrow(BootcardError);
    expect(() => csdFromHex('400e00')).toThrow(/32 hex digits/);
  });
});

describe('write-protect bit changes', () => {
  const base = csdFromHex('400e00325b590000e9e57f800a4040f1'); // COPY set, no protection
  const flags = (csd: Uint8Array) => csd[14]!;
  const sameOutsideFlags = (a: Uint8Array, b: Uint8Array) => {
    expect(toHex(a.subarray(0, 14))).toBe(toHex(b.subarray(0, 14)));
  };
  const to = (csd: Uint8Array, state: SdLockState) => withWriteProtect(csd, state);

  it('off -> temporary sets TMP_WRITE_PROTECT (0x10) only, with a new CRC', () => {
    const locked = to(base, 'temporary');
    expect(flags(locked)).toBe(0x50);
    sameOutsideFlags(locked, base);
    expect(decodeCsd(locked).crcValid).toBe(true);
    expect(locked[15]).not.toBe(base[15]);
    expect(writeProtectState(locked)).toBe('temporary');
    expect(writeProtectState(base)).toBe('off');
  });

  it('temporary -> off clears TMP_WRITE_PROTECT and restores the original register', () => {
    const unlocked = to(to(base, 'temporary'), 'off');
    expect(toHex(unlocked)).toBe(toHex(base));
    expect(writeProtectState(unlocked)).toBe('off');
  });

  it('off -> permanent sets PERM_WRITE_PROTECT (0x20) and keeps COPY', () => {
    const perm = to(base, 'permanent');
    expect(flags(perm)).toBe(0x60);
    sameOutsideFlags(perm, base);
    expect(decodeCsd(perm)).toMatchObject({ permWriteProtect: true, tmpWriteProtect: false, copy: true, crcValid: true });
    expect(writeProtectState(perm)).toBe('permanent');
  });

  it('temporary -> permanent keeps TMP and adds PERM', () => {
    const perm = to(to(base, 'temporary'), 'permanent');
    expect(flags(perm)).toBe(0x70);
    expect(writeProtectState(perm)).toBe('permanent');
  });

  it('off -> off and temporary -> temporary change nothing', () => {
    expect(toHex(to(base, 'off'))).toBe(toHex(base));
    const locked = to(base, 'temporary');
    expect(toHex(to(locked, 'temporary'))).toBe(toHex(locked));
  });

  it('a permanent card can only stay permanent', () => {
    const perm = to(base, 'permanent');
    expect(toHex(to(perm, 'permanent'))).toBe(toHex(perm));
    for (const state of ['off', 'temporary'] as const) {
      try {
        to(perm, state);
        expect.unreachable();
      } catch (error) {
        expect(BootcardError.is(error, SdLockErrorCode.PERMANENTLY_LOCKED)).toBe(true);
        expect((error as Error).message).toMatch(/never be undone/);
      }
    }
  });

  it('does not modify its input', () => {
    const copy = Uint8Array.from(base);
    to(base, 'permanent');
    expect(toHex(base)).toBe(toHex(copy));
  });
});

describe('cardStatusErrors', () => {
  it('names the error bits of an R1 status', () => {
    // CSD_OVERWRITE + ILLEGAL_COMMAND, state tran (4 << 9), READY_FOR_DATA.
    expect(cardStatusErrors((1 << 16) | (1 << 22) | (4 << 9) | (1 << 8))).toEqual(['ILLEGAL_COMMAND', 'CSD_OVERWRITE']);
    expect(cardStatusErrors(0x80000000)).toEqual(['OUT_OF_RANGE']);
    expect(cardStatusErrors((4 << 9) | (1 << 8))).toEqual([]);
  });
});
