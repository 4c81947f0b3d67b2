/**
 * Issue 13: PXE first for each Pi. The option bytes are checked against the layout edk2 itself creates
 * (written out here byte for byte, not built with bootcard's encoder), then the order PXE, HTTP, the
 * rest, and --network-boot-only, on the real pftf store layouts read back by the independent parser.
 */
import { expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import {
  applyUefiSettings,
  editUefiVariables,
  encodePxeBootOption,
  HTTP_BOOT_WARNING,
  KnownGuid,
  parseMacAddress,
  previewUefiSettings,
  readUefiSettings,
  UefiErrorCode,
  type UefiSettings,
} from '../../electron/core/uefi/index.js';
import { describeShared } from '../helpers/shared.js';
import { RPI_FIXTURES, diffRuns, ftwCrcOk, fvChecksumOk, load, pythonParse, u16 } from './helpers.js';

const GLOBAL = KnownGuid.EFI_GLOBAL_VARIABLE;

/**
 * The PXEv4 option edk2 creates for the Pi's GENET NIC, as hex: attributes LOAD_OPTION_ACTIVE,
 * FilePathListLength 68, the description in UTF-16LE with its NUL, MAC node (03 0b, length 37, the
 * MAC zero-padded to 32 bytes, IfType 1), IPv4 node (03 0c, length 27, zeros), End (7f ff 04 00),
 * then mBmAutoCreateBootOptionGuid 8108ac4e-9f11-4d59-850e-e21a522c59b2 as stored.
 */
const PXE_DCA632010203 =
  '01000000' +
  '4400' +
  Buffer.from('UEFI PXEv4 (MAC:DCA632010203)\0', 'utf16le').toString('hex') +
  '030b2500' + 'dca632010203' + '00'.repeat(26) + '01' +
  '030c1b00' + '00'.repeat(23) +
  '7fff0400' +
  '4eac0881119f594d850ee21a522c59b2';
const PXE_E45F01AABBCC =
  '01000000' +
  '4400' +
  Buffer.from('UEFI PXEv4 (MAC:E45F01AABBCC)\0', 'utf16le').toString('hex') +
  '030b2500' + 'e45f01aabbcc' + '00'.repeat(26) + '01' +
  '030c1b00' + '00'.repeat(23) +
  '7fff0400' +
  '4eac0881119f594d850ee21a522c59b2';

/** EFI_LOAD_OPTION for bootcard's bare URI path, from the UEFI spec layout. */
function httpOption(url: string): string {
  const uriNode = Buffer.concat([Buffer.from([0x03, 0x18]), Buffer.from(u16(4 + url.length), 'hex'), Buffer.from(url, 'ascii')]);
  return '01000000' + u16(uriNode.length + 4) + Buffer.from('UEFI HTTP boot (bootcard)\0', 'utf16le').toString('hex') + uriNode.toString('hex') + '7fff0400';
}

/** Load options in the shape a booted Pi's store holds (SD card, UEFI Shell), to order around. */
function option(description: string, pathHex: string): Uint8Array {
  const path = Buffer.from(pathHex, 'hex');
  const lengthLe = Buffer.alloc(2);
  lengthLe.writeUInt16LE(path.length);
  return Buffer.concat([Buffer.from('01000000', 'hex'), lengthLe, Buffer.from(`${description}\0`, 'utf16le'), path]);
}
const SD_OPTION = option('SD/MMC on Arasan SDHCI', '0114140000000000000000000000000000000000000000007fff0400');
const SHELL_OPTION = option('UEFI Shell', '04061400' + '83a5047c3e9e1c4fad65e05268d0b4d1' + '7fff0400');

const live = (fd: Uint8Array) =>
  pythonParse(fd)
    .variables.filter((v) => v.live)
    .map((v) => ({ name: v.name, guid: v.guid, attributes: v.attributes, data: v.data }));
const liveData = (fd: Uint8Array, name: string) => live(fd).find((v) => v.name === name)?.data;
const bootOptions = (fd: Uint8Array) => live(fd).filter((v) => /^Boot[0-9A-F]{4}$/.test(v.name)).map((v) => v.name);

it('the PXE option for a Pi is byte for byte the one edk2 creates for its NIC, for two MACs in either notation', () => {
  expect(Buffer.from(encodePxeBootOption(parseMacAddress('dc:a6:32:01:02:03'))).toString('hex')).toBe(PXE_DCA632010203);
  expect(Buffer.from(encodePxeBootOption(parseMacAddress('E4-5F-01-AA-BB-CC'))).toString('hex')).toBe(PXE_E45F01AABBCC);
});

it('refuses what is not a unicast 6-byte MAC, saying where to find the Pi\'s MAC', () => {
  const bad = ['dc:a6:32:01:02', 'dc:a6:32:01:02:03:04', 'dca632010203', 'dc:a6-32:01:02:03', 'zz:a6:32:01:02:03', '01:00:5e:00:00:01', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00', ''];
  for (const text of bad) {
    try {
      parseMacAddress(text);
      throw new Error(`accepted "${text}"`);
    } catch (error) {
      expect(BootcardError.is(error, UefiErrorCode.BAD_SETTING), String(error)).toBe(true);
      expect((error as Error).message).toContain('ethtool -P eth0');
    }
  }
});

describeShared('PXE first, HTTP second, network boot only', () => {
  for (const fixture of RPI_FIXTURES) {
    it(`${fixture.name}: --pxe-boot-first with --http-boot-first writes PXE as Boot0000 and HTTP as Boot0001, in that order`, () => {
      const url = 'http://192.168.1.10/efi/boot/bootaa64.efi';
      const settings: UefiSettings = { pxeBootFirstMac: 'dc:a6:32:01:02:03', httpBootFirstUrl: url };
      const { fd: out, warnings } = applyUefiSettings(load(fixture), settings);
      expect(warnings).toEqual([HTTP_BOOT_WARNING]);
      expect(live(out)).toEqual([
        { name: 'Boot0000', guid: GLOBAL, attributes: 7, data: PXE_DCA632010203 },
        { name: 'Boot0001', guid: GLOBAL, attributes: 7, data: httpOption(url) },
        { name: 'BootOrder', guid: GLOBAL, attributes: 7, data: u16(0) + u16(1) },
      ]);
      expect(readUefiSettings(out)).toEqual({ ...settings, bootOrder: ['Boot0000', 'Boot0001'] });
      expect(fvChecksumOk(out, fixture.fvOffset) && ftwCrcOk(out, fixture.ftwOffset)).toBe(true);
    });
  }

  /** A store as a Pi leaves it after booting: SD card, the firmware's own PXE option, UEFI Shell. */
  function bootedStore(): Uint8Array {
    const set = (name: string, data: Uint8Array) => ({ op: 'set' as const, name, guid: GLOBAL, attributes: 7, data });
    return editUefiVariables(load(RPI_FIXTURES[1]!), [
      set('Boot0000', SD_OPTION),
      set('Boot0001', Buffer.from(PXE_DCA632010203, 'hex')),
      set('Boot0002', SHELL_OPTION),
      set('BootOrder', Buffer.from(u16(0) + u16(1) + u16(2), 'hex')),
    ]).fd;
  }

  it("keeps the firmware's own identical PXE option (no duplicate) and moves it first, HTTP second, the rest after", () => {
    const before = bootedStore();
    const url = 'http://10.0.0.1/boot.efi';
    const out = applyUefiSettings(before, { pxeBootFirstMac: 'DC-A6-32-01-02-03', httpBootFirstUrl: url }).fd;
    expect(bootOptions(out)).toEqual(['Boot0000', 'Boot0001', 'Boot0002', 'Boot0003']);
    expect(liveData(out, 'Boot0001')).toBe(PXE_DCA632010203);
    expect(liveData(out, 'Boot0003')).toBe(httpOption(url));
    expect(liveData(out, 'BootOrder')).toBe(u16(1) + u16(3) + u16(0) + u16(2));
    // The PXE option was not rewritten: only the HTTP option and BootOrder are new records.
    const py = pythonParse(out);
    expect(py.variables.filter((v) => v.name === 'Boot0001')).toHaveLength(1);
  });

  it('--network-boot-only leaves BootOrder with only PXE and HTTP and deletes every other Boot####', () => {
    const url = 'http://10.0.0.1/boot.efi';
    const out = applyUefiSettings(bootedStore(), { pxeBootFirstMac: 'dc:a6:32:01:02:03', httpBootFirstUrl: url, networkBootOnly: true }).fd;
    expect(liveData(out, 'BootOrder')).toBe(u16(1) + u16(3));
    expect(bootOptions(out)).toEqual(['Boot0001', 'Boot0003']);
    expect(pythonParse(out).variables.filter((v) => !v.live).map((v) => v.name).sort()).toEqual(['Boot0000', 'Boot0002', 'BootOrder']);
    // PXE alone: BootOrder is just the PXE option, and a new MAC gets a new option ahead of nothing else.
    const pxeOnly = applyUefiSettings(bootedStore(), { pxeBootFirstMac: 'e4:5f:01:aa:bb:cc', networkBootOnly: true }).fd;
    expect(bootOptions(pxeOnly)).toEqual(['Boot0003']);
    expect(liveData(pxeOnly, 'Boot0003')).toBe(PXE_E45F01AABBCC);
    expect(liveData(pxeOnly, 'BootOrder')).toBe(u16(3));
    // On a fresh store: the order is exactly bootcard's options.
    const fresh = applyUefiSettings(load(RPI_FIXTURES[0]!), { httpBootFirstUrl: url, networkBootOnly: true }).fd;
    expect(live(fresh).map((v) => v.name)).toEqual(['Boot0000', 'BootOrder']);
  });

  it('a bad MAC, or --network-boot-only with no network option, is refused and nothing changes', () => {
    const fd = load(RPI_FIXTURES[0]!);
    const copy = fd.slice();
    for (const settings of [{ pxeBootFirstMac: '01:23:45:67:89:ab' }, { pxeBootFirstMac: 'dc:a6:32:01:02' }, { networkBootOnly: true, bootTimeoutSeconds: 1 }] as UefiSettings[]) {
      expect(() => applyUefiSettings(fd, settings)).toThrow(BootcardError);
    }
    expect(diffRuns(fd, copy)).toEqual([]);
  });

  it('warns about a MAC outside the Raspberry Pi OUIs, not about a Pi\'s', () => {
    const fd = load(RPI_FIXTURES[0]!);
    expect(applyUefiSettings(fd, { pxeBootFirstMac: '2c:cf:67:00:00:01' }).warnings).toEqual([]);
    const [warning] = applyUefiSettings(fd, { pxeBootFirstMac: '52:54:00:ab:cd:ef' }).warnings;
    expect(warning).toMatch(/52:54:00:AB:CD:EF is not a Raspberry Pi address .*DC:A6:32/);
  });

  it('previews the PXE option as `vars list` shows it', () => {
    const preview = previewUefiSettings(load(RPI_FIXTURES[1]!), { pxeBootFirstMac: 'dc:a6:32:01:02:03', networkBootOnly: true });
    expect(preview.variables).toEqual([
      { name: 'Boot0000', value: '"UEFI PXEv4 (MAC:DCA632010203)" MAC(DCA632010203,0x1)/IPv4(...)' },
      { name: 'BootOrder', value: '0000' },
    ]);
  });
});
