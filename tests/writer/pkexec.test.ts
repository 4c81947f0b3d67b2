/**
 * The privileged child as a user reaches it: `bootcard` runs as the user
 * nobody, and a stand-in pkexec (setuid root, environment cleared,
 * descriptors >= 3 closed on exec, PKEXEC_UID set: stand-in-pkexec.ts) starts
 * the real child as root. What the child writes to a card must be what nobody
 * could read, whatever nobody sends it.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../electron/core/writer/protocol.js';
import { writerChildEntry } from '../../electron/core/writer/spawn-child.io.js';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { MiB, readFileRange } from './card-image.js';
import { exitWithin, startCli, stillRunningAfter } from './cli-process.js';
import { AS_NOBODY, NOBODY, buildStandIns, standInUnavailableReason, type StandIns } from './stand-in-pkexec.js';

const unavailable = standInUnavailableReason();
if (unavailable) console.warn(`[skip] the child through a stand-in pkexec: ${unavailable}`);
const IMAGE_BYTES = 2 * MiB;

interface ChildAnswer {
  readonly code: number | null;
  readonly messages: { type: string; error?: { code: string; message: string }; results?: { ok: boolean; error?: { code: string; message: string; details?: { constraints?: { code: string }[] } } }[] }[];
  readonly stderr: string;
}

/** nobody runs `stand-in /usr/bin/env ENV... node child-main`, the way anyone may call pkexec, and sends these lines. */
function childAsNobody(standIn: string, env: readonly string[], lines: readonly string[]): Promise<ChildAnswer> {
  const entry = writerChildEntry();
  const argv = [...AS_NOBODY, standIn, '/usr/bin/env', ...env, entry.nodePath, ...entry.nodeArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // The answer is complete: now close its input (before, that would mean "the parent went away").
      if (/"type":"(done|fatal)"/.test(out)) child.stdin.end();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, messages: out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) }));
    for (const l of lines) child.stdin.write(l);
  });
}

