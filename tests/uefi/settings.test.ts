/**
 * Named settings (what a user would otherwise set with a keyboard in the pftf setup screens), written
 * into the real firmware layouts and read back by the independent parser with the GUIDs, attributes
 * and encodings the firmware uses.
 */
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import {
  HTTP_BOOT_WARNING,
  KnownGuid,
  UefiErrorCode,
  applyUefiSettings,
  editUefiVariables,
  previewUefiSettings,
  readUefiSettings,
  type UefiSettings,
} from '../../electron/core/uefi/index.js';
import { describeShared } from '../helpers/shared.js';
import { AAVMF_FIXTURE, RPI_FIXTURES, diffRuns, ftwCrcOk, fvChecksumOk, load, pythonParse, u16, u32 } from './helpers.js';

const RPI = KnownGuid.RPI_CONFIG;
const GLOBAL = KnownGuid.EFI_GLOBAL_VARIABLE;
const live = (fd: Uint8Array) =>
  pythonParse(fd)
    .variables.filter((v) => v.live)
    .map((v) => ({ name: v.name, guid: v.guid, attributes: v.attributes, data: v.data }));

/** EFI_LOAD_OPTION for a bare URI device path, built here from the UEFI spec layout. */
function expectedHttpBootOption(url: string): string {
  const description = Buffer.from('UEFI HTTP boot (bootcard)\0', 'utf16le');
  const uriNode = Buffer.concat([Buffer.from([0x03, 0x18]), Buffer.from(u16(4 + url.length), 'hex'), Buffer.from(url, 'ascii')]);
  const end = Buffer.from('7fff0400', 'hex');
  return Buffer.concat([Buffer.from(u32(1), 'hex'), Buffer.from(u16(uriNode.length + 4), 'hex'), description, uriNode, end]).toString('hex');
}

