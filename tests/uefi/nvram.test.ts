/**
 * The NV variable store of real firmware files: both pftf RPI_EFI.fd layouts (pristine NV regions
 * from edk2-platforms' RPi4.fdf) and Debian's populated AAVMF_VARS.ms.fd. Every edit is checked
 * byte for byte (only the written records change) and read back by an independent parser.
 */
import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import {
  KnownGuid,
  UefiErrorCode,
  editUefiVariables,
  listUefiVariables,
  readNvram,
  type VariableEdit,
} from '../../electron/core/uefi/index.js';
import { describeShared } from '../helpers/shared.js';
import { AAVMF_FIXTURE, ALL_FIXTURES, RPI_FIXTURES, diffRuns, ftwCrcOk, fvChecksumOk, hex, load, pythonParse, u32, type StoreFixture } from './helpers.js';

const fixtures = ALL_FIXTURES.filter((f) => existsSync(f.path));
const TEST_GUID = 'b1a2c3d4-0000-4a4a-8b8b-0123456789ab';
const setVar = (name: string, data: Uint8Array, attributes = 7): VariableEdit => ({ op: 'set', name, guid: TEST_GUID, attributes, data });

function expectCode(fn: () => unknown, code: string): BootcardError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BootcardError);
    expect((error as BootcardError).code).toBe(code);
    expect((error as BootcardError).message.length).toBeGreaterThan(20);
    return error as BootcardError;
  }
  throw new Error(`expected ${code}`);
}

describeShared('UEFI variable store: reading', () => {
  for (const fixture of RPI_FIXTURES) {
    it(`finds the pristine, empty authenticated store of the ${fixture.name}`, () => {
      const fd = load(fixture);
      const nv = readNvram(fd);
      expect(nv.fv.offset).toBe(fixture.fvOffset);
      expect(nv.fv.length).toBe(0x20000);
      expect(nv.store.format).toBe('authenticated');
      expect(nv.store.offset).toBe(fixture.fvOffset + 0x48);
      expect(nv.store.firstRecordOffset).toBe(fixture.fvOffset + 0x64);
      expect(nv.store.records).toHaveLength(0);
      expect(nv.ftw.offset).toBe(fixture.ftwOffset);
      expect(nv.ftw.pendingWrite).toBe(false);
      const listing = listUefiVariables(fd);
      expect(listing.variables).toHaveLength(0);
      expect(listing.freeBytes).toBe(0xe000 - 0x64);
    });
  }

  it('finds the NV region by its signature and GUID, not by the file size', () => {
    // An RPI_EFI.fd-sized file whose NV region is elsewhere: the scan finds it.
    const src = load(RPI_FIXTURES[0]!);
    const moved = new Uint8Array(src.length).fill(0xff);
    moved.set(src.subarray(0x1d0000, 0x1f0000), 0x100000);
    expect(readNvram(moved).fv.offset).toBe(0x100000);
    // The right size but nothing there: refused.
    expectCode(() => readNvram(new Uint8Array(0x1f0000).fill(0xff)), UefiErrorCode.NV_REGION_NOT_FOUND);
  });
});


describeShared('UEFI variable store: Debian AAVMF_VARS.ms.fd (a real populated store)', () => {
  it.skipIf(!existsSync(AAVMF_FIXTURE.path))('lists its variables: PK, KEK, db, dbx live and authenticated, older copies deleted', () => {
    const fd = load(AAVMF_FIXTURE);
    const listing = listUefiVariables(fd);
    expect(listing.storeFormat).toBe('authenticated');
    expect(listing.fvOffset).toBe(0);
    const live = listing.variables.filter((v) => v.live);
    const byName = (name: string) => live.find((v) => v.name === name);
    for (const name of ['PK', 'KEK']) expect(byName(name)?.guid).toBe(KnownGuid.EFI_GLOBAL_VARIABLE);
    for (const name of ['db', 'dbx']) expect(byName(name)?.guid).toBe(KnownGuid.IMAGE_SECURITY_DATABASE);
    for (const name of ['PK', 'KEK', 'db', 'dbx']) expect(byName(name)!.attributes & 0x20).toBe(0x20);
    expect(byName('Timeout')?.value).toBe('5 s');
    expect(byName('Boot0000')?.value).toContain('"UiApp"');
    expect(listing.variables.some((v) => !v.live && v.status === 'deleted')).toBe(true);
    // The same answer as the independent parser, record for record.
    const py = pythonParse(fd);
    expect(listing.variables.map((v) => [v.name, v.guid, v.attributes, v.state, v.live, hex(v.data)])).toEqual(
      py.variables.map((v) => [v.name, v.guid, v.attributes, v.state, v.live, v.data]),
    );
  });

  it.skipIf(!existsSync(AAVMF_FIXTURE.path))('refuses to change authenticated variables (PK)', () => {
    const fd = load(AAVMF_FIXTURE);
    expectCode(() => editUefiVariables(fd, [{ op: 'set', name: 'PK', guid: KnownGuid.EFI_GLOBAL_VARIABLE, attributes: 7, data: new Uint8Array(4) }]), UefiErrorCode.AUTHENTICATED_VARIABLE);
  });
});

