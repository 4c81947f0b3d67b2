import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import { assertSparseImage, dataBytes } from '../../electron/core/image/sparse-image.js';
import {
  composeFat32Image,
  DEFAULT_PARTITION_OFFSET,
  fat32Geometry,
  fat32GeometryForSectors,
  FatErrorCode,
  mkfsClusterSectors,
  readFatImage,
  sparseImageReader,
  type FatFileInput,
} from '../../electron/core/fat32/index.js';
import { lfnChecksum, shortNameBytes } from '../../electron/core/fat32/names.js';
import { openByteReader } from '../../electron/core/fat32/byte-reader.io.js';
import { fsckFat, mcopyAll, mdirAll, mtype, saveImage, savePartition, sfdiskDump, TOOL_ENV } from './fat-tools.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';

const MIB = 1024 * 1024;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-fat32-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tmp = (name: string) => path.join(dir, `${counter++}-${name}`);
const bytes = pseudoRandomBytes;


/** Composes, then checks with fsck.fat, mdir and mcopy that every file reads back identical. */
async function composeAndCheck(files: FatFileInput[], partitionSize: number, partitionType = 0x0c) {
  const image = composeFat32Image({ files, partitionSize, partitionType, label: 'TEST' });
  const imageFile = tmp('card.img');
  await saveImage(image, imageFile);
  const partFile = tmp('part.img');
  savePartition(image, DEFAULT_PARTITION_OFFSET, partitionSize, partFile);
  const fsck = fsckFat(partFile);
  expect(fsck.findings, fsck.output).toEqual([]);
  expect(fsck.code, fsck.output).toBe(0);
  const copied = mcopyAll(imageFile, DEFAULT_PARTITION_OFFSET, tmp('out'));
  const expected = files.filter((f) => !f.directory);
  expect([...copied.keys()].sort()).toEqual(expected.map((f) => f.path).sort());
  for (const f of expected) expect(Buffer.compare(copied.get(f.path)!, Buffer.from(f.data ?? [])), f.path).toBe(0);
  return { image, imageFile };
}

describe('FAT32 geometry', () => {
  it.each([40, 256, 261, 300, 1024, 8200])('matches mkfs.fat -F 32 for a %i MiB partition', (mib) => {
    const file = tmp(`mkfs-${mib}.img`);
    execFileSync('mkfs.fat', ['-F', '32', '-C', file, String(mib * 1024)], { env: TOOL_ENV, stdio: 'pipe' });
    const report = execFileSync('fsck.fat', ['-n', '-v', file], { env: TOOL_ENV, encoding: 'utf8' });
    rmSync(file);
    // mkfs.fat 4.2 picks its own sectors-per-track for files, so compare for the sector count it used.
    const total = Number(/(\d+) sectors total/.exec(report)![1]);
    const g = fat32GeometryForSectors(total, mkfsClusterSectors(mib * MIB));
    expect(report).toContain(`${g.bytesPerCluster} bytes per cluster`);
    expect(report).toContain(`${g.reservedSectors} reserved sectors`);
    expect(report).toContain(`(= ${g.fatSectors} sectors)`);
    expect(report).toMatch(new RegExp(`\\b${g.clusterCount} data clusters`));
  });

  it('rounds the sector count down to whole tracks, as mkfs.fat does for DOS and mtools', () => {
    expect(fat32Geometry(256 * MIB).totalSectors).toBe((256 * MIB) / 512);
    const g = fat32Geometry(1000 * MIB);
    expect(g.sectorsPerTrack).toBe(63);
    expect(g.totalSectors % 63).toBe(0);
    expect((1000 * MIB) / 512 - g.totalSectors).toBeLessThan(63);
  });

  it('refuses a partition too small for FAT32, saying how large it must be', () => {
    const attempt = () => composeFat32Image({ files: [], partitionSize: 20 * MIB, partitionType: 0x0c });
    expect(attempt).toThrow(BootcardError);
    expect(attempt).toThrow(/too small for FAT32.*at least \d+ MiB/);
  });
});