describeShared('UEFI named settings', () => {
  for (const fixture of RPI_FIXTURES) {
    it(`${fixture.name}: RAM limit, system table, timeout, CPU clock, fan and asset tag become exactly the firmware's variables`, () => {
      const fd = load(fixture);
      const settings: UefiSettings = { ramLimit3GB: false, systemTable: 'dt', bootTimeoutSeconds: 1, cpuClock: 1800, fanGpio: 19, fanTempCelsius: 70, assetTag: 'rack2-slot14' };
      const { fd: out, warnings } = applyUefiSettings(fd, settings);
      expect(warnings).toEqual([]);
      const tag = Buffer.alloc(66);
      tag.write('rack2-slot14', 'utf16le');
      expect(live(out)).toEqual([
        { name: 'RamLimitTo3GB', guid: RPI, attributes: 7, data: u32(0) },
        { name: 'SystemTableMode', guid: RPI, attributes: 7, data: u32(2) },
        { name: 'CpuClock', guid: RPI, attributes: 7, data: u32(3) },
        { name: 'CustomCpuClock', guid: RPI, attributes: 7, data: u32(1800) },
        { name: 'FanOnGpio', guid: RPI, attributes: 7, data: u32(19) },
        { name: 'FanTemp', guid: RPI, attributes: 7, data: u32(70) },
        { name: 'AssetTag', guid: RPI, attributes: 7, data: tag.toString('hex') },
        { name: 'Timeout', guid: GLOBAL, attributes: 7, data: u16(1) },
      ]);
      expect(readUefiSettings(out)).toEqual(settings);
      // Only the variable store changed: everything outside it, FV header and FTW block included, is identical.
      const storeStart = fixture.fvOffset + 0x64;
      for (const [start, end] of diffRuns(fd, out)) expect(start >= storeStart && end <= fixture.fvOffset + 0xe000).toBe(true);
      expect(fvChecksumOk(out, fixture.fvOffset) && ftwCrcOk(out, fixture.ftwOffset)).toBe(true);
    });

    it(`${fixture.name}: HTTP boot first adds a Boot#### with a bare URI device path and puts it first, with the v1.38-v1.41 warning`, () => {
      const url = 'http://192.168.1.10/efi/boot/bootaa64.efi';
      const { fd: out, warnings } = applyUefiSettings(load(fixture), { httpBootFirstUrl: url });
      expect(warnings).toEqual([HTTP_BOOT_WARNING]);
      expect(live(out)).toEqual([
        { name: 'Boot0000', guid: GLOBAL, attributes: 7, data: expectedHttpBootOption(url) },
        { name: 'BootOrder', guid: GLOBAL, attributes: 7, data: u16(0) },
      ]);
      // Changing the URL later replaces the same option instead of adding another one.
      const again = applyUefiSettings(out, { httpBootFirstUrl: 'https://boot.example/x.efi' }).fd;
      expect(live(again).filter((v) => /^Boot[0-9A-F]{4}$/.test(v.name))).toEqual([
        { name: 'Boot0000', guid: GLOBAL, attributes: 7, data: expectedHttpBootOption('https://boot.example/x.efi') },
      ]);
    });

    it(`${fixture.name}: applying the same settings twice changes nothing the second time`, () => {
      const settings: UefiSettings = { ramLimit3GB: false, systemTable: 'both', bootTimeoutSeconds: 3, httpBootFirstUrl: 'http://10.0.0.1/a.efi' };
      const once = applyUefiSettings(load(fixture), settings).fd;
      const twice = applyUefiSettings(once, settings).fd;
      expect(diffRuns(once, twice)).toEqual([]);
    });
  }

  it.skipIf(!existsSync(AAVMF_FIXTURE.path))('AAVMF: HTTP boot takes the lowest unused Boot#### and goes in front of the existing BootOrder', () => {
    // AAVMF_VARS.ms.fd has Boot0000..0002 but no live BootOrder: give it one first.
    const withOrder = editUefiVariables(load(AAVMF_FIXTURE), [{ op: 'set', name: 'BootOrder', guid: GLOBAL, attributes: 7, data: Buffer.from('020000000100', 'hex') }]).fd;
    const { fd: out } = applyUefiSettings(withOrder, { httpBootFirstUrl: 'http://10.1.1.1/boot.efi', bootTimeoutSeconds: 0 });
    const vars = live(out);
    expect(vars.find((v) => v.name === 'BootOrder')?.data).toBe('0300' + '0200' + '0000' + '0100');
    expect(vars.find((v) => v.name === 'Boot0003')?.data).toBe(expectedHttpBootOption('http://10.1.1.1/boot.efi'));
    expect(vars.find((v) => v.name === 'Timeout')?.data).toBe(u16(0));
    // The earlier options are untouched.
    expect(vars.filter((v) => /^Boot000[0-2]$/.test(v.name))).toHaveLength(3);
    expect(fvChecksumOk(out, 0) && ftwCrcOk(out, 0x40000)).toBe(true);
  });

  it('refuses values the firmware would not accept, naming the setting', () => {
    const fd = load(RPI_FIXTURES[0]!);
    const bad: UefiSettings[] = [
      { bootTimeoutSeconds: 70000 },
      { bootTimeoutSeconds: 1.5 },
      { cpuClock: 5000 },
      { fanGpio: 4 },
      { fanTempCelsius: 95 },
      { assetTag: 'x'.repeat(33) },
      { httpBootFirstUrl: 'tftp://10.0.0.1/boot.efi' },
      { httpBootFirstUrl: 'http://host/with space.efi' },
      { httpBootFirstUrl: 'not a url' },
    ];
    for (const settings of bad) {
      try {
        applyUefiSettings(fd, settings);
        throw new Error(`accepted ${JSON.stringify(settings)}`);
      } catch (error) {
        expect(BootcardError.is(error, UefiErrorCode.BAD_SETTING), String(error)).toBe(true);
      }
    }
  });

  it('previews what would be written, for the wizard', () => {
    const preview = previewUefiSettings(load(RPI_FIXTURES[1]!), { ramLimit3GB: false, systemTable: 'dt', httpBootFirstUrl: 'http://10.0.0.1/a.efi' });
    expect(preview.warnings).toEqual([HTTP_BOOT_WARNING]);
    expect(preview.variables).toEqual([
      { name: 'RamLimitTo3GB', value: '0 (all RAM usable)' },
      { name: 'SystemTableMode', value: '2 (device tree)' },
      { name: 'Boot0000', value: '"UEFI HTTP boot (bootcard)" Uri(http://10.0.0.1/a.efi)' },
      { name: 'BootOrder', value: '0000' },
    ]);
  });

  it('with no settings returns an identical copy', () => {
    const fd = load(RPI_FIXTURES[0]!);
    const { fd: out, warnings } = applyUefiSettings(fd, {});
    expect(out === fd).toBe(false);
    expect(diffRuns(fd, out)).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
