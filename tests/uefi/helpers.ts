/** Fixtures and independent checks shared by the UEFI tests. */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { uefiFixture } from '../helpers/shared.js';

export const AAVMF_VARS = '/usr/share/AAVMF/AAVMF_VARS.ms.fd';
export const PYTHON_PARSER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'edk2_varstore.py');

export interface StoreFixture {
  readonly name: string;
  readonly path: string;
  /** File offset of the NV firmware volume. */
  readonly fvOffset: number;
  readonly ftwOffset: number;
}

export const RPI_FIXTURES: readonly StoreFixture[] = [
  { name: 'pftf v1.34 layout', path: uefiFixture('rpi-efi-v1.34-layout.fd'), fvOffset: 0x1d0000, ftwOffset: 0x1df000 },
  { name: 'pftf v1.39 layout', path: uefiFixture('rpi-efi-v1.39-layout.fd'), fvOffset: 0x3b0000, ftwOffset: 0x3bf000 },
];
export const AAVMF_FIXTURE: StoreFixture = { name: 'AAVMF_VARS.ms.fd', path: AAVMF_VARS, fvOffset: 0, ftwOffset: 0x40000 };
export const ALL_FIXTURES: readonly StoreFixture[] = [...RPI_FIXTURES, AAVMF_FIXTURE];

const cache = new Map<string, Uint8Array>();
/** A fresh copy of the fixture's bytes. */
export function load(fixture: StoreFixture): Uint8Array {
  let bytes = cache.get(fixture.path);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(fixture.path));
    cache.set(fixture.path, bytes);
  }
  return bytes.slice();
}

/** Offsets where a and b differ, as [start, end) runs. */
export function diffRuns(a: Uint8Array, b: Uint8Array): [number, number][] {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  const runs: [number, number][] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else runs.push([i, i + 1]);
  }
  return runs;
}

/** The FV header's UINT16 words sum to 0 (computed here, not with bootcard's code). */
export function fvChecksumOk(fd: Uint8Array, fvOffset: number): boolean {
  const headerLength = fd[fvOffset + 0x30]! | (fd[fvOffset + 0x31]! << 8);
  let sum = 0;
  for (let i = 0; i < headerLength; i += 2) sum = (sum + (fd[fvOffset + i]! | (fd[fvOffset + i + 1]! << 8))) & 0xffff;
  return sum === 0;
}

/** The FTW header's CRC, as edk2 computes it, with node's zlib CRC-32. */
export function ftwCrcOk(fd: Uint8Array, ftwOffset: number): boolean {
  const header = Buffer.from(fd.slice(ftwOffset, ftwOffset + 32));
  const stored = header.readUInt32LE(16);
  header.fill(0xff, 16, 21);
  return crc32(header) === stored;
}

export interface PyVariable {
  readonly name: string;
  readonly guid: string;
  readonly attributes: number;
  readonly state: number;
  readonly live: boolean;
  readonly data: string;
  readonly offset: number;
}
export interface PyStore {
  readonly fv_offset: number;
  readonly store_format: 'authenticated' | 'plain';
  readonly fv_checksum_ok: boolean;
  readonly ftw_crc_ok: boolean;
  readonly ftw_pending: boolean;
  readonly free_space_erased: boolean;
  readonly variables: readonly PyVariable[];
}

/** Runs the independent Python parser (tests/uefi/edk2_varstore.py) over these bytes. */
export function pythonParse(fd: Uint8Array): PyStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'bootcard-uefi-py-'));
  try {
    const file = path.join(dir, 'store.fd');
    writeFileSync(file, fd);
    return JSON.parse(execFileSync('python3', [PYTHON_PARSER, file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })) as PyStore;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
export const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return hex(b); };
export const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return hex(b); };

/** An unpacked pftf firmware folder `dir/name` around a store fixture (the other blobs' contents do not matter here). */
export function firmwareFolder(dir: string, fixturePath: string, name: string): string {
  const folder = path.join(dir, name);
  mkdirSync(folder);
  copyFileSync(fixturePath, path.join(folder, 'RPI_EFI.fd'));
  chmodSync(path.join(folder, 'RPI_EFI.fd'), 0o644);
  writeFileSync(path.join(folder, 'start4.elf'), Buffer.alloc(4096, 0x5a));
  writeFileSync(path.join(folder, 'fixup4.dat'), Buffer.alloc(512, 0x11));
  writeFileSync(path.join(folder, 'config.txt'), 'arm_64bit=1\nenable_uart=1\narmstub=RPI_EFI.fd\n');
  return folder;
}

/** RPI_EFI.fd from a card image's first partition, copied out with sfdisk and mtools (not bootcard's FAT reader). */
export function extractRpiEfiFd(image: string): Uint8Array {
  const table = JSON.parse(execFileSync('sfdisk', ['--json', image], { encoding: 'utf8' })) as { partitiontable: { partitions: { start: number }[] } };
  const start = table.partitiontable.partitions[0]!.start * 512;
  const out = `${image}.RPI_EFI.fd`;
  execFileSync('mcopy', ['-n', '-i', `${image}@@${start}`, '::RPI_EFI.fd', out]);
  const bytes = new Uint8Array(readFileSync(out));
  rmSync(out);
  return bytes;
}
