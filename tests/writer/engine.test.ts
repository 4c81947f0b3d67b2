import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync, readFileSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { CardDevice } from '../../electron/core/writer/card-device.io.js';
import { runWrite } from '../../electron/core/writer/engine.io.js';
import type { WriteProgress } from '../../electron/core/writer/progress.js';
import { saveSparseImage } from '../../electron/core/image/sparse-image.io.js';
import type { SparseImage } from '../../electron/core/image/sparse-image.js';
import { dataBytes } from '../../electron/core/image/sparse-image.js';
import { TABLE_WIPE_BYTES } from '../../electron/core/writer/layout.js';
import { fsckFat, mcopyAll } from '../card/fat-tools.js';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { fillRandom, MiB, readFileRange, rendered, testCardImage } from './card-image.js';

describeLoop('writer on loop devices', () => {
  let dir: string;
  let image: SparseImage;
  let expected: Buffer;
  let loops: LoopDevice[] = [];
  const loop = (size: number) => {
    const l = attachLoop(size, dir);
    loops.push(l);
    return l;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-writer-'));
    image = testCardImage();
    expected = rendered(image);
  });
  afterEach(() => {
    for (const l of loops) l.detach();
    loops = [];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const dataDigest = () => {
    const h = createHash('sha256');
    for (const r of image.ranges) h.update(r.data);
    return h.digest('hex');
  };

  it('writes three cards at once; each reads back equal to the image, with its own progress and result', async () => {
    const cards = [loop(64 * MiB), loop(64 * MiB), loop(48 * MiB)];
    const progress: WriteProgress[] = [];
    const results = await runWrite({ image, targets: cards.map((c) => c.device), verify: true, includeLoop: true, onProgress: (p) => progress.push(p) });
    for (const [i, r] of results.entries()) {
      expect(r, r.error?.message).toMatchObject({ target: cards[i]!.device, ok: true, kind: 'device', verified: true, sha256: dataDigest() });
      expect(readFileRange(cards[i]!.backingFile, 0, image.size).equals(expected)).toBe(true);
      // Only the data ranges plus the 4 MiB head and 1 MiB tail wipes were written.
      expect(r.bytesWritten).toBeLessThan(image.ranges.reduce((s, x) => s + x.data.length, 0) + 5 * MiB + 1);
      for (const phase of ['write', 'verify'] as const) {
        const last = progress.filter((p) => p.target === cards[i]!.device && p.phase === phase).at(-1)!;
        expect(last.bytes).toBe(last.total);
      }
    }
    // The card now has the image's partition table.
    expect(execFileSync('sfdisk', ['-d', cards[0]!.device], { encoding: 'utf8' })).toMatch(/start=\s*8192, size=\s*81920, type=c/);
  });

  it('writes in the planned order: partition table area first, stale zeros, data, partition table last', async () => {
    const card = loop(64 * MiB);
    // A used card: junk in the first 6 MiB (table area, head, FATs) and in the last MiB.
    fillRandom(card.backingFile, 0, 6 * MiB);
    fillRandom(card.backingFile, 63 * MiB, MiB);
    const writes: { offset: number; length: number; zeros: boolean }[] = [];
    class RecordingBlockDevice extends CardDevice {
      override async write(buffer: Buffer, bufferOffset: number, length: number, fileOffset: number) {
        writes.push({ offset: fileOffset, length, zeros: buffer.subarray(bufferOffset, bufferOffset + length).every((b) => b === 0) });
        return super.write(buffer, bufferOffset, length, fileOffset);
      }
    }
    const [result] = await runWrite(
      { image, targets: [card.device], verify: true, includeLoop: true },
      {
        deps: {
          openDevice: (drive, options) => new RecordingBlockDevice(drive, options),
        },
      },
    );
    expect(result!.ok, result!.error?.message).toBe(true);
    expect(writes[0]).toEqual({ offset: 0, length: TABLE_WIPE_BYTES, zeros: true });
    // Then only zeros (the head, the unused FAT sectors, the tail), then only data.
    const firstData = writes.findIndex((w) => !w.zeros);
    expect(firstData).toBeGreaterThan(1);
    expect(writes.slice(1, firstData).some((w) => w.offset >= 63 * MiB)).toBe(true);
    expect(writes.slice(1, firstData).some((w) => w.offset > TABLE_WIPE_BYTES && w.offset < 4 * MiB)).toBe(true);
    expect(writes.slice(1, firstData).some((w) => w.offset > 4 * MiB && w.offset < 6 * MiB)).toBe(true);
    expect(writes.slice(firstData).every((w) => !w.zeros)).toBe(true);
    expect(writes.at(-1)).toMatchObject({ offset: 0, length: 512 });
    expect(writes.slice(firstData, -1).every((w) => w.offset >= 4 * MiB)).toBe(true);
    expect(readFileRange(card.backingFile, 0, image.size).equals(expected)).toBe(true);
    expect(readFileRange(card.backingFile, 63 * MiB, MiB).every((b) => b === 0)).toBe(true);
  });

  it('on an all-zero card writes little more than the data: zero blocks are read, not rewritten', async () => {
    const card = loop(64 * MiB);
    const before = sectorsWritten(card.device);
    const [result] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true });
    expect(result!.ok, result!.error?.message).toBe(true);
    const written = (sectorsWritten(card.device) - before) * 512;
    // Measured by the kernel, not by bootcard: the data ranges plus the 17 KiB partition table area.
    expect(written).toBeGreaterThanOrEqual(dataBytes(image));
    expect(written).toBeLessThanOrEqual(dataBytes(image) + TABLE_WIPE_BYTES);
    // dd would write the whole 44 MiB image; the 40 MiB FAT32 partition's FATs alone are 0.6 MiB.
    expect(written).toBeLessThan(image.size / 10);
    expect(result!.bytesWritten).toBe(written);
  });

  it('a target too small fails alone while the others succeed', async () => {
    const cards = [loop(64 * MiB), loop(16 * MiB), loop(64 * MiB)];
    const results = await runWrite({ image, targets: cards.map((c) => c.device), verify: true, includeLoop: true });
    expect(results.map((r) => r.ok)).toEqual([true, false, true]);
    expect(results[1]!.error).toMatchObject({ code: 'DRIVE_TOO_SMALL' });
    expect(results[1]!.error!.message).toMatch(/larger card/);
    expect(readFileRange(cards[1]!.backingFile, 0, 16 * MiB).every((b) => b === 0)).toBe(true);
  });

  it('catches corruption between write and verify, for that card only', async () => {
    const cards = [loop(64 * MiB), loop(64 * MiB)];
    const victim = image.ranges[image.ranges.length - 1]!;
    const results = await runWrite(
      { image, targets: cards.map((c) => c.device), verify: true, includeLoop: true },
      {
        hooks: {
          afterWrite: (target) => {
            if (target !== cards[1]!.device) return;
            const fd = openSync(cards[1]!.backingFile, 'r+');
            writeSync(fd, Buffer.from('bit rot'), 0, 7, victim.offset + 100);
            closeSync(fd);
          },
        },
      },
    );
    expect(results[0]).toMatchObject({ ok: true, verified: true });
    expect(results[1]).toMatchObject({ ok: false, verified: false, error: { code: 'WRITE_VERIFY_FAILED' } });
    expect(results[1]!.error!.message).toContain(`at byte ${victim.offset}`);
  });

  it('catches stale bytes that appear in a zero range between write and verify', async () => {
    const card = loop(64 * MiB);
    // The second FAT's unused tail: a must-be-zero range the writer only read.
    const zero = image.zeroRanges!.at(-1)!;
    const [result] = await runWrite(
      { image, targets: [card.device], verify: true, includeLoop: true },
      {
        hooks: {
          afterWrite: () => {
            const fd = openSync(card.backingFile, 'r+');
            writeSync(fd, Buffer.from([0xff, 0xff, 0xff, 0x0f]), 0, 4, zero.offset + zero.length - 512);
            closeSync(fd);
          },
        },
      },
    );
    expect(result).toMatchObject({ ok: false, verified: false, error: { code: 'WRITE_VERIFY_FAILED' } });
    expect(result!.error!.details).toMatchObject({ offset: zero.offset, length: zero.length });
  });

  it('a card that goes away mid-write (its loop device shrunk to nothing) gives a clear error', async () => {
    const cards = [loop(64 * MiB), loop(64 * MiB)];
    let removed = false;
    const results = await runWrite({
      image,
      targets: cards.map((c) => c.device),
      verify: true,
      includeLoop: true,
      onProgress: (p) => {
        if (!removed && p.target === cards[1]!.device && p.phase === 'write') {
          removed = true;
          // `losetup -d` waits for the writer's open handle (the kernel detaches a busy loop device on its last close),
          // so the card is taken away the way an emptied reader slot looks: no media, size 0.
          truncateSync(cards[1]!.backingFile, 0);
          execFileSync('losetup', ['-c', cards[1]!.device]);
        }
      },
    });
    expect(removed).toBe(true);
    expect(results[0]!.ok).toBe(true);
    expect(results[1]).toMatchObject({ ok: false, error: { code: 'WRITE_DEVICE_VANISHED' } });
    expect(results[1]!.error!.message).toMatch(/went away while it was being written.*write it again/);
  });

  it('a used card (junk over the table area and FATs, then a GPT) ends with only the new MBR and a clean file system', async () => {
    const card = loop(64 * MiB);
    const partitionOffset = 4 * MiB;
    const fat = (image as SparseImage & { fat: { geometry: { dataStartSector: number } } }).fat;
    const dataAt = partitionOffset + fat.geometry.dataStartSector * 512;
    // Random bytes over the head, both FATs and the first MiB of clusters, as an old card's FATs would hold chains.
    fillRandom(card.backingFile, 0, dataAt + MiB);
    execFileSync('sfdisk', ['--quiet', card.device], { input: 'label: gpt\n,20MiB,L\n,,L\n' });
    expect(execFileSync('blkid', ['-p', '-o', 'export', card.device], { encoding: 'utf8' })).toMatch(/PTTYPE=gpt/);
    // The backup GPT header sits in the last sector.
    expect(readFileRange(card.backingFile, 64 * MiB - 512, 8).toString('latin1')).toBe('EFI PART');
    const [result] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true });
    expect(result!.ok, result!.error?.message).toBe(true);
    expect(readFileRange(card.backingFile, 0, image.size).equals(expected)).toBe(true);
    const dump = execFileSync('sfdisk', ['-d', card.device], { encoding: 'utf8' });
    expect(dump).toMatch(/label: dos/);
    expect(dump.match(/^\/dev\/\S+ :/gm)).toHaveLength(1);
    expect(dump).toMatch(/type=c/);
    const probe = execFileSync('blkid', ['-p', '-o', 'export', card.device], { encoding: 'utf8' });
    expect(probe).toMatch(/PTTYPE=dos/);
    expect(probe).not.toMatch(/gpt/i);
    // The backup GPT header in the last sector is gone.
    expect(readFileRange(card.backingFile, 64 * MiB - MiB, MiB).every((b) => b === 0)).toBe(true);
    // fsck.fat finds nothing to fix, and mtools reads every file back.
    const part = execFileSync('losetup', ['-f', '--show', '-o', String(partitionOffset), '--sizelimit', String(40 * MiB), card.backingFile], { encoding: 'utf8' }).trim();
    try {
      const fsck = fsckFat(part);
      expect(fsck.findings, fsck.output).toEqual([]);
      expect(fsck.code, fsck.output).toBe(0);
    } finally {
      execFileSync('losetup', ['-d', part]);
    }
    const files = mcopyAll(card.device, partitionOffset, path.join(dir, 'stale-out'));
    expect([...files.keys()].sort()).toEqual(['config.txt', 'overlays/README', 'start4.elf']);
    expect(files.get('start4.elf')!.length).toBe(3 * MiB - 1000);
    expect(files.get('config.txt')!.toString()).toBe('arm_64bit=1\nenable_uart=1\n');
  });

  it('refuses a loop device without includeLoop and never touches it', async () => {
    const card = loop(64 * MiB);
    writeFileSync(path.join(dir, 'marker'), '');
    const [result] = await runWrite({ image, targets: [card.device], verify: true });
    expect(result).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'DRIVE_LOOP' } });
    expect(result!.error!.message).toMatch(/--include-loop/);
    expect(readFileRange(card.backingFile, 0, 64 * MiB).every((b) => b === 0)).toBe(true);
  });

  it('writes an image file to a card, and a composed image to an image file', async () => {
    const imgFile = path.join(dir, 'card.img');
    await saveSparseImage(image, imgFile);
    const card = loop(64 * MiB);
    const outFile = path.join(dir, 'copy.img');
    const results = await runWrite({ image: { path: imgFile }, targets: [card.device, outFile], verify: true, includeLoop: true }, { imageFiles: true });
    const fileDigest = createHash('sha256').update(readFileSync(imgFile)).digest('hex');
    expect(results[0]).toMatchObject({ ok: true, kind: 'device', sha256: fileDigest });
    expect(results[1]).toMatchObject({ ok: true, kind: 'file', sha256: fileDigest });
    expect(readFileRange(card.backingFile, 0, image.size).equals(expected)).toBe(true);
    expect(readFileSync(outFile).equals(expected)).toBe(true);
    // Existing files that are not images are never replaced; the source file is never the target.
    const notes = path.join(dir, 'notes.txt');
    writeFileSync(notes, 'keep me');
    const refused = await runWrite({ image: { path: imgFile }, targets: [notes, imgFile], verify: true }, { imageFiles: true });
    expect(refused.map((r) => r.error?.code)).toEqual(['DRIVE_FILE_EXISTS', 'DRIVE_HOLDS_SOURCE']);
    expect(readFileSync(notes, 'utf8')).toBe('keep me');
    // A loop device backed by the image file itself holds the source: refused.
    const backed = execFileSync('losetup', ['-f', '--show', imgFile], { encoding: 'utf8' }).trim();
    loops.push({ device: backed, backingFile: imgFile, detach: () => execFileSync('losetup', ['-d', backed]) });
    const [own] = await runWrite({ image: { path: imgFile }, targets: [backed], verify: true, includeLoop: true });
    expect(own!.error).toMatchObject({ code: 'DRIVE_HOLDS_SOURCE' });
  });

  it('a write interrupted after the wipe leaves a card with no partition table at all, not an old-looking valid one', async () => {
    const card = loop(64 * MiB);
    execFileSync('sfdisk', ['--quiet', card.device], { input: 'label: gpt\n,20MiB,L\n,,L\n' });
    const controller = new AbortController();
    const [result] = await runWrite(
      { image, targets: [card.device], verify: true, includeLoop: true, signal: controller.signal },
      { hooks: { afterHeadWipe: () => controller.abort() } },
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'WRITE_CANCELLED' } });
    // The backup GPT at the end may survive, but without a protective MBR no tool takes it.
    const probe = spawnSync('blkid', ['-p', '-o', 'export', card.device], { encoding: 'utf8' });
    expect(probe.stdout).not.toMatch(/PTTYPE/);
    const dump = spawnSync('sfdisk', ['-d', card.device], { encoding: 'utf8' });
    expect(dump.status).not.toBe(0);
    expect(dump.stderr).toMatch(/does not contain a recognized partition table/);
  });

  it('cancels: the result says the card is incomplete', async () => {
    const card = loop(64 * MiB);
    const controller = new AbortController();
    const [result] = await runWrite({
      image,
      targets: [card.device],
      verify: true,
      includeLoop: true,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'WRITE_CANCELLED' } });
    expect(result!.error!.message).toMatch(/incomplete/);
  });
});