describe('FAT32 composer', () => {
  it('writes an MBR with the partition at 4 MiB and the type the recipe asks for', async () => {
    for (const type of [0x0c, 0xef]) {
      const image = composeFat32Image({ files: [{ path: 'a.txt', data: bytes(10, 1) }], partitionSize: 64 * MIB, partitionType: type });
      const file = tmp('type.img');
      await saveImage(image, file);
      const dump = sfdiskDump(file);
      expect(dump).toMatch(new RegExp(`start=\\s*8192, size=\\s*${(64 * MIB) / 512}, type=${type.toString(16)}\\b`));
      expect(image.size).toBe(68 * MIB);
    }
  });

  it('keeps a small firmware set, long names, nested folders and empty files intact (fsck.fat, mcopy)', async () => {
    const files: FatFileInput[] = [
      { path: 'config.txt', data: new TextEncoder().encode('arm_64bit=1\n') },
      { path: 'RPI_EFI.fd', data: bytes(2 * MIB - 64 * 1024, 2) },
      { path: 'overlays/miniuart-bt.dtbo', data: bytes(1234, 3) },
      { path: 'overlays/README', data: bytes(100, 4) },
      { path: 'Firmware notes with spaces.txt', data: bytes(77, 5) },
      { path: 'Grüße aus Zürich.txt', data: bytes(99, 6) },
      { path: '日本語 ファイル.txt', data: bytes(10, 7) },
      { path: 'empty.bin', data: new Uint8Array(0) },
      { path: 'one-cluster.bin', data: bytes(512, 8) },
      { path: 'one-cluster-plus-one.bin', data: bytes(513, 9) },
      { path: 'a/b/c/d/e/f/g/deep file.txt', data: bytes(3000, 10) },
      { path: 'Mixed.Case.Name.tar.gz', data: bytes(600, 11) },
      { path: 'UPPER.TXT', data: bytes(5, 12) },
      { path: 'lower.txt', data: bytes(6, 13) },
      { path: '.hidden', data: bytes(7, 14) },
      { path: 'empty folder', directory: true },
    ];
    const { imageFile } = await composeAndCheck(files, 256 * MIB, 0xef);
    const listed = mdirAll(imageFile, DEFAULT_PARTITION_OFFSET);
    expect(listed).toContain('empty folder');
    expect(listed).toContain('Grüße aus Zürich.txt');
    expect(listed).toContain('a/b/c/d/e/f/g/deep file.txt');
    expect(mtype(imageFile, DEFAULT_PARTITION_OFFSET, 'config.txt').toString()).toBe('arm_64bit=1\n');
  });

  it('handles 4 KiB clusters (partitions over 260 MiB): files of exactly one cluster, one byte more, and empty', async () => {
    expect(fat32Geometry(300 * MIB).bytesPerCluster).toBe(4096);
    const files: FatFileInput[] = [
      { path: 'exactly one cluster.bin', data: bytes(4096, 31) },
      { path: 'one cluster and a byte.bin', data: bytes(4097, 32) },
      { path: 'EMPTY.BIN', data: new Uint8Array(0) },
      { path: 'dir/with/several/levels/two clusters.bin', data: bytes(8192, 33) },
    ];
    for (let i = 0; i < 200; i++) files.push({ path: `big folder/entry number ${i} with a long name.txt`, data: bytes(i, 40 + i) });
    await composeAndCheck(files, 300 * MIB, 0xef);
  });

  it('stores a thousand files in one folder with unique short names', async () => {
    const files: FatFileInput[] = [];
    for (let i = 0; i < 1000; i++) files.push({ path: `many/firmware component ${String(i).padStart(4, '0')}.bin`, data: bytes(100 + i, 100 + i) });
    for (let i = 0; i < 50; i++) files.push({ path: `FILE${i}.BIN`, data: bytes(20, i) });
    const { image } = await composeAndCheck(files, 64 * MIB);
    const volume = (await readFatImage(sparseImageReader(image))).volume;
    const shorts = (await volume.list('many')).map((e) => e.shortName);
    expect(new Set(shorts).size).toBe(1000);
    expect(shorts.every((s) => /^[A-Z0-9_~]{1,8}\.BIN$/.test(s))).toBe(true);
  });

  it('fills a partition to the last cluster, and refuses one byte more', async () => {
    const size = 40 * MIB;
    const g = fat32Geometry(size);
    // Root folder takes one cluster; the rest goes to two files.
    const free = g.clusterCount - 1;
    const files: FatFileInput[] = [
      { path: 'big.bin', data: bytes((free - 1) * g.bytesPerCluster, 21) },
      { path: 'last.bin', data: bytes(g.bytesPerCluster, 22) },
    ];
    const { image } = await composeAndCheck(files, size);
    expect((image as ReturnType<typeof composeFat32Image>).fat.freeClusters).toBe(0);
    const overfull = [...files, { path: 'one-more.bin', data: bytes(1, 23) }];
    try {
      composeFat32Image({ files: overfull, partitionSize: size, partitionType: 0x0c });
      expect.unreachable();
    } catch (error) {
      expect(BootcardError.is(error, FatErrorCode.NO_SPACE)).toBe(true);
      expect((error as Error).message).toMatch(/choose a larger size/);
    }
  });

  it('gives byte-identical images for the same inputs, and a different volume ID for different ones', () => {
    const files = (seed: number): FatFileInput[] => [
      { path: 'x/y.bin', data: bytes(5000, seed), mtime: 1700000000 },
      { path: 'long file name.txt', data: bytes(10, 2), mtime: 1700000000 },
    ];
    const a = composeFat32Image({ files: files(1), partitionSize: 64 * MIB, partitionType: 0xef, label: 'A' });
    const b = composeFat32Image({ files: files(1), partitionSize: 64 * MIB, partitionType: 0xef, label: 'A' });
    const c = composeFat32Image({ files: files(2), partitionSize: 64 * MIB, partitionType: 0xef, label: 'A' });
    expect(a.ranges.length).toBe(b.ranges.length);
    a.ranges.forEach((r, i) => {
      expect(r.offset).toBe(b.ranges[i]!.offset);
      expect(Buffer.compare(Buffer.from(r.data), Buffer.from(b.ranges[i]!.data))).toBe(0);
    });
    expect(c.fat.volumeId).not.toBe(a.fat.volumeId);
  });

  it('carries the MBR, the used FAT sectors and the used clusters as data, the rest of the FATs and the GPT area as zero ranges', () => {
    const image = composeFat32Image({ files: [{ path: 'RPI_EFI.fd', data: bytes(2 * MIB, 1) }], partitionSize: 256 * MIB, partitionType: 0xef });
    const g = image.fat.geometry;
    const fatAt = DEFAULT_PARTITION_OFFSET + g.reservedSectors * 512;
    const dataAt = DEFAULT_PARTITION_OFFSET + g.dataStartSector * 512;
    // 2 MiB of file in 512-byte clusters: 4096 FAT entries (16 KiB) per FAT are used, the rest (about 2 MiB each) is zero.
    expect(dataBytes(image)).toBeLessThan(2 * MIB + 64 * 1024);
    expect(image.ranges[0]).toMatchObject({ offset: 0 });
    expect(image.ranges[0]!.data.length).toBe(512);
    expect(image.zeroRanges![0]).toEqual({ offset: 512, length: 33 * 512 });
    // Every byte of both FATs is either in a data range or in a zero range, and the zero ranges really are zero.
    const covered = (from: number, to: number) =>
      [...image.ranges.map((r) => ({ offset: r.offset, length: r.data.length })), ...image.zeroRanges!]
        .map((r) => Math.max(0, Math.min(to, r.offset + r.length) - Math.max(from, r.offset)))
        .reduce((a, b) => a + b, 0);
    expect(covered(fatAt, dataAt)).toBe(dataAt - fatAt);
    for (const z of image.zeroRanges!) expect(z.length).toBeGreaterThanOrEqual(4096);
    expect(() => assertSparseImage(image)).not.toThrow();
    // The last range is the data area, up to the end of the last used cluster.
    const last = image.ranges.at(-1)!;
    expect(last.offset).toBeLessThanOrEqual(dataAt);
    expect(last.offset + last.data.length).toBe(dataAt + image.fat.usedClusters * 512);
  });

  it('rejects names FAT cannot store and names that clash case-insensitively', () => {
    const compose = (files: FatFileInput[]) => () => composeFat32Image({ files, partitionSize: 64 * MIB, partitionType: 0x0c });
    expect(compose([{ path: 'a/../b', data: bytes(1, 1) }])).toThrow(/"\." and "\.\." are not names/);
    expect(compose([{ path: '/abs', data: bytes(1, 1) }])).toThrow(/empty/);
    expect(compose([{ path: 'what?.txt', data: bytes(1, 1) }])).toThrow(/cannot contain/);
    expect(compose([{ path: 'Config.txt', data: bytes(1, 1) }, { path: 'CONFIG.TXT', data: bytes(1, 1) }])).toThrow(/case-insensitive/);
    expect(compose([{ path: 'a', data: bytes(1, 1) }, { path: 'a/b', data: bytes(1, 1) }])).toThrow(/clashes/);
  });

  it('computes the LFN checksum the way the FAT specification does', () => {
    // Worked example: the checksum of "FOO     BAR" from the FAT specification's algorithm, computed by hand.
    let sum = 0;
    for (const b of Buffer.from('FOO     BAR', 'latin1')) sum = (((sum & 1) << 7) + (sum >> 1) + b) & 0xff;
    expect(lfnChecksum(shortNameBytes('FOO', 'BAR'))).toBe(sum);
  });
});

