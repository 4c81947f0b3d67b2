/**
 * Special files as inputs against a real `bootcard serve` (issue 11, item 8):
 * a FIFO, /dev/zero and /dev/urandom given as firmware paths over the
 * WebSocket are refused at once, and serve goes on answering every channel.
 * Before, each FIFO held one of Node's four file threads for ever and serve
 * then stopped answering anything that touched a file.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Transport } from '../../electron/ipc/client.js';
import type { WireFromMain } from '../../electron/ipc/define.js';
import { BootcardError } from '../../electron/core/errors.js';
import { startServeChild, type ServeChild } from '../e2e/setup.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';

function socketTransport(ws: WebSocket): Transport {
  return {
    send: (m) => ws.send(JSON.stringify(m)),
    onMessage(listener) {
      const l = (data: WebSocket.RawData) => listener(JSON.parse(data.toString()) as WireFromMain);
      ws.on('message', l);
      return () => ws.off('message', l);
    },
  };
}

async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describeShared('special files given to a real bootcard serve', () => {
  let dir: string;
  let server: ServeChild;
  let ws: WebSocket;
  let client: ReturnType<typeof createClient>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-special-serve-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bootcard</title>');
    server = await startServeChild(['--renderer-dir', dir, '--output-dir', dir]);
    ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { origin: server.origin });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'auth', token: server.token }));
    client = createClient(socketTransport(ws));
  }, 90_000);

  afterAll(async () => {
    ws?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('refuses each at once and still answers every channel afterwards', async () => {
    const fifo = path.join(dir, 'firmware.zip');
    execFileSync('mkfifo', [fifo]);
    const good = path.join(dir, 'bootloader');
    mkdirSync(good);
    copyFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin'), path.join(good, 'pieeprom-2026-05-17.bin'));
    copyFileSync(eepromFixture('recovery-2711.bin'), path.join(good, 'recovery.bin'));

    // More hostile requests at once than Node has file threads (4).
    const hostile = Array.from({ length: 12 }, (_, i) => {
      const p = [fifo, '/dev/zero', '/dev/urandom'][i % 3]!;
      const request = i % 2 === 0 ? client.call('firmware.locate', { kind: 'uefi', path: p }) : client.call('uefi.preview', { firmwarePath: p, settings: { bootTimeoutSeconds: 3 } });
      return within(20_000, `request ${i} (${p})`, request.then(() => null, (error: unknown) => error));
    });
    for (const error of await Promise.all(hostile)) {
      expect(BootcardError.is(error, 'FILE_UNREADABLE'), String(error)).toBe(true);
      expect((error as BootcardError).message).toMatch(/is a (named pipe|character device)/);
    }
    expect((await within(20_000, 'app.info', client.call('app.info', {}))).frontEnd).toBe('serve');
    const located = await within(20_000, 'firmware.locate of a real folder', client.call('firmware.locate', { kind: 'eeprom', board: '2711', path: good }));
    expect(located).toMatchObject({ kind: 'eeprom', board: '2711' });
  }, 90_000);
});
