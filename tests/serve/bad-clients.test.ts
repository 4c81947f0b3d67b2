/**
 * One bad client never stops `bootcard serve`. A real serve process (the CLI
 * entry, with every dependency it loads, including one that installs a
 * rethrowing uncaughtException handler) gets malformed WebSocket frames over
 * raw TCP sockets, before and after authenticating, and resets in the middle
 * of an upgrade; after each, that client is closed and another one is still
 * served.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from '../../electron/ipc/client.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { startServeChild, type ServeChild } from '../e2e/setup.js';
import { socketTransport } from '../helpers/wire.js';

const MASK = Buffer.from([0x12, 0x34, 0x56, 0x78]);

/** One client frame: FIN + opcode (plus any RSV bits in `first`), masked unless told otherwise. */
function frame(payload: Buffer, options: { first?: number; masked?: boolean; declaredLength?: number } = {}): Buffer {
  const masked = options.masked ?? true;
  const length = options.declaredLength ?? payload.length;
  const header: number[] = [options.first ?? 0x81];
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) header.push(maskBit | length);
  else if (length < 65536) header.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    header.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    header.push(...big);
  }
  const body = masked ? Buffer.from(payload.map((b, i) => b ^ MASK[i % 4]!)) : payload;
  return Buffer.concat([Buffer.from(header), masked ? MASK : Buffer.alloc(0), body]);
}

/** A raw TCP client that does the WebSocket handshake by hand; resolves once the server answered 101. */
function rawUpgrade(server: ServeChild): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let head = '';
    socket.on('error', () => undefined);
    socket.once('connect', () =>
      socket.write(
        `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve(socket);
      else reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
    };
    socket.on('data', onData);
  });
}

/** Resolves true once the server ends the connection, false if it is still open after `ms`. */
function closedBy(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

/** A well-behaved client: authenticates and asks app.info. */
async function goodClientWorks(server: ServeChild): Promise<string> {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { origin: server.origin });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'auth', token: server.token }));
    return (await createClient(socketTransport(ws)).call('app.info', {})).frontEnd;
  } finally {
    ws.close();
  }
}

const BAD_FRAMES: readonly { readonly name: string; readonly bytes: Buffer }[] = [
  { name: 'a frame declaring a 2 MiB payload', bytes: frame(Buffer.from('x'), { declaredLength: 2 * 1024 * 1024 }).subarray(0, 14) },
  { name: 'an unmasked frame', bytes: frame(Buffer.from('{"hello":1}'), { masked: false }) },
  { name: 'a frame with RSV1 set (no extension negotiated)', bytes: frame(Buffer.from('{}'), { first: 0xc1 }) },
  { name: 'a frame with RSV2 and RSV3 set', bytes: frame(Buffer.from('{}'), { first: 0xb1 }) },
  { name: 'a text frame of invalid UTF-8', bytes: frame(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])) },
  { name: 'a close frame with invalid UTF-8 in its reason', bytes: frame(Buffer.from([0x03, 0xe8, 0xc3, 0x28]), { first: 0x88 }) },
  { name: 'an unknown opcode', bytes: frame(Buffer.from('x'), { first: 0x83 }) },
];

describe('bootcard serve against bad clients', () => {
  let dir: string;
  let server: ServeChild;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-bad-clients-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bootcard</title>');
    server = await startServeChild(['--renderer-dir', dir, '--output-dir', dir]);
  }, 90_000);

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const authenticated of [false, true]) {
    for (const bad of BAD_FRAMES) {
      it(`${bad.name}${authenticated ? ' after authenticating' : ' before authenticating'} closes that client only`, async () => {
        const socket = await rawUpgrade(server);
        if (authenticated) socket.write(frame(Buffer.from(JSON.stringify({ type: 'auth', token: server.token }))));
        socket.write(bad.bytes);
        expect(await closedBy(socket, 15_000)).toBe(true);
        socket.destroy();
        expect(await goodClientWorks(server)).toBe('serve');
      });
    }
  }

  it('connections reset in the middle of an upgrade, a refused upgrade or a request do not stop it', async () => {
    for (let i = 0; i < 30; i++) {
      const socket = net.connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const origin = i % 3 === 0 ? 'Origin: http://evil.example\r\n' : '';
      const request = i % 3 === 2 ? `GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n\r\n` : `GET /api HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n${origin}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
      socket.write(request);
      socket.resetAndDestroy();
    }
    expect(await goodClientWorks(server)).toBe('serve');
  });

  it('serve is still the same running process, and logged each dropped client', () => {
    expect(server.log()).toMatch(/dropped a client that sent a malformed frame/);
    expect(server.log()).not.toMatch(/internal error/);
  });
});

describe('serve keeps running through errors a dependency would make fatal', () => {
  it('a stray throw, an unhandled rejection and an unheard error event are logged, not the end of the process', () => {
    // The first write loads etcher-sdk (lazily, after serve started), whose Emscripten CRC module installs
    // uncaughtException and unhandledRejection listeners that rethrow: serve must outlive them.
    const script = `
      import { createHandlers } from './electron/ipc/handlers/index.ts';
      import { keepServingThroughErrors } from './electron/serve/lifecycle.ts';
      import { EventEmitter } from 'node:events';
      createHandlers({ frontEnd: 'serve' });
      keepServingThroughErrors({ info: (m) => console.error(m), warn: (m) => console.error(m) });
      await import('etcher-sdk');
      const rethrowing = process.listeners('uncaughtException').filter((l) => /throw/.test(String(l))).length;
      setTimeout(() => { throw new Error('stray throw'); }, 5);
      setTimeout(() => { void Promise.reject(new Error('stray rejection')); }, 10);
      setTimeout(() => new EventEmitter().emit('error', new Error('unheard error event')), 15);
      setTimeout(() => { throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }); }, 20);
      setTimeout(() => console.log('alive, rethrowing listeners: ' + rethrowing), 200);
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.stdout).toMatch(/alive, rethrowing listeners: [1-9]/);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/internal error \(serve keeps running; please report it\): Error: stray throw/);
    expect(run.stderr).toMatch(/stray rejection/);
    expect(run.stderr).toMatch(/unheard error event/);
    // A log reader that went away is not written to again (that would fail the same way, in a loop).
    expect(run.stderr).not.toMatch(/write EPIPE/);
  }, 90_000);
});
