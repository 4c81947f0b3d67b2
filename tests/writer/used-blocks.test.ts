/**
 * A raw OS image (FAT32 boot partition + ext4 root, built by sfdisk, mkfs.fat,
 * mtools and mkfs.ext4 -d) whose free space is full of non-zero leftovers,
 * flashed onto a used card (random bytes everywhere) through the real CLI and
 * privileged child: far fewer bytes reach the card than the image holds (the
 * free blocks stay as they were), yet e2fsck -fn and fsck.fat -n find both file
 * systems clean and every file reads back equal.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, closeSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachLoop, describeLoop, sectorsWritten } from '../helpers/loop.js';
import { MiB, readFileRange } from './card-image.js';
import { startCli } from './cli-process.js';
import { usedImageExtents } from '../../electron/core/image/used-extents.js';

const missingTools = ['sfdisk', 'mkfs.fat', 'mcopy', 'mkfs.ext4', 'e2fsck', 'debugfs', 'fsck.fat'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);

const FAT_START = 1 * MiB;
const FAT_SIZE = 40 * MiB;
const EXT_START = FAT_START + FAT_SIZE;
const EXT_SIZE = 64 * MiB;
const IMAGE_SIZE = EXT_START + EXT_SIZE + MiB;
const CARD_SIZE = 128 * MiB;

function fillRandom(file: string, size: number): void {
  const fd = openSync(file, 'w');
  try {
    for (let at = 0; at < size; at += MiB) writeSync(fd, randomBytes(Math.min(MiB, size - at)), 0, Math.min(MiB, size - at), at);
  } finally {
    closeSync(fd);
  }
}

function filesUnder(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel))) {
    const r = path.join(rel, name);
    const st = statSync(path.join(root, r), { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(root, r));
    else if (st?.isFile()) out.push(r);
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

(missingTools.length ? describeLoop.skip : describeLoop)(`a raw OS image written only where its file systems are used${missingTools.length ? ` (skipped: missing ${missingTools.join(', ')})` : ''}`, () => {
  let dir: string;
  let imageFile: string;
  let rootFiles: string;
  let bootFiles: Map<string, Buffer>;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-used-blocks-'));
    // The root file system's content: files of several sizes, a folder, a link.
    rootFiles = path.join(dir, 'root');
    mkdirSync(path.join(rootFiles, 'etc'), { recursive: true });
    mkdirSync(path.join(rootFiles, 'usr/lib'), { recursive: true });
    writeFileSync(path.join(rootFiles, 'etc/hostname'), 'station-pi\n');
    writeFileSync(path.join(rootFiles, 'usr/lib/libbig.so'), randomBytes(5 * MiB + 123));
    writeFileSync(path.join(rootFiles, 'usr/lib/small.bin'), randomBytes(40_000));
    for (let i = 0; i < 20; i++) writeFileSync(path.join(rootFiles, `etc/conf${i}`), randomBytes(1000 + i * 700));
    symlinkSync('usr/lib', path.join(rootFiles, 'lib'));

    // Each file system is made over random bytes (nodiscard keeps them), so its free space holds leftovers.
    const ext = path.join(dir, 'root.ext4');
    fillRandom(ext, EXT_SIZE);
    execFileSync('mkfs.ext4', ['-q', '-F', '-E', 'nodiscard,lazy_itable_init=0', '-L', 'rootfs', '-d', rootFiles, ext]);
    const fat = path.join(dir, 'boot.fat');
    fillRandom(fat, FAT_SIZE);
    execFileSync('mkfs.fat', ['-F', '32', '-s', '1', '-n', 'BOOT', fat], { stdio: 'ignore' });
    bootFiles = new Map([
      ['config.txt', Buffer.from('arm_64bit=1\n')],
      ['kernel8.img', randomBytes(3 * MiB + 77)],
      ['start4.elf', randomBytes(700_000)],
    ]);
    for (const [name, data] of bootFiles) {
      writeFileSync(path.join(dir, name), data);
      execFileSync('mcopy', ['-i', fat, path.join(dir, name), `::/${name}`]);
    }
    // The image: leftovers outside the partitions too (written as they are: not a file system's).
    imageFile = path.join(dir, 'os.img');
    fillRandom(imageFile, IMAGE_SIZE);
    const fd = openSync(imageFile, 'r+');
    try {
      writeSync(fd, readFileSync(fat), 0, FAT_SIZE, FAT_START);
      writeSync(fd, readFileSync(ext), 0, EXT_SIZE, EXT_START);
    } finally {
      closeSync(fd);
    }
    execFileSync('sfdisk', ['-q', imageFile], { input: `label: dos\nstart=${FAT_START / 512}, size=${FAT_SIZE / 512}, type=c\nstart=${EXT_START / 512}, size=${EXT_SIZE / 512}, type=83\n` });
    // The image itself is sound.
    execFileSync('e2fsck', ['-fn', ext], { stdio: 'ignore' });
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('onto a used card: a fraction of the image is written, both file systems check clean and every file is equal', async () => {
    const card = attachLoop(CARD_SIZE, dir);
    try {
      fillRandom(card.backingFile, CARD_SIZE);
      const before = sectorsWritten(card.device);
      const end = await startCli(['flash', imageFile, '--to', card.device, '--include-loop', '--yes']).exited;
      expect(end.code, end.stderr).toBe(0);
      expect(end.stdout).toContain(`ok      ${card.device}: written and verified`);
      // The reported checksum is the image file's, as sha256sum prints it.
      expect(end.stdout).toContain(`sha256 ${sha(readFileSync(imageFile))}`);
      const written = (sectorsWritten(card.device) - before) * 512;
      // The image's used blocks: files (~9.5 MiB), ext4 metadata (inode tables, journal), both FATs, the raw gaps (2 MiB).
      expect(written, `bytes written ${written} of a ${IMAGE_SIZE}-byte image`).toBeLessThan(IMAGE_SIZE * 0.6);

      // The partition table and what lies outside the file systems is the image's.
      expect(readFileRange(card.backingFile, 0, FAT_START).equals(readFileRange(imageFile, 0, FAT_START))).toBe(true);
      const ext = path.join(dir, 'card-root.ext4');
      writeFileSync(ext, readFileRange(card.backingFile, EXT_START, EXT_SIZE));
      const fsck = spawnSync('e2fsck', ['-fn', ext], { encoding: 'utf8' });
      expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
      const out = path.join(dir, 'dumped');
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      execFileSync('debugfs', ['-R', `rdump / ${out}`, ext], { stdio: 'ignore' });
      const expected = filesUnder(rootFiles).sort();
      expect(expected.length).toBeGreaterThan(20);
      for (const f of expected) expect(sha(readFileSync(path.join(out, f))), f).toBe(sha(readFileSync(path.join(rootFiles, f))));

      const fat = path.join(dir, 'card-boot.fat');
      writeFileSync(fat, readFileRange(card.backingFile, FAT_START, FAT_SIZE));
      const fatCheck = spawnSync('fsck.fat', ['-n', fat], { encoding: 'utf8' });
      expect(fatCheck.status, fatCheck.stdout + fatCheck.stderr).toBe(0);
      for (const [name, data] of bootFiles) {
        const got = execFileSync('mtype', ['-i', fat, `::/${name}`], { maxBuffer: 16 * MiB });
        expect(got.equals(data), name).toBe(true);
      }
    } finally {
      card.detach();
    }
  }, 180_000);

  it('the used blocks found match e2fsprogs\' count exactly, for 1 KiB blocks and for 4 KiB blocks with flex_bg and uninitialised groups', async () => {
    for (const [label, size, args] of [
      ['1 KiB blocks', 64 * MiB, ['-b', '1024']],
      ['4 KiB blocks, flex_bg, sparse_super', 1024 * MiB, ['-b', '4096', '-O', 'flex_bg,sparse_super,^resize_inode']],
      ['4 KiB blocks with resize_inode', 600 * MiB, ['-b', '4096']],
    ] as const) {
      const image = path.join(dir, `count-${size}.img`);
      const fd = openSync(image, 'w');
      closeSync(fd);
      execFileSync('truncate', ['-s', String(size + MiB), image]);
      execFileSync('mkfs.ext4', ['-q', '-F', ...args, '-E', `offset=${MiB}`, '-d', rootFiles, image, String(size / 1024) + 'k']);
      execFileSync('sfdisk', ['-q', image], { input: `label: dos\nstart=2048, size=${size / 512}, type=83\n` });
      const part = path.join(dir, `count-${size}.ext4`);
      execFileSync('dd', [`if=${image}`, `of=${part}`, 'bs=1M', 'skip=1', 'status=none', 'conv=sparse']);
      const header = execFileSync('dumpe2fs', ['-h', part], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(header)![1]);
      const usedByE2fs = (field('Block count') - field('Free blocks')) * field('Block size');
      const bytes = readFileSync(image);
      const used = await usedImageExtents(async (offset, length) => bytes.subarray(offset, offset + length), bytes.length);
      const ext = used.fileSystems.find((f) => f.kind === 'ext4');
      expect(ext?.wholeBecause, label).toBeUndefined();
      expect(ext!.usedBytes, label).toBe(usedByE2fs);
      rmSync(image);
      rmSync(part);
    }
  }, 120_000);

  it('what cannot be trusted is written whole: an ext4 not cleanly unmounted, and an image with a GPT', async () => {
    const image = path.join(dir, 'untrusted.img');
    const size = 32 * MiB;
    closeSync(openSync(image, 'w'));
    execFileSync('truncate', ['-s', String(size + MiB), image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-E', `offset=${MiB}`, '-d', rootFiles, image, `${size / 1024}k`]);
    execFileSync('sfdisk', ['-q', image], { input: `label: dos\nstart=2048, size=${size / 512}, type=83\n` });
    const bytes = readFileSync(image);
    const read = async (offset: number, length: number) => bytes.subarray(offset, offset + length);
    const clean = await usedImageExtents(read, bytes.length);
    expect(clean.usedBytes).toBeLessThan(bytes.length / 2);
    // s_state without EXT2_VALID_FS: mounted, or crashed; its bitmaps may be behind the journal.
    bytes.writeUInt16LE(0, MiB + 1024 + 0x3a);
    const dirty = await usedImageExtents(read, bytes.length);
    expect(dirty.fileSystems[0]).toMatchObject({ kind: 'ext4', wholeBecause: 'not cleanly unmounted' });
    expect(dirty.extents).toEqual([{ offset: 0, length: bytes.length }]);
    writeFileSync(image, bytes);
    execFileSync('sfdisk', ['-q', '--wipe', 'never', image], { input: `label: gpt\nstart=2048, type=L\n` });
    const gpt = readFileSync(image);
    expect((await usedImageExtents(async (o, l) => gpt.subarray(o, o + l), gpt.length)).extents).toEqual([{ offset: 0, length: gpt.length }]);
    rmSync(image);
  }, 60_000);

  it('hostile metadata (2,000 deterministic mutations of the superblock, descriptors and bitmaps) never throws, hangs or points outside the image', async () => {
    const image = path.join(dir, 'fuzz.img');
    const size = 16 * MiB;
    closeSync(openSync(image, 'w'));
    execFileSync('truncate', ['-s', String(size + MiB), image]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-b', '1024', '-E', `offset=${MiB}`, '-d', rootFiles, image, `${size / 1024}k`]);
    execFileSync('sfdisk', ['-q', image], { input: `label: dos\nstart=2048, size=${size / 512}, type=83\n` });
    const bytes = readFileSync(image);
    const metadata = { from: MiB + 1024, length: 8192 };
    const pristine = Buffer.from(bytes.subarray(metadata.from, metadata.from + metadata.length));
    let seed = 14;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) {
      pristine.copy(bytes, metadata.from);
      // Superblock (1024..2047), descriptor table (block 2..), and the first bitmaps: what the reader parses.
      for (let k = 0; k < 1 + Math.floor(next() * 8); k++) bytes[metadata.from + Math.floor(next() * metadata.length)] = Math.floor(next() * 256);
      const used = await usedImageExtents(async (offset, length) => {
        expect(offset + length, `mutation ${i} reads past the image`).toBeLessThanOrEqual(bytes.length);
        return bytes.subarray(offset, offset + length);
      }, bytes.length);
      for (const e of used.extents) {
        expect(e.offset % 512 === 0 && e.length % 512 === 0 && e.offset + e.length <= bytes.length, `mutation ${i}`).toBe(true);
      }
      // Whatever the metadata says, the partition table and the superblock itself are written.
      expect(used.extents[0]!.offset).toBe(0);
      expect(used.extents.some((e) => e.offset <= MiB + 1024 && e.offset + e.length >= MiB + 2048), `mutation ${i}`).toBe(true);
    }
    rmSync(image);
  }, 120_000);
});