(unavailable ? describe.skip : describeLoop)('the privileged child through a stand-in pkexec, bootcard run as the user nobody', () => {
  let standIns: StandIns;
  let dir: string;
  let privateDir: string;
  let worldReadable: string;
  let rootOnly: string;
  let nobodysImage: string;
  let nobodysDir: string;
  let loop: LoopDevice;
  let rootOnlyBytes: Buffer;
  let nobodysBytes: Buffer;

  beforeAll(() => {
    standIns = buildStandIns();
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-pkexec-'));
    chmodSync(dir, 0o755);
    // Another user's (root's) 0700 folder with a file anyone could read, were the folder open.
    privateDir = path.join(dir, 'private');
    mkdirSync(privateDir, { mode: 0o700 });
    worldReadable = path.join(privateDir, 'world-readable.img');
    writeFileSync(worldReadable, Buffer.from(pseudoRandomBytes(IMAGE_BYTES, 41)), { mode: 0o644 });
    rootOnlyBytes = Buffer.from(pseudoRandomBytes(IMAGE_BYTES, 42));
    rootOnly = path.join(dir, 'root-only.img');
    writeFileSync(rootOnly, rootOnlyBytes, { mode: 0o600 });
    // nobody's own folder and image.
    nobodysDir = path.join(dir, 'nobody');
    mkdirSync(nobodysDir, { mode: 0o755 });
    nobodysBytes = Buffer.from(pseudoRandomBytes(IMAGE_BYTES, 43));
    nobodysImage = path.join(nobodysDir, 'mine.img');
    writeFileSync(nobodysImage, nobodysBytes, { mode: 0o644 });
    chownSync(nobodysDir, NOBODY, NOBODY);
    chownSync(nobodysImage, NOBODY, NOBODY);
    loop = attachLoop(8 * MiB, dir);
  });
  afterAll(() => {
    loop?.detach();
    standIns?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const cardStart = () => readFileRange(loop.backingFile, 0, IMAGE_BYTES);
  const flashAsNobody = (image: string, standIn: string, extra: readonly string[] = []) =>
    startCli(['flash', image, '--to', loop.device, '--include-loop', '--yes', ...extra], {
      prefix: AS_NOBODY,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', BOOTCARD_PKEXEC: standIn },
    });
  async function finished(cli: ReturnType<typeof startCli>) {
    const end = await exitWithin(cli, 60_000);
    if (end === 'timeout') throw new Error('bootcard flash did not finish within 60 s');
    expect(await stillRunningAfter(cli.writerChildren, 10_000)).toEqual([]);
    return end;
  }

  it('a world-readable file in another user’s 0700 folder: bootcard cannot open it, says so, and nothing is written; sent by name to the child, it is refused', async () => {
    const before = sectorsWritten(loop.device);
    const end = await finished(flashAsNobody(worldReadable, standIns.rootexec));
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/permission denied|no permission/i);
    expect(end.stderr).toMatch(/world-readable\.img/);
    // A hostile user skips bootcard and asks the child (as pkexec starts it) to read the file itself.
    const asked = await childAsNobody(standIns.pkexec, [], [
      encodeMessage({ type: 'write', image: { kind: 'file', path: worldReadable }, targets: [loop.device], verify: true, includeLoop: true, allowNonCard: false, lockAfterVerify: false } as never),
    ]);
    expect(asked.messages[0]).toMatchObject({ type: 'ready', uid: 0 });
    expect(asked.messages.at(-1)).toMatchObject({ type: 'fatal', error: { code: 'INVALID_REQUEST' } });
    expect(sectorsWritten(loop.device)).toBe(before);
  }, 120_000);

  it('a symlink swapped between a file of nobody’s and a root-only 0600 file while bootcard runs never puts the root-only file on the card', async () => {
    const link = path.join(nobodysDir, 'image.img');
    const spare = path.join(nobodysDir, 'image.img.next');
    let toRootOnly = false;
    const swap = () => {
      toRootOnly = !toRootOnly;
      rmSync(spare, { force: true });
      symlinkSync(toRootOnly ? rootOnly : nobodysImage, spare);
      renameSync(spare, link);
    };
    swap();
    const swapper = setInterval(swap, 1);
    const outcomes: string[] = [];
    try {
      for (let run = 0; run < 6; run++) {
        const end = await finished(flashAsNobody(link, standIns.rootexec));
        const card = cardStart();
        expect(card.equals(rootOnlyBytes), `run ${run}: the root-only file is on the card`).toBe(false);
        if (end.code === 0) expect(card.equals(nobodysBytes), `run ${run}`).toBe(true);
        else expect(end.stderr, `run ${run}`).toMatch(/permission|nothing was written|not an image|became shorter/i);
        outcomes.push(end.code === 0 ? 'written (nobody’s image)' : 'refused');
      }
    } finally {
      clearInterval(swapper);
    }
    console.log(`[pkexec] symlink swap: ${outcomes.join(', ')}`);
  }, 300_000);

  it('loop devices are refused through pkexec, before anything is written: by bootcard before the password prompt, and by the child when asked directly', async () => {
    const before = sectorsWritten(loop.device);
    const cli = flashAsNobody(nobodysImage, standIns.pkexec);
    const end = await finished(cli);
    expect(end.code).toBe(1);
    expect(end.stderr).toMatch(/loop devices .* not write them for a user/);
    expect(cli.writerChildren.size).toBe(0);
    const sparse = { kind: 'sparse', size: 4096, ranges: [{ offset: 0, data: Buffer.alloc(512, 7).toString('base64') }] };
    const asked = await childAsNobody(standIns.pkexec, [], [
      encodeMessage({ type: 'write', image: sparse, targets: [loop.device], verify: true, includeLoop: true, allowNonCard: false, lockAfterVerify: false } as never),
    ]);
    expect(asked.messages.at(-1)).toMatchObject({ type: 'fatal', error: { code: 'WRITE_REFUSED', message: expect.stringMatching(/loop devices .* not write them for a user/) } });
    expect(sectorsWritten(loop.device)).toBe(before);
  }, 120_000);

  it('BOOTCARD_* overrides sent through pkexec are ignored by the child (a fake mount table calling the card the system disk changes nothing)', async () => {
    const fake = path.join(dir, 'fake-mountinfo');
    const devNumber = readFileSync(`/sys/block/${path.basename(loop.device)}/dev`, 'utf8').trim();
    writeFileSync(fake, `22 1 0:21 / /proc rw,relatime - proc proc rw\n29 1 ${devNumber} / / rw,relatime - ext4 ${loop.device} rw\n`, { mode: 0o644 });
    const overrides = [`BOOTCARD_MOUNTINFO=${fake}`, 'BOOTCARD_TEST_ANYTHING=1'];
    const sparse = { kind: 'sparse', size: 4096, ranges: [{ offset: 0, data: Buffer.alloc(512, 7).toString('base64') }] };
    const message = encodeMessage({ type: 'write', image: sparse, targets: [loop.device], verify: true, includeLoop: false, allowNonCard: true, lockAfterVerify: false } as never);
    const codesOf = (answer: ChildAnswer) => (answer.messages.at(-1)?.results?.[0]?.error?.details?.constraints ?? []).map((c) => c.code);

    // Control: a child that honours them (started as root without PKEXEC_UID) sees the card as the system disk.
    const honoured = await childAsNobody(standIns.rootexec, overrides, [message]);
    expect(honoured.messages.at(-1), honoured.stderr).toMatchObject({ type: 'done', results: [{ ok: false }] });
    expect(codesOf(honoured)).toContain('DRIVE_SYSTEM');

    const before = sectorsWritten(loop.device);
    const throughPkexec = await childAsNobody(standIns.pkexec, overrides, [message]);
    expect(throughPkexec.messages.at(-1), throughPkexec.stderr).toMatchObject({ type: 'done', results: [{ ok: false }] });
    // It read the real sysfs and mount table: a loop device (refused, it is not a card), not the system disk.
    expect(codesOf(throughPkexec)).toContain('DRIVE_LOOP');
    expect(codesOf(throughPkexec)).not.toContain('DRIVE_SYSTEM');
    expect(sectorsWritten(loop.device)).toBe(before);
  }, 120_000);
});
