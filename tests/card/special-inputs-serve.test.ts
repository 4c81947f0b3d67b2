/**
 * Hostile inputs against a real `bootcard serve` (issue 11, items 7 and 8):
 * a FIFO, /dev/zero and /dev/urandom given as firmware paths over the
 * WebSocket are refused at once, and serve goes on answering every channel
 * (before, each FIFO held one of Node's four file threads for ever and serve
 * then stopped answering anything that touched a file); a zip bomb sent to
 * the three channels that read firmware is refused with serve's peak memory
 * bounded.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from '../../electron/ipc/client.js';
import { CardErrorCode } from '../../electron/core/card/errors.js';
import { BootcardError } from '../../electron/core/errors.js';
import { startServeChild, type ServeChild } from '../e2e/setup.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { buildZip, deflatedZeros, storedEntry, type RawZipEntry } from './hostile-zip.js';
import { socketTransport } from '../helpers/wire.js';

const MIB = 1024 * 1024;

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

  it('refuses a zip bomb in firmware.locate, uefi.preview and card.plan at once with its peak memory bounded', async () => {
    // RPI_EFI.fd declares 1 MiB in both headers and inflates to 512 MiB.
    const lying: RawZipEntry = { name: 'RPI_EFI.fd', method: 8, stored: await deflatedZeros(512 * MIB), declaredSize: MIB, crc32: 0 };
    const bomb = path.join(dir, 'bomb.zip');
    writeFileSync(bomb, buildZip([lying, storedEntry('start4.elf', new Uint8Array(1000)), storedEntry('config.txt', new TextEncoder().encode('arm_64bit=1\n'))]));
    const requests = [
      client.call('firmware.locate', { kind: 'uefi', path: bomb }),
      client.call('uefi.preview', { firmwarePath: bomb, settings: { bootTimeoutSeconds: 3 } }),
      client.call('card.plan', { recipe: { kind: 'uefi', firmwarePath: bomb, configTxt: [] } }),
    ].map((r, i) => within(60_000, `bomb request ${i}`, r.then(() => null, (error: unknown) => error)));
    for (const error of await Promise.all(requests)) expect(BootcardError.is(error, CardErrorCode.ENTRY_SIZE_MISMATCH), String(error)).toBe(true);
    // VmHWM: the serve process's peak resident memory. Inflating the three whole (as before) needs 1.5 GiB at least.
    const peak = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))![1]) * 1024;
    expect(peak).toBeLessThan(400 * MIB);
    expect((await within(20_000, 'app.info', client.call('app.info', {}))).frontEnd).toBe('serve');
  }, 90_000);
});