describeShared('UEFI variable store: editing', () => {
  for (const fixture of fixtures) {
    const before = () => load(fixture);

    it(`${fixture.name}: set appends one live record at the first free slot; nothing else changes`, () => {
      const fd = before();
      const free = readNvram(fd).store.freeOffset;
      const result = editUefiVariables(fd, [setVar('BootcardTest', Uint8Array.of(1, 2, 3, 4, 5))]);
      expect(result.changed).toBe(true);
      expect(hex(fd)).toBe(hex(before())); // input untouched
      const runs = diffRuns(fd, result.fd);
      // 60-byte header + "BootcardTest\0" (26) + 5 data bytes = 91 -> 92 with padding
      expect(result.written).toEqual([{ offset: free, length: 92 }]);
      for (const [start, end] of runs) expect(start >= free && end <= free + 92).toBe(true);
      expect(fvChecksumOk(result.fd, fixture.fvOffset)).toBe(true);
      expect(ftwCrcOk(result.fd, fixture.ftwOffset)).toBe(true);
      const py = pythonParse(result.fd);
      expect(py.fv_checksum_ok && py.ftw_crc_ok && py.free_space_erased).toBe(true);
      const mine = py.variables.filter((v) => v.name === 'BootcardTest');
      expect(mine).toEqual([{ name: 'BootcardTest', guid: TEST_GUID, attributes: 7, state: 0x3f, live: true, data: '0102030405', offset: free }]);
      expect(result.fd[free + 91]).toBe(0xff); // alignment padding stays erased
    });

    it(`${fixture.name}: replace marks the old copy deleted (0x3F -> 0x3D) and appends the new one`, () => {
      const first = editUefiVariables(before(), [setVar('BootcardTest', Uint8Array.from(Buffer.from(u32(1), 'hex')))]).fd;
      const oldOffset = readNvram(first).store.records.find((r) => r.name === 'BootcardTest')!.offset;
      const second = editUefiVariables(first, [setVar('BootcardTest', Uint8Array.from(Buffer.from(u32(2), 'hex')))]);
      const runs = diffRuns(first, second.fd);
      expect(runs[0]).toEqual([oldOffset + 2, oldOffset + 3]); // only the old copy's State byte
      expect(second.fd[oldOffset + 2]).toBe(0x3d);
      expect(runs.slice(1).every(([s]) => s >= oldOffset + 64)).toBe(true);
      const copies = pythonParse(second.fd).variables.filter((v) => v.name === 'BootcardTest');
      expect(copies.map((v) => [v.state, v.live, v.data])).toEqual([
        [0x3d, false, u32(1)],
        [0x3f, true, u32(2)],
      ]);
      expect(fvChecksumOk(second.fd, fixture.fvOffset) && ftwCrcOk(second.fd, fixture.ftwOffset)).toBe(true);
    });

    it(`${fixture.name}: setting the value already live changes nothing`, () => {
      const first = editUefiVariables(before(), [setVar('BootcardTest', Uint8Array.of(7))]).fd;
      const again = editUefiVariables(first, [setVar('BootcardTest', Uint8Array.of(7))]);
      expect(again.changed).toBe(false);
      expect(diffRuns(first, again.fd)).toEqual([]);
    });

    it(`${fixture.name}: delete marks every live copy deleted and adds nothing`, () => {
      const first = editUefiVariables(before(), [setVar('BootcardTest', Uint8Array.of(7))]).fd;
      const deleted = editUefiVariables(first, [{ op: 'delete', name: 'BootcardTest', guid: TEST_GUID }]);
      expect(diffRuns(first, deleted.fd)).toHaveLength(1);
      expect(pythonParse(deleted.fd).variables.filter((v) => v.name === 'BootcardTest').map((v) => v.live)).toEqual([false]);
      expectCode(() => editUefiVariables(deleted.fd, [{ op: 'delete', name: 'BootcardTest', guid: TEST_GUID }]), UefiErrorCode.VARIABLE_NOT_FOUND);
    });

    it(`${fixture.name}: refuses a full store, changing nothing`, () => {
      const fd = before();
      const free = readNvram(fd).store.end - readNvram(fd).store.freeOffset;
      // A record of exactly `free` bytes: 60-byte header + "Big\0" (8 bytes) + data.
      const exact = free - 60 - 8;
      const full = editUefiVariables(fd, [setVar('Big', new Uint8Array(exact))]).fd;
      expect(readNvram(full).store.freeOffset).toBe(readNvram(full).store.end);
      const e = expectCode(() => editUefiVariables(full, [setVar('One', Uint8Array.of(1))]), UefiErrorCode.STORE_FULL);
      expect(e.details).toMatchObject({ free: 0 });
      expectCode(() => editUefiVariables(fd, [setVar('Big', new Uint8Array(exact + 1))]), UefiErrorCode.STORE_FULL);
    });

    it(`${fixture.name}: refuses while the FTW queue holds an unfinished write; a completed one is fine`, () => {
      const fd = before();
      const queue = fixture.ftwOffset + 32;
      const pending = fd.slice();
      pending[queue] = 0xfe; // HeaderAllocated = 0 (valid), Complete = 1 (not yet)
      pending.set(Buffer.from('0100000000000000' + '0000000000000000', 'hex'), queue + 24);
      expect(readNvram(pending).ftw.pendingWrite).toBe(true);
      expect(pythonParse(pending).ftw_pending).toBe(true);
      expectCode(() => editUefiVariables(pending, [setVar('X', Uint8Array.of(1))]), UefiErrorCode.FTW_WRITE_PENDING);

      const completed = pending.slice();
      completed[queue] = 0xf8; // allocated, writes allocated, complete
      expect(readNvram(completed).ftw.pendingWrite).toBe(false);
      expect(readNvram(completed).ftw.completedWrites).toBe(1);
      expect(editUefiVariables(completed, [setVar('X', Uint8Array.of(1))]).changed).toBe(true);
    });

    it(`${fixture.name}: refuses corrupted headers and non-erased free space`, () => {
      const corrupt = (mutate: (fd: Uint8Array) => void) => {
        const fd = before();
        mutate(fd);
        return fd;
      };
      const fv = fixture.fvOffset;
      const store = fv + 0x48;
      expectCode(() => editUefiVariables(corrupt((fd) => (fd[fv + 0x32] = fd[fv + 0x32]! ^ 1)), []), UefiErrorCode.FV_HEADER_INVALID);
      expectCode(() => listUefiVariables(corrupt((fd) => (fd[fv + 0x37] = 1))), UefiErrorCode.FV_HEADER_INVALID);
      expectCode(() => listUefiVariables(corrupt((fd) => (fd[fv + 0x10] = fd[fv + 0x10]! ^ 0xff))), UefiErrorCode.NV_REGION_NOT_FOUND);
      expectCode(() => listUefiVariables(corrupt((fd) => (fd[store] = fd[store]! ^ 0xff))), UefiErrorCode.STORE_HEADER_INVALID);
      expectCode(() => listUefiVariables(corrupt((fd) => (fd[store + 0x14] = 0))), UefiErrorCode.STORE_HEADER_INVALID);
      expectCode(() => listUefiVariables(corrupt((fd) => (fd[store + 0x15] = 0xff))), UefiErrorCode.STORE_HEADER_INVALID);
      expectCode(() => listUefiVariables(corrupt((fd) => (fd[fixture.ftwOffset + 0x18] = fd[fixture.ftwOffset + 0x18]! ^ 1))), UefiErrorCode.FTW_INVALID);
      expectCode(() => listUefiVariables(corrupt((fd) => (fd[fixture.ftwOffset + 0x14] = 0xfc))), UefiErrorCode.FTW_INVALID);
      const free = readNvram(before()).store.freeOffset;
      const dirty = corrupt((fd) => (fd[free + 100] = 0));
      expect(listUefiVariables(dirty).freeSpaceErased).toBe(false);
      expectCode(() => editUefiVariables(dirty, [setVar('X', Uint8Array.of(1))]), UefiErrorCode.FREE_SPACE_NOT_ERASED);
      // A record whose DataSize runs past the end of the store.
      const runaway = corrupt((fd) => {
        fd.set(Buffer.from('aa553f00', 'hex'), free);
        fd.set(Buffer.from('0400000000ffff00', 'hex'), free + 0x24);
      });
      expectCode(() => listUefiVariables(runaway), UefiErrorCode.STORE_CORRUPT);
    });
  }
});

describeShared('UEFI variable store: plain (non-authenticated) format', () => {
  it('reads and edits a store signed with gEfiVariableGuid (32-byte record headers)', () => {
    const fixture: StoreFixture = RPI_FIXTURES[0]!;
    const fd = load(fixture);
    // Re-sign the store as a plain one: the FV checksum covers only the FV header, so it stays valid.
    fd.set(Buffer.from('1636cfdd75326441' + '98b6fe85707ffe7d', 'hex'), fixture.fvOffset + 0x48);
    const nv = readNvram(fd);
    expect(nv.store.format).toBe('plain');
    const result = editUefiVariables(fd, [setVar('Plain', Uint8Array.of(9, 9))]);
    expect(result.written).toEqual([{ offset: nv.store.freeOffset, length: 32 + 12 + 4 }]);
    const py = pythonParse(result.fd);
    expect(py.store_format).toBe('plain');
    expect(py.variables).toEqual([{ name: 'Plain', guid: TEST_GUID, attributes: 7, state: 0x3f, live: true, data: '0909', offset: nv.store.freeOffset }]);
  });
});