describe('FAT reader', () => {
  it('reads the partition table, tree and files of an image file, matching mtools', async () => {
    const files: FatFileInput[] = [
      { path: 'config.txt', data: new TextEncoder().encode('[all]\n') },
      { path: 'overlays/a long overlay name.dtbo', data: bytes(4000, 1) },
      { path: 'sub/dir/file.bin', data: bytes(70000, 2) },
      { path: 'empty', data: new Uint8Array(0) },
    ];
    const image = composeFat32Image({ files, partitionSize: 64 * MIB, partitionType: 0x0c, label: 'RECOVERY' });
    const file = tmp('reader.img');
    await saveImage(image, file);
    const reader = await openByteReader(file);
    try {
      const card = await readFatImage(reader);
      expect(card.partitions).toEqual([{ index: 1, type: 0x0c, bootable: false, firstLba: 8192, sectorCount: (64 * MIB) / 512 }]);
      expect(card.volume.boot.label).toBe('RECOVERY');
      const paths = (await card.volume.files()).map((f) => f.path).sort();
      expect(paths).toEqual(files.map((f) => f.path).sort());
      const fromMtools = mdirAll(file, DEFAULT_PARTITION_OFFSET).filter((p) => !['overlays', 'sub', 'sub/dir'].includes(p)).sort();
      expect(paths).toEqual(fromMtools);
      for (const f of files) expect(Buffer.compare(Buffer.from(await card.volume.readFile(f.path)), Buffer.from(f.data!))).toBe(0);
      expect(await card.volume.exists('CONFIG.TXT')).toBe(true);
      await expect(card.volume.readFile('nope.txt')).rejects.toThrow(/not on the card/);
      await expect(card.volume.readFile('empty/empty')).rejects.toThrow(/not on the card/);
    } finally {
      await reader.close();
    }
  });

  it('reads a file system made by mkfs.fat and filled by mcopy', async () => {
    const file = tmp('mkfs.img');
    execFileSync('mkfs.fat', ['-F', '32', '-n', 'MKFS', '-C', file, String(40 * 1024)], { env: TOOL_ENV, stdio: 'pipe' });
    const src = tmp('src.txt');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(src, 'hello from mtools\n');
    execFileSync('mmd', ['-i', file, '::Some Folder'], { env: TOOL_ENV });
    execFileSync('mcopy', ['-i', file, src, '::Some Folder/A file with a long name.txt'], { env: TOOL_ENV });
    const reader = await openByteReader(file);
    try {
      const card = await readFatImage(reader);
      expect(card.partitions).toBeNull();
      expect(new TextDecoder().decode(await card.volume.readFile('some folder/a file with a long name.txt'))).toBe('hello from mtools\n');
    } finally {
      await reader.close();
    }
  });

  it('says clearly when there is no partition table', async () => {
    const reader = sparseImageReader({ size: 1 * MIB, ranges: [] });
    await expect(readFatImage(reader)).rejects.toThrow(/No MBR partition table/);
  });
});

