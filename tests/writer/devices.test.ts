/**
 * The writer writes block devices only, exactly the one it checked, and only
 * cards it can have to itself: on real loop devices, with real mounts and real
 * processes in the way.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeTarget } from '../../electron/core/drives/enumerate.io.js';
import { parseMountinfo } from '../../electron/core/drives/mountinfo.js';
import type { Drive } from '../../electron/core/drives/types.js';
import { openCardHandle } from '../../electron/core/writer/card-device.io.js';
import { runWriterChild } from '../../electron/core/writer/child.io.js';
import { runWrite } from '../../electron/core/writer/engine.io.js';
import { encodeMessage, imageToWire } from '../../electron/core/writer/protocol.js';
import { writeImageToDrives } from '../../electron/core/writer/writer.io.js';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { wireTransport } from '../helpers/wire.js';
import { MiB, readFileRange, rendered, testCardImage } from './card-image.js';

const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
/**
 * The bytes of a mounted card outside its file system: the partition table area and the last MiB, where
 * bootcard's first writes go. (The mounted file system itself may write while mounted, so neither the whole
 * file nor the disk's sector count can show that bootcard wrote nothing.)
 */
const outsideFileSystem = (file: string) =>
  createHash('sha256').update(readFileRange(file, 0, MiB)).update(readFileRange(file, 63 * MiB, MiB)).digest('hex');
const mountpoints = () => parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => m.mountpoint);
const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

