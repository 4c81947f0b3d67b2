import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runWriterChild } from '../../electron/core/writer/child.io.js';
import { childCommand, overridesToIgnore, pkexecExitError } from '../../electron/core/writer/privilege.js';
import { encodeMessage } from '../../electron/core/writer/protocol.js';
import type { WriteProgress } from '../../electron/core/writer/progress.js';
import { writeImageToDrives } from '../../electron/core/writer/writer.io.js';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { MiB, readFileRange, rendered, testCardImage } from './card-image.js';

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
