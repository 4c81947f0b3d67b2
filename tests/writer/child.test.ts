import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runWriterChild } from '../../electron/core/writer/child.io.js';
import type { runWrite } from '../../electron/core/writer/engine.io.js';
import { writerChildEntry } from '../../electron/core/writer/spawn-child.io.js';
import { childCommand, overridesToIgnore, pkexecExitError } from '../../electron/core/writer/privilege.js';
import { encodeMessage } from '../../electron/core/writer/protocol.js';
import type { WriteProgress } from '../../electron/core/writer/progress.js';
import { writeImageToDrives } from '../../electron/core/writer/writer.io.js';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { MiB, readFileRange, rendered, testCardImage } from './card-image.js';
import { descendantsOf, isWriterChild, stillRunningAfter } from './cli-process.js';

async function talkToChild(lines: string[]): Promise<{ code: number; messages: { type: string; error?: { code: string; message: string } }[] }> {
  return talkToChildAs(undefined, lines);
}

async function talkToChildAs(uid: number | undefined, lines: string[]): Promise<{ code: number; messages: { type: string; error?: { code: string; message: string } }[] }> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (c: Buffer) => (text += c.toString()));
  const running = runWriterChild(input, output, uid === undefined ? {} : { onBehalfOfUid: uid });
  for (const l of lines) input.write(l);
  // Closing the child's input means "the parent went away" (a cancel), so it stays open until the child answered.
  const code = await running;
  input.end();
  return { code, messages: text.trim().split('\n').map((l) => JSON.parse(l)) };
}