async function waitFor(what: string, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A card's file system as the kernel here can mount it: FAT where it has vfat, else ext4. */
const cardFs = readFileSync('/proc/filesystems', 'utf8').includes('\tvfat')
  ? { type: 'vfat', mkfs: ['mkfs.fat', '-n', 'OLDCARD'] }
  : { type: 'ext4', mkfs: ['mkfs.ext4', '-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0'] };

async function describeDrive(device: string): Promise<Drive> {
  const found = await describeTarget(device);
  if (found.kind !== 'drive') throw new Error(`${device} is ${found.kind}`);
  return found.drive;
}

describeLoop('the writer and the devices it writes', () => {
  let dir: string;
  let image: ReturnType<typeof testCardImage>;
  let loops: LoopDevice[] = [];
  let mounted: string[] = [];
  let processes: ChildProcess[] = [];
  let links: string[] = [];

  const loop = (size = 64 * MiB) => {
    const l = attachLoop(size, dir);
    loops.push(l);
    return l;
  };

  /** A used card: an MBR with one partition (where the kernel parses no tables itself, partx adds it), formatted and mounted. */
  const mountedCard = async (name: string) => {
    const card = loop();
    // (sfdisk's "re-reading the partition table failed" on such a kernel is expected.)
    execFileSync('sfdisk', ['--quiet', card.device], { input: 'label: dos\nstart=2048, size=40960, type=c\n', stdio: ['pipe', 'ignore', 'ignore'] });
    const partition = `${card.device}p1`;
    if (!existsSync(partition)) execFileSync('partx', ['-a', card.device]);
    await waitFor(`${partition} to appear`, () => existsSync(partition));
    execFileSync(cardFs.mkfs[0]!, [...cardFs.mkfs.slice(1), partition], { stdio: 'ignore' });
    const mountpoint = path.join(dir, name);
    mkdirSync(mountpoint, { recursive: true });
    execFileSync('mount', ['-t', cardFs.type, '-o', 'noatime', partition, mountpoint]);
    mounted.push(mountpoint);
    writeFileSync(path.join(mountpoint, 'notes.txt'), 'an old card\n');
    execFileSync('sync');
    return { card, partition, mountpoint };
  };

  const link = (to: string) => {
    const name = path.join('/dev/shm', `bootcard-test-${process.pid}-${Math.random().toString(36).slice(2)}`);
    symlinkSync(to, name);
    links.push(name);
    return name;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-devices-'));
    image = testCardImage(1);
  });
  afterEach(async () => {
    for (const p of processes) p.kill('SIGKILL');
    await Promise.all(processes.map(exited));
    processes = [];
    for (const m of mounted.reverse()) if (mountpoints().includes(m)) execFileSync('umount', [m]);
    mounted = [];
    for (const l of loops) l.detach();
    loops = [];
    for (const l of links) rmSync(l, { force: true });
    links = [];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a card mounted with programs working in it is refused at once with DRIVE_BUSY naming the mount point and the programs; it stays mounted and nothing is written', async () => {
    const { card, mountpoint } = await mountedCard('busy');
    // One program has a file open on the card, another works in a folder on it.
    const fd = openSync(path.join(mountpoint, 'notes.txt'), 'r');
    const reader = spawn('sleep', ['600'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
    closeSync(fd);
    const shell = spawn('sleep', ['601'], { cwd: mountpoint, stdio: 'ignore' });
    processes.push(reader, shell);
    await Promise.all([reader, shell].map((p) => new Promise((r) => p.once('spawn', r))));
    const before = outsideFileSystem(card.backingFile);

    const [result] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true });

    expect(result).toMatchObject({ ok: false, bytesWritten: 0, device: card.device, error: { code: 'DRIVE_BUSY' } });
    const message = result!.error!.message;
    expect(message).toContain(mountpoint);
    expect(message).toMatch(/still mounted/);
    expect(message).toContain(`pid ${reader.pid} (sleep, has ${path.join(mountpoint, 'notes.txt')} open)`);
    expect(message).toContain(`pid ${shell.pid} (sleep, works in ${mountpoint})`);
    expect(mountpoints()).toContain(mountpoint);
    expect(readFileSync(path.join(mountpoint, 'notes.txt'), 'utf8')).toBe('an old card\n');
    expect(outsideFileSystem(card.backingFile)).toBe(before);
  }, 60_000);

  it('a card mounted in a folder other users can change is not unmounted as root: DRIVE_BUSY saying so, still mounted, nothing written', async () => {
    // Whoever may write that folder could swap it for a link to /home between the check and umount's lookup.
    mkdirSync(path.join(dir, 'anyone'), { mode: 0o777 });
    chmodSync(path.join(dir, 'anyone'), 0o777);
    const { card, mountpoint } = await mountedCard('anyone/card');
    const before = outsideFileSystem(card.backingFile);
    const [result] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true });
    expect(result).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'DRIVE_BUSY' } });
    expect(result!.error!.message).toContain(`it is in ${path.join(dir, 'anyone')}, which users other than root can change`);
    expect(result!.error!.message).toContain(`umount ${mountpoint}`);
    expect(mountpoints()).toContain(mountpoint);
    expect(outsideFileSystem(card.backingFile)).toBe(before);
  }, 60_000);

  it('something else mounted over the card\'s mount point: DRIVE_BUSY saying so, and both stay mounted', async () => {
    const { card, mountpoint } = await mountedCard('covered');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'bootcard-test-cover', mountpoint]);
    mounted.push(mountpoint);
    const before = outsideFileSystem(card.backingFile);
    const [result] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true });
    expect(result).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'DRIVE_BUSY' } });
    expect(result!.error!.message).toContain('another file system (bootcard-test-cover, tmpfs) is mounted over it');
    expect(mountpoints().filter((m) => m === mountpoint)).toHaveLength(2);
    expect(outsideFileSystem(card.backingFile)).toBe(before);
  }, 60_000);

  it('an idle mounted card is unmounted (only its own mounts) and written; a mounted neighbour stays mounted and untouched', async () => {
    const neighbour = await mountedCard('neighbour');
    const { card, mountpoint } = await mountedCard('idle');
    const neighbourBytes = outsideFileSystem(neighbour.card.backingFile);

    const [result] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true });

    expect(result, result?.error?.message).toMatchObject({ ok: true, verified: true, device: card.device });
    expect(mountpoints()).not.toContain(mountpoint);
    // Every byte of the image's data is on the card (its free clusters may keep the old card's bytes, as on any used card).
    for (const range of image.ranges) expect(readFileRange(card.backingFile, range.offset, range.data.length).equals(Buffer.from(range.data))).toBe(true);
    expect(mountpoints()).toContain(neighbour.mountpoint);
    expect(readFileSync(path.join(neighbour.mountpoint, 'notes.txt'), 'utf8')).toBe('an old card\n');
    expect(outsideFileSystem(neighbour.card.backingFile)).toBe(neighbourBytes);
  }, 60_000);

  it('a second writer on the same card at the same time is refused as in use by another program; the first one finishes and verifies', async () => {
    const card = loop();
    let second: Awaited<ReturnType<typeof runWrite>> | undefined;
    const [first] = await runWrite(
      { image, targets: [card.device], verify: true, includeLoop: true },
      {
        hooks: {
          // The first writer has just started (table area wiped) and holds the card until it has verified it.
          afterHeadWipe: async () => {
            second = await runWrite({ image: testCardImage(1), targets: [card.device], verify: true, includeLoop: true });
          },
          afterWrite: async () => {
            // Between write and verify, too.
            const [again] = await runWrite({ image: testCardImage(1), targets: [card.device], verify: true, includeLoop: true });
            expect(again).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'WRITE_DEVICE_BUSY' } });
          },
        },
      },
    );
    expect(second?.[0]).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'WRITE_DEVICE_BUSY' } });
    expect(second![0]!.error!.message).toMatch(/in use by another program.*pid \d+ \(.*has \/dev\/loop\d+ open\)/);
    expect(second![0]!.error!.message).not.toMatch(/faulty/);
    expect(first, first?.error?.message).toMatchObject({ ok: true, verified: true });
    expect(readFileRange(card.backingFile, 0, image.size).equals(rendered(image))).toBe(true);
  }, 60_000);

  it('through the real privileged child (a second bootcard process): a card another writer holds is refused as in use, a busy mounted card as DRIVE_BUSY', async () => {
    const card = loop();
    let second: Awaited<ReturnType<typeof writeImageToDrives>> | undefined;
    const [first] = await runWrite(
      { image, targets: [card.device], verify: true, includeLoop: true },
      { hooks: { afterHeadWipe: async () => void (second = await writeImageToDrives({ image: testCardImage(1), targets: [card.device], verify: true, includeLoop: true })) } },
    );
    expect(second?.[0]).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'WRITE_DEVICE_BUSY', message: expect.stringMatching(/in use by another program/) } });
    expect(first, first?.error?.message).toMatchObject({ ok: true, verified: true });

    const busy = await mountedCard('busy-child');
    const worker = spawn('sleep', ['602'], { cwd: busy.mountpoint, stdio: 'ignore' });
    processes.push(worker);
    await new Promise((r) => worker.once('spawn', r));
    const before = outsideFileSystem(busy.card.backingFile);
    const [refused] = await writeImageToDrives({ image, targets: [busy.card.device], verify: true, includeLoop: true });
    expect(refused).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'DRIVE_BUSY', message: expect.stringContaining(`pid ${worker.pid} (sleep, works in ${busy.mountpoint})`) } });
    expect(mountpoints()).toContain(busy.mountpoint);
    expect(outsideFileSystem(busy.card.backingFile)).toBe(before);
  }, 90_000);

  it('a card another program holds exclusively: the open gives up after a few seconds naming it, and Cancel ends the wait', async () => {
    const card = loop();
    const holder = spawn(process.execPath, ['-e', `require('fs').openSync(${JSON.stringify(card.device)}, require('fs').constants.O_RDONLY | require('fs').constants.O_EXCL); console.log('held'); setInterval(() => {}, 1e6);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    processes.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const sectors = sectorsWritten(card.device);

    const [busy] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true });
    expect(busy).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'WRITE_DEVICE_BUSY' } });
    expect(busy!.error!.message).toContain(`pid ${holder.pid} (node`);

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const [cancelled] = await runWrite({ image, targets: [card.device], verify: true, includeLoop: true, signal: controller.signal });
    expect(cancelled).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'WRITE_CANCELLED' } });
    expect(sectorsWritten(card.device)).toBe(sectors);
  }, 60_000);

  it('a link to a regular file is refused by the privileged writer and the file is byte-identical after', async () => {
    const victim = path.join(dir, 'disk.img');
    writeFileSync(victim, Buffer.alloc(2 * MiB, 0x5a), { mode: 0o600 });
    const before = digest(victim);
    const target = link(victim);

    // What the privileged child runs: runWrite without image files.
    const [result] = await runWrite({ image, targets: [target], verify: true, includeLoop: true });

    expect(result).toMatchObject({ ok: false, bytesWritten: 0, error: { code: 'WRITE_REFUSED' } });
    expect(result!.error!.message).toContain(`${target} leads to ${victim}`);
    expect(digest(victim)).toBe(before);
  });

  it('the privileged child (its message loop, as root) refuses a link to a file and leaves the file byte-identical', async () => {
    const victim = path.join(dir, 'root-disk.img');
    writeFileSync(victim, Buffer.alloc(MiB, 0x6b), { mode: 0o600 });
    const before = digest(victim);
    const target = link(victim);
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    const finished = new Promise<void>((resolve) =>
      output.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (/"type":"(done|fatal)"/.test(text)) resolve();
      }),
    );
    const running = runWriterChild(input, output);
    input.write(encodeMessage({ type: 'write', image: imageToWire(image), targets: [target], verify: true, includeLoop: true, allowNonCard: false, lockAfterVerify: false }));
    await finished;
    input.end();
    await running;
    const done = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; results?: { ok: boolean; bytesWritten: number; error?: { code: string } }[] }).find((m) => m.type === 'done');
    expect(done?.results).toMatchObject([{ ok: false, bytesWritten: 0, error: { code: 'WRITE_REFUSED' } }]);
    expect(digest(victim)).toBe(before);
  });

  it('the wizard writes devices only: a link to a file, a file and a partition are refused before anything is written', async () => {
    const victim = path.join(dir, 'wizard.img');
    writeFileSync(victim, Buffer.alloc(MiB, 0x33));
    const before = digest(victim);
    const client = createClient(wireTransport(createHandlers({ frontEnd: 'serve', includeLoop: true, cwd: dir })));
    const recipe = { kind: 'eeprom-recovery', board: '2711', firmwarePath: dir, config: '[all]\nBOOT_ORDER=0xf1\n' } as const;
    const { partition } = await mountedCard('wizard');
    const plainFile = link(victim);
    unlinkSync(plainFile);
    writeFileSync(plainFile, Buffer.alloc(MiB, 0x44));
    for (const [target, code] of [
      [link(victim), 'DRIVE_NOT_A_DRIVE'],
      [plainFile, 'DRIVE_NOT_A_DRIVE'],
      [partition, 'DRIVE_IS_PARTITION'],
    ] as const) {
      const error = await client.call('card.write', { recipe, targets: [target], verify: true }).then(
        () => undefined,
        (e: { code: string; message: string }) => e,
      );
      expect(error, target).toMatchObject({ code });
    }
    expect(digest(victim)).toBe(before);
    expect(readFileSync(plainFile).every((b) => b === 0x44)).toBe(true);
  });

  it('one card named twice (its name and a link to it) is one target: refused before anything is written', async () => {
    const card = loop();
    const sectors = sectorsWritten(card.device);
    const alias = link(card.device);
    await expect(runWrite({ image, targets: [card.device, alias], verify: true, includeLoop: true })).rejects.toMatchObject({
      code: 'WRITE_BAD_REQUEST',
      message: expect.stringContaining(`${card.device} and ${alias} are the same card (${card.device})`),
    });
    expect(sectorsWritten(card.device)).toBe(sectors);
  });

  it('a link is followed once: re-pointed at a file after the check, the checked card is written and the file is untouched', async () => {
    const card = loop();
    const victim = path.join(dir, 'swapped.img');
    writeFileSync(victim, Buffer.alloc(MiB, 0x77));
    const before = digest(victim);
    const target = link(card.device);
    const seen: string[] = [];
    const [result] = await runWrite(
      { image, targets: [target], verify: true, includeLoop: true },
      {
        deps: {
          describeTarget: async (t) => {
            seen.push(t);
            const found = await describeTarget(t);
            if (t === target) {
              // The attacker's swap, right after bootcard looked.
              unlinkSync(target);
              symlinkSync(victim, target);
            }
            return found;
          },
        },
      },
    );
    expect(result, result?.error?.message).toMatchObject({ ok: true, verified: true, target, device: card.device });
    expect(seen.filter((t) => t === target)).toHaveLength(1);
    expect(digest(victim)).toBe(before);
    expect(readFileRange(card.backingFile, 0, image.size).equals(rendered(image))).toBe(true);
  });

  it('the opened handle must be the checked device: a link as the node, or another device behind the name, is refused', async () => {
    const [card, other] = [loop(), loop()];
    const drive = await describeDrive(card.device);
    const sectors = { card: sectorsWritten(card.device), other: sectorsWritten(other.device) };
    const { constants } = await import('node:fs');
    const flags = constants.O_RDWR | constants.O_EXCL;
    await expect(openCardHandle({ ...drive, device: link(card.device) }, flags)).rejects.toMatchObject({ code: 'DRIVE_NOT_A_DRIVE', message: expect.stringMatching(/symbolic link/) });
    const otherNumber = (await describeDrive(other.device)).deviceNumbers[0]!;
    await expect(openCardHandle({ ...drive, deviceNumbers: [otherNumber] }, flags)).rejects.toMatchObject({
      code: 'DRIVE_NOT_A_DRIVE',
      message: expect.stringContaining(`instead of ${otherNumber}`),
    });
    // The engine never gets a handle for such a target, so nothing is written.
    const [result] = await runWrite(
      { image, targets: [card.device], verify: true, includeLoop: true },
      { deps: { describeTarget: async () => ({ kind: 'drive', drive: { ...drive, deviceNumbers: [otherNumber] } }) } },
    );
    expect(result).toMatchObject({ ok: false, bytesWritten: 0 });
    expect(sectorsWritten(card.device)).toBe(sectors.card);
    expect(sectorsWritten(other.device)).toBe(sectors.other);
  });
});
