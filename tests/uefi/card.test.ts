/**
 * Done-when of issue 8: a card composed with `--ram-limit off --system-table dt --boot-timeout 1`
 * carries an RPI_EFI.fd in which an independent parser of the edk2 format (tests/uefi/edk2_varstore.py,
 * Python stdlib only) finds exactly those live variables, with the right GUIDs, attributes and values.
 * The card image is read with sfdisk and mtools, not with bootcard's FAT reader.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KnownGuid } from '../../electron/core/uefi/guid.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared } from '../helpers/shared.js';
import { RPI_FIXTURES, diffRuns, extractRpiEfiFd, firmwareFolder, ftwCrcOk, fvChecksumOk, pythonParse, u16, u32 } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bootcard-uefi-card-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeShared('bootcard card uefi with UEFI settings', () => {
  for (const [index, fixture] of RPI_FIXTURES.entries()) {
    it(`${fixture.name}: the card's RPI_EFI.fd holds exactly RamLimitTo3GB=0, SystemTableMode=2, Timeout=1`, async () => {
      const folder = firmwareFolder(dir, fixture.path, `fw${index}`);
      const image = path.join(dir, `card${index}.img`);
      const r = await runBootcard(['card', 'uefi', '--firmware', folder, '--out', image, '--size', '64M', '--ram-limit', 'off', '--system-table', 'dt', '--boot-timeout', '1']);
      expect(r.code, r.stderr).toBe(0);
      const fd = extractRpiEfiFd(image);
      const py = pythonParse(fd);
      expect(py.fv_offset).toBe(fixture.fvOffset);
      expect(py.store_format).toBe('authenticated');
      expect(py.fv_checksum_ok && py.ftw_crc_ok && py.free_space_erased && !py.ftw_pending).toBe(true);
      expect(py.variables.filter((v) => v.live).map(({ name, guid, attributes, data }) => ({ name, guid, attributes, data }))).toEqual([
        { name: 'RamLimitTo3GB', guid: KnownGuid.RPI_CONFIG, attributes: 7, data: u32(0) },
        { name: 'SystemTableMode', guid: KnownGuid.RPI_CONFIG, attributes: 7, data: u32(2) },
        { name: 'Timeout', guid: KnownGuid.EFI_GLOBAL_VARIABLE, attributes: 7, data: u16(1) },
      ]);
      expect(py.variables.every((v) => v.live)).toBe(true);
      // Outside the variable store the firmware file is the release's, byte for byte.
      const original = new Uint8Array(readFileSync(fixture.path));
      for (const [start, end] of diffRuns(original, fd)) expect(start >= fixture.fvOffset + 0x64 && end <= fixture.fvOffset + 0xe000).toBe(true);
      expect(fvChecksumOk(fd, fixture.fvOffset) && ftwCrcOk(fd, fixture.ftwOffset)).toBe(true);
      // And `bootcard uefi vars list` reads the same settings straight from the card image.
      const list = await runBootcard(['uefi', 'vars', 'list', image, '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect((JSON.parse(list.stdout) as { settings: unknown }).settings).toEqual({ ramLimit3GB: false, systemTable: 'dt', bootTimeoutSeconds: 1 });
    });
  }

  it('a bad UEFI option is a usage error and writes no image', async () => {
    const folder = firmwareFolder(dir, RPI_FIXTURES[0]!.path, 'fw-bad');
    const image = path.join(dir, 'bad.img');
    const r = await runBootcard(['card', 'uefi', '--firmware', folder, '--out', image, '--size', '64M', '--boot-timeout', '70000']);
    expect(r.code).toBe(2);
    expect(() => readFileSync(image)).toThrow();
  });
});