describe('FAT reader on damaged cards', () => {
  it('refuses a folder that loops back to its parent instead of walking forever', async () => {
    const image = composeFat32Image({ files: [{ path: 'a/b/file.txt', data: bytes(10, 1) }], partitionSize: 64 * MIB, partitionType: 0x0c });
    const volume = (await readFatImage(sparseImageReader(image))).volume;
    const b = await volume.stat('a/b');
    const a = await volume.stat('a');
    // Point folder b's entry (inside a) at folder a's cluster.
    // The range that holds the data area, indexed as from the partition start.
    const dataStart = image.fat.geometry.dataStartSector * 512;
    const holder = image.ranges.find((r) => r.offset <= DEFAULT_PARTITION_OFFSET + dataStart && r.offset + r.data.length > DEFAULT_PARTITION_OFFSET + dataStart)!;
    const part = holder.data;
    const aDir = dataStart - (holder.offset - DEFAULT_PARTITION_OFFSET) + (a.firstCluster - 2) * 512;
    let found = false;
    for (let at = aDir; at < aDir + 512; at += 32) {
      if ((part[at + 26]! | (part[at + 27]! << 8)) === b.firstCluster && part[at + 11] === 0x10 && part[at] !== 0x2e) {
        part[at + 26] = a.firstCluster & 0xff;
        part[at + 27] = a.firstCluster >> 8;
        found = true;
      }
    }
    expect(found).toBe(true);
    const fresh = (await readFatImage(sparseImageReader(image))).volume;
    await expect(fresh.tree()).rejects.toThrow(/loops back to another folder/);
  });
});