describe('the writer child trusts nothing it is sent', () => {
  const write = { type: 'write', image: { kind: 'stream', size: 4096 }, targets: ['/dev/sdz'], verify: true, includeLoop: false, allowNonCard: false, lockAfterVerify: false };

  it('rejects a relative path, an unknown field, a bad type and non-JSON, before doing anything', async () => {
    for (const bad of [
      JSON.stringify({ ...write, targets: ['sdz'] }),
      JSON.stringify({ ...write, force: true }),
      JSON.stringify({ ...write, verify: 'yes' }),
      JSON.stringify({ ...write, image: { kind: 'sparse', size: 1024, ranges: [{ offset: 0, data: 'not base64!' }] } }),
      'write /dev/sda please',
      // The child opens no path it is sent: an image file by name is not part of the protocol.
      JSON.stringify({ ...write, image: { kind: 'file', path: '/etc/shadow' } }),
      JSON.stringify({ ...write, image: { kind: 'stream', size: 4096, sourcePath: 'relative.img' } }),
      // Image bytes nobody asked for.
      JSON.stringify({ type: 'data', id: 7, length: 1 }),
    ]) {
      const { code, messages } = await talkToChild([`${bad}\n`]);
      expect(code).toBe(2);
      expect(messages[0]).toMatchObject({ type: 'ready' });
      expect(messages[1]).toMatchObject({ type: 'fatal', error: { code: expect.stringMatching(/INVALID_REQUEST/) } });
    }
  });

  it('started through pkexec, refuses loop devices and writes no files', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-onbehalf-'));
    try {
      const loop = await talkToChildAs(65534, [encodeMessage({ ...write, includeLoop: true, targets: ['/dev/loop0'] } as never)]);
      expect(loop.messages.at(-1)).toMatchObject({ type: 'fatal', error: { code: 'WRITE_REFUSED', message: expect.stringMatching(/loop devices.*not write them for a user/) } });
      const sparse = { kind: 'sparse', size: 4096, ranges: [{ offset: 0, data: Buffer.alloc(512, 1).toString('base64') }] };
      const out = path.join(dir, 'out.img');
      const second = await talkToChildAs(65534, [encodeMessage({ ...write, image: sparse, targets: [out] } as never)]);
      expect(second.messages.at(-1)).toMatchObject({ type: 'done', results: [{ ok: false, error: { code: 'WRITE_REFUSED' } }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks the sparse image invariants itself', async () => {
    const overlapping = { ...write, image: { kind: 'sparse', size: 4096, ranges: [{ offset: 512, data: Buffer.alloc(1024).toString('base64') }, { offset: 1024, data: Buffer.alloc(512).toString('base64') }] } };
    const { messages } = await talkToChild([encodeMessage(overlapping as never)]);
    expect(messages.at(-1)).toMatchObject({ type: 'fatal', error: { code: 'IMAGE_INVALID_SPARSE' } });
  });
});

describe('privilege', () => {
  it('runs node directly as root, and through pkexec + env otherwise', () => {
    const base = { nodePath: '/usr/bin/node', nodeArgs: ['/app/child-main.io.js'], pkexec: 'pkexec', env: { BOOTCARD_SYSFS: '/sys', HOME: '/home/a' } };
    expect(childCommand({ ...base, asRoot: true })).toEqual({ command: '/usr/bin/node', args: ['/app/child-main.io.js'] });
    expect(childCommand({ ...base, asRoot: false, env: { ...base.env, UV_THREADPOOL_SIZE: '6' } })).toEqual({
      command: 'pkexec',
      args: ['/usr/bin/env', 'UV_THREADPOOL_SIZE=6', '/usr/bin/node', '/app/child-main.io.js'],
    });
    expect(pkexecExitError(true, 126, false)?.code).toBe('WRITE_AUTH_CANCELLED');
  });

  it('never hands pkexec a BOOTCARD_* override, however pkexec is spelled (a fake mount table could make the system disk look free)', () => {
    const base = {
      nodePath: '/usr/bin/node',
      nodeArgs: ['/app/child-main.io.js'],
      env: { BOOTCARD_SYSFS: '/tmp/fake-sys', BOOTCARD_MOUNTINFO: '/tmp/fake-mounts', BOOTCARD_SWAPS: '/tmp/s', BOOTCARD_LSBLK_JSON: '/tmp/l', UV_THREADPOOL_SIZE: '6' },
    };
    // The old check compared the name with a list; these passed it.
    for (const pkexec of ['pkexec', '/usr/bin/pkexec', '/usr/bin//pkexec', '/usr/sbin/pkexec', '/tmp/link-to-pkexec', '/tmp/stand-in/pkexec']) {
      expect(childCommand({ ...base, pkexec, asRoot: false }).args).toEqual(['/usr/bin/env', 'UV_THREADPOOL_SIZE=6', '/usr/bin/node', '/app/child-main.io.js']);
    }
    // Nothing else rides along in a forwarded value either.
    expect(childCommand({ ...base, env: { UV_THREADPOOL_SIZE: '4 BOOTCARD_SYSFS=/tmp/x' }, pkexec: 'pkexec', asRoot: false }).args).toEqual(['/usr/bin/env', '/usr/bin/node', '/app/child-main.io.js']);
    expect(pkexecExitError(true, 127, false)?.code).toBe('WRITE_AUTH_FAILED');
    expect(pkexecExitError(true, 127, true)).toBeUndefined();
    expect(pkexecExitError(false, 126, false)).toBeUndefined();
  });

  it('the child drops every BOOTCARD_* variable when it runs through pkexec, and only then', () => {
    const env = { PKEXEC_UID: '1000', BOOTCARD_SYSFS: '/tmp/s', BOOTCARD_MOUNTINFO: '/tmp/m', BOOTCARD_TEST_ANYTHING: '1', BOOTCARD_: '', PATH: '/usr/bin', UV_THREADPOOL_SIZE: '6' };
    expect(overridesToIgnore(env).sort()).toEqual(['BOOTCARD_', 'BOOTCARD_MOUNTINFO', 'BOOTCARD_SYSFS', 'BOOTCARD_TEST_ANYTHING']);
    expect(overridesToIgnore({ ...env, PKEXEC_UID: undefined })).toEqual([]);
  });

  it('says so when pkexec is not installed', async () => {
    const run = writeImageToDrives({ image: testCardImage(1), targets: ['/dev/sdz'], verify: true, privilege: 'pkexec', pkexec: '/nonexistent/pkexec' });
    await expect(run).rejects.toMatchObject({ code: 'WRITE_NO_POLKIT', message: expect.stringMatching(/polkit.*sudo/) });
  });

  it('says so when the password prompt is dismissed (pkexec exit 126)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-pkexec-'));
    try {
      const dismissed = path.join(dir, 'pkexec');
      writeFileSync(dismissed, '#!/bin/sh\n# what pkexec does when the user closes the authentication dialog\nexit 126\n');
      chmodSync(dismissed, 0o755);
      const run = writeImageToDrives({ image: testCardImage(1), targets: ['/dev/sdz'], verify: true, privilege: 'pkexec', pkexec: dismissed });
      await expect(run).rejects.toMatchObject({ code: 'WRITE_AUTH_CANCELLED', message: expect.stringMatching(/cancelled/) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the child always ends, and the parent never waits for it forever', () => {
  const sparseWrite = encodeMessage({
    type: 'write',
    image: { kind: 'sparse', size: 4096, ranges: [{ offset: 0, data: Buffer.alloc(512, 1).toString('base64') }] },
    targets: ['/dev/sdz'],
    verify: true,
    includeLoop: false,
    allowNonCard: false,
    lockAfterVerify: false,
  } as never);

  it('a cancelled write whose engine never returns (an I/O call that hangs) still ends the child at its deadline, every card reported incomplete', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c: Buffer) => (text += c.toString()));
    const hangs: typeof runWrite = () => new Promise(() => undefined);
    const running = runWriterChild(input, output, { write: hangs, cancelDeadlineMs: 300 });
    input.write(sparseWrite);
    input.write(encodeMessage({ type: 'cancel' }));
    expect(await running).toBe(1);
    expect(JSON.parse(text.trim().split('\n').at(-1)!)).toMatchObject({ type: 'fatal', error: { code: 'WRITE_CANCELLED', message: expect.stringMatching(/incomplete.*again/) } });
    input.end();
  });

  it('pulls image bytes by read requests; an answer still on its way after a cancel is read and dropped, not taken for a protocol error', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const messages: { type: string; id?: number; offset?: number; length?: number; error?: { code: string } }[] = [];
    let buffered = '';
    output.on('data', (c: Buffer) => {
      buffered += c.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) messages.push(JSON.parse(l));
    });
    const running = runWriterChild(input, output, {});
    input.write(encodeMessage({ type: 'write', image: { kind: 'stream', size: 8 * MiB }, targets: ['/dev/sdz'], verify: true, includeLoop: false, allowNonCard: false, lockAfterVerify: false }));
    const until = Date.now() + 10_000;
    while (!messages.some((m) => m.type === 'read') && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const read = messages.find((m) => m.type === 'read')!;
    // The checks before writing ask for the image from its first byte.
    expect(read).toMatchObject({ type: 'read', offset: 0 });
    input.write(encodeMessage({ type: 'cancel' }));
    input.write(encodeMessage({ type: 'data', id: read.id!, length: read.length! }));
    input.write(Buffer.alloc(read.length!, 5));
    expect(await running).toBe(1);
    expect(messages.at(-1)).toMatchObject({ type: 'fatal', error: { code: 'WRITE_CANCELLED' } });
    input.end();
  });

  it('a child whose parent died while someone else holds its input open notices (its parent process changed) and exits by itself', async () => {
    const entry = writerChildEntry();
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    // bash starts the child with its stdin from `sleep` (which outlives bash), prints the child's pid, and is then killed.
    const shell = spawn('bash', ['-c', `sleep 120 | ${[entry.nodePath, ...entry.nodeArgs].map(quote).join(' ')} > /dev/null & echo $!; wait`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = Number(await new Promise<string>((resolve) => shell.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()))));
    const holder = descendantsOf(shell.pid!).filter((p) => !isWriterChild(p));
    try {
      // Let the child start, then take its parent away.
      const until = Date.now() + 30_000;
      while (!readFileSync(`/proc/${childPid}/cmdline`, 'utf8').includes('child-main') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 1500));
      shell.kill('SIGKILL');
      expect(await stillRunningAfter([childPid], 15_000)).toEqual([]);
    } finally {
      for (const p of holder) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }, 60_000);

  it('a cancelled child that never answers is given up on, its cards reported incomplete; a second Ctrl-C (stop) gives up at once', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-deaf-child-'));
    try {
      // Stands in for a child that says ready and then neither reads nor answers.
      const deaf = path.join(dir, 'pkexec');
      writeFileSync(deaf, `#!/bin/sh\necho $$ >> '${dir}/pids'\necho '{"type":"ready","pid":1,"uid":0}'\nexec sleep 60\n`);
      chmodSync(deaf, 0o755);
      const cancel = new AbortController();
      const cancelled = writeImageToDrives({ image: testCardImage(1), targets: ['/dev/sdz'], verify: true, privilege: 'pkexec', pkexec: deaf, signal: cancel.signal });
      setTimeout(() => cancel.abort(), 500);
      expect(await cancelled).toEqual([expect.objectContaining({ target: '/dev/sdz', ok: false, error: expect.objectContaining({ code: 'WRITE_CANCELLED', message: expect.stringMatching(/incomplete; write it again/) }) })]);

      const stop = new AbortController();
      const stopped = writeImageToDrives({ image: testCardImage(1), targets: ['/dev/sdz'], verify: true, privilege: 'pkexec', pkexec: deaf, signal: new AbortController().signal, stopSignal: stop.signal });
      setTimeout(() => stop.abort(), 500);
      expect(await stopped).toMatchObject([{ ok: false, error: { code: 'WRITE_CANCELLED', message: expect.stringMatching(/incomplete/) } }]);

      // One that never got as far as ready (a password prompt, say): nothing can have been written, and that is what it says.
      const silent = path.join(dir, 'pkexec-prompt');
      writeFileSync(silent, `#!/bin/sh\necho $$ >> '${dir}/pids'\nexec sleep 60\n`);
      chmodSync(silent, 0o755);
      const atPrompt = new AbortController();
      const prompt = writeImageToDrives({ image: testCardImage(1), targets: ['/dev/sdz'], verify: true, privilege: 'pkexec', pkexec: silent, stopSignal: atPrompt.signal });
      setTimeout(() => atPrompt.abort(), 500);
      expect(await prompt).toMatchObject([{ ok: false, error: { code: 'WRITE_CANCELLED', message: expect.stringMatching(/nothing was written to \/dev\/sdz/) } }]);
    } finally {
      for (const pid of readFileSync(path.join(dir, 'pids'), 'utf8').trim().split('\n').map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describeLoop('writing through the privileged child process', () => {
  let dir: string;
  let loops: LoopDevice[] = [];
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-child-'));
  });
  afterEach(() => {
    for (const l of loops) l.detach();
    loops = [];
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes two cards through the child and an image file itself, relaying progress and results in target order', async () => {
    const image = testCardImage();
    loops = [attachLoop(64 * MiB, dir), attachLoop(64 * MiB, dir)];
    const progress: WriteProgress[] = [];
    const finished: string[] = [];
    const imageFile = path.join(dir, 'card.img');
    const all = await writeImageToDrives({
      image,
      targets: [loops[0]!.device, imageFile, loops[1]!.device],
      verify: true,
      includeLoop: true,
    });
    expect(all.map((r) => [r.target, r.kind, r.ok])).toEqual([
      [loops[0]!.device, 'device', true],
      [imageFile, 'file', true],
      [loops[1]!.device, 'device', true],
    ]);
    const results = await writeImageToDrives({
      image,
      targets: loops.map((l) => l.device),
      verify: true,
      includeLoop: true,
      onProgress: (p) => progress.push(p),
      onResult: (r) => finished.push(r.target),
    });
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(finished.sort()).toEqual(loops.map((l) => l.device).sort());
    for (const l of loops) expect(readFileRange(l.backingFile, 0, image.size).equals(rendered(image))).toBe(true);
    expect(new Set(progress.map((p) => `${p.target}:${p.phase}`)).size).toBe(4);
  });

  it('writes an image file through the child, which pulls its bytes from the handle bootcard opened; a FIFO or a folder as the image is refused before anything is written', async () => {
    loops = [attachLoop(64 * MiB, dir)];
    const bytes = Buffer.from(pseudoRandomBytes(5 * MiB, 3));
    const imageFile = path.join(dir, 'raw.img');
    writeFileSync(imageFile, bytes);
    const [result] = await writeImageToDrives({ image: { path: imageFile }, targets: [loops[0]!.device], verify: true, includeLoop: true });
    expect(result).toMatchObject({ ok: true, kind: 'device', verified: true, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(readFileRange(loops[0]!.backingFile, 0, bytes.length).equals(bytes)).toBe(true);

    const fifo = path.join(dir, 'image.fifo');
    execFileSync('mkfifo', [fifo]);
    const before = sectorsWritten(loops[0]!.device);
    await expect(writeImageToDrives({ image: { path: fifo }, targets: [loops[0]!.device], verify: true, includeLoop: true })).rejects.toMatchObject({ code: 'WRITE_BAD_REQUEST', message: expect.stringMatching(/not an image file/) });
    await expect(writeImageToDrives({ image: { path: dir }, targets: [loops[0]!.device], verify: true, includeLoop: true })).rejects.toMatchObject({ code: 'WRITE_BAD_REQUEST' });
    expect(sectorsWritten(loops[0]!.device)).toBe(before);
  });

  it('cancels through the child', async () => {
    loops = [attachLoop(64 * MiB, dir)];
    const controller = new AbortController();
    controller.abort();
    const [result] = await writeImageToDrives({ image: testCardImage(1), targets: [loops[0]!.device], verify: true, includeLoop: true, signal: controller.signal });
    expect(result).toMatchObject({ ok: false, error: { code: 'WRITE_CANCELLED' } });
  });
});
