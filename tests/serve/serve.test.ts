import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CliContext } from '../../electron/cli/context.js';
import { startServeCommand } from '../../electron/cli/commands/serve.js';
import { createClient } from '../../electron/ipc/client.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/main/security.js';
import { AUTH_DEADLINE_MS, checkAccess, checkAuthMessage, loopbackHosts, parsePort, tokensEqual } from '../../electron/serve/access.js';
import { startServer, type RunningServer } from '../../electron/serve/server.js';
import type { BootcardError } from '../../electron/core/errors.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { webSocketTransport } from '../../renderer/src/transport.js';
import { runBootcard } from '../helpers/cli.js';
import { socketTransport } from '../helpers/wire.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(server: RunningServer, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: pathAndQuery, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Opens the API socket and sends `auth` as its first message (when given); resolves with it
 * when open, rejects with the HTTP status when the upgrade is refused.
 */
function openSocket(server: RunningServer, auth: string | null, origin?: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { ...(origin ? { origin } : {}), headers });
    closeCodes.set(ws, new Promise((resolve) => ws.once('close', (code) => resolve(code))));
    ws.once('open', () => {
      if (auth !== null) ws.send(JSON.stringify({ type: 'auth', token: auth }));
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`refused with HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

const closeCodes = new WeakMap<WebSocket, Promise<number>>();

/** Resolves with the close code once the server closes the socket, or 'open' if it is still open after `ms`. */
function closedWithin(ws: WebSocket, ms: number): Promise<number | 'open'> {
  return Promise.race([closeCodes.get(ws)!, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), ms).unref())]);
}

describe('bootcard serve', () => {
  let dir: string;
  let server: RunningServer;
  let log = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-serve-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bootcard</title><script type="module" src="./assets/app.js"></script>');
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log("wizard")');
    writeFileSync(path.join(os.tmpdir(), 'bootcard-serve-secret.txt'), 'secret');
    const ctx = new CliContext({
      stdout: { write: (s: string) => (log += s) },
      stderr: { write: (s: string) => (log += s) },
      stdin: Readable.from([]),
      interactive: false,
      env: {},
      cwd: dir,
    });
    server = await startServeCommand({ host: '127.0.0.1', port: '0', rendererDir: dir }, ctx);
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(path.join(os.tmpdir(), 'bootcard-serve-secret.txt'), { force: true });
  });

  it('binds to loopback and prints a URL carrying a long random token in its fragment', () => {
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.token.length).toBeGreaterThanOrEqual(40);
    expect(log).toContain(`bootcard wizard: ${server.url}`);
    // A fragment is never sent to a server nor put in a Referer.
    expect(server.url).toBe(`${server.origin}/#token=${server.token}`);
  });

  it('serves the page and its assets without a token (they hold no secret), under the strict CSP, and drops the old cookie', async () => {
    const page = await get(server, '/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>bootcard</title>');
    expect(page.body).not.toContain(server.token);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['x-frame-options']).toBe('DENY');
    // An older serve set bootcard_token as a cookie: the browser is told to forget it, and nothing sets a new one.
    expect(page.headers['set-cookie']).toEqual(['bootcard_token=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict']);
    const asset = await get(server, '/assets/app.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/text\/javascript/);
    expect(asset.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a foreign Origin or an unexpected Host (HTTP 403)', async () => {
    expect((await get(server, '/', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(server, '/', { origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await get(server, '/', { host: `rebind.example:${server.port}` })).status).toBe(403);
    expect((await get(server, '/', { origin: server.origin })).status).toBe(200);
    expect(log).toMatch(/refused: HTTP GET \/: foreign Origin http:\/\/evil\.example/);
  });

  it('never serves a file outside the renderer folder', async () => {
    const r = await get(server, '/..%2fbootcard-serve-secret.txt');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('secret');
  });

  it('refuses the API socket from another origin or Host at the upgrade', async () => {
    await expect(openSocket(server, server.token, 'http://evil.example')).rejects.toThrow(/HTTP 403/);
    await expect(openSocket(server, server.token, `http://127.0.0.1:${server.port + 1}`)).rejects.toThrow(/HTTP 403/);
    await expect(openSocket(server, server.token, undefined, { host: `rebind.example:${server.port}` })).rejects.toThrow(/HTTP 403/);
  });

  it('closes a socket whose first message is not the token, answering nothing, whatever cookie or query it carries', async () => {
    const call = (ws: WebSocket) => ws.send(JSON.stringify({ type: 'request', id: 'x', channel: 'app.info', payload: {} }));
    const attempts: WebSocket[] = [
      await openSocket(server, 'wrong-token', server.origin),
      await openSocket(server, '', server.origin),
      // The token where a browser would attach it by itself: a cookie. It counts for nothing.
      await openSocket(server, null, server.origin, { cookie: `bootcard_token=${server.token}` }),
    ];
    const replies: string[] = [];
    for (const ws of attempts) {
      ws.on('message', (d) => replies.push(d.toString()));
      call(ws);
    }
    for (const ws of attempts) expect(await closedWithin(ws, 10_000)).toBe(4401);
    expect(replies).toEqual([]);
    expect(log).toMatch(/refused: WebSocket: missing or wrong token/);
    expect(log).toMatch(/refused: WebSocket: first message is not an authentication/);
    expect(log).not.toContain('wrong-token');
  });

  it('closes a socket that never authenticates within the deadline', async () => {
    const ws = await openSocket(server, null, server.origin);
    expect(await closedWithin(ws, AUTH_DEADLINE_MS + 10_000)).toBe(4401);
    expect(log).toMatch(/refused: WebSocket: no authentication within 5 s/);
  }, 30_000);

  it('answers the IPC contract over the socket once the first message carried the token', async () => {
    const ws = await openSocket(server, server.token, server.origin);
    try {
      const info = await createClient(socketTransport(ws)).call('app.info', {});
      expect(info.frontEnd).toBe('serve');
      expect(info.name).toBe('bootcard');
      const bad = await createClient(socketTransport(ws)).call('app.info', { extra: 1 } as never).catch((e: { code: string }) => e.code);
      expect(bad).toBe('INVALID_REQUEST');
    } finally {
      ws.close();
    }
  });

  it('rejects a bad --port as a usage error and a missing renderer with what to run', async () => {
    const r = await runBootcard(['serve', '--port', '70000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--port must be a number from 0 to 65535/);
    const missing = await runBootcard(['serve', '--port', '0', '--renderer-dir', path.join(dir, 'nowhere')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/npm run build/);
  });
});

describe('serve access rules', () => {
  const policy = { allowedHosts: loopbackHosts('127.0.0.1', 8477) };
  it('needs a known Host and its own Origin', () => {
    const ok = { host: '127.0.0.1:8477', origin: undefined };
    expect(checkAccess(ok, policy).ok).toBe(true);
    expect(checkAccess({ ...ok, host: 'localhost:8477', origin: 'http://localhost:8477' }, policy).ok).toBe(true);
    expect(checkAccess({ ...ok, origin: 'http://127.0.0.1:9999' }, policy).ok).toBe(false);
    expect(checkAccess({ ...ok, origin: 'null' }, policy).ok).toBe(false);
    expect(checkAccess({ ...ok, host: 'attacker.example:8477' }, policy).ok).toBe(false);
    expect(checkAccess({ ...ok, host: undefined }, policy).ok).toBe(false);
  });
  it('lets a socket in only by an auth message carrying the token', () => {
    const token = 'a'.repeat(43);
    expect(checkAuthMessage(JSON.stringify({ type: 'auth', token }), token)).toEqual({ ok: true });
    expect(checkAuthMessage(JSON.stringify({ type: 'auth', token: 'a'.repeat(42) }), token)).toEqual({ ok: false, reason: 'missing or wrong token' });
    expect(checkAuthMessage(JSON.stringify({ type: 'auth' }), token).ok).toBe(false);
    expect(checkAuthMessage(JSON.stringify({ type: 'request', id: '1', channel: 'app.info', token }), token).ok).toBe(false);
    expect(checkAuthMessage('not json', token).ok).toBe(false);
    expect(checkAuthMessage(JSON.stringify({ type: 'auth', token, pad: 'x'.repeat(2000) }), token).ok).toBe(false);
  });
  it('compares tokens exactly and parses ports strictly', () => {
    expect(tokensEqual('abc', 'abc')).toBe(true);
    expect(tokensEqual('abc', 'abd')).toBe(false);
    expect(tokensEqual('', '')).toBe(false);
    expect(parsePort('0')).toBe(0);
    expect(parsePort('65535')).toBe(65535);
    expect(parsePort('65536')).toBeNull();
    expect(parsePort('-1')).toBeNull();
    expect(parsePort('80x')).toBeNull();
  });
});

describe('the wizard’s WebSocket transport', () => {
  it('fails what is pending, and every later call, with a clear error when the server goes away (no Write step stuck forever)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-serve-drop-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bootcard</title>');
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      rendererDir: dir,
      handlers: { ...createHandlers({ frontEnd: 'serve' }), 'app.info': () => (started(), new Promise<never>(() => undefined)) },
    });
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
    try {
      const client = createClient(webSocketTransport(`ws://127.0.0.1:${server.port}/api`, server.token));
      const pending = client.call('app.info', {}).catch((e: BootcardError) => e);
      await running;
      // The handler ignores its cancel signal: close waits its grace period, then cuts the socket anyway.
      expect(await server.close({ graceMs: 500 })).toEqual({ cancelled: 1, ended: false });
      const error = await pending;
      expect(error).toMatchObject({ code: 'IPC_DISCONNECTED', message: expect.stringMatching(/connection to bootcard was lost.*write those cards again/) });
      expect(await client.call('app.info', {}).catch((e: BootcardError) => e.code)).toBe('IPC_DISCONNECTED');
    } finally {
      (globalThis as { WebSocket?: unknown }).WebSocket = saved;
      await server.close({ graceMs: 0 });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
