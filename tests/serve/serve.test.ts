import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CliContext } from '../../electron/cli/context.js';
import { startServeCommand } from '../../electron/cli/commands/serve.js';
import { createClient, type Transport } from '../../electron/ipc/client.js';
import type { WireFromMain } from '../../electron/ipc/define.js';
import { CONTENT_SECURITY_POLICY } from '../../electron/main/security.js';
import { checkAccess, loopbackHosts, parsePort, tokensEqual } from '../../electron/serve/access.js';
import { startServer, type RunningServer } from '../../electron/serve/server.js';
import type { BootcardError } from '../../electron/core/errors.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { webSocketTransport } from '../../renderer/src/transport.js';
import { runBootcard } from '../helpers/cli.js';

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

/** Opens the API socket; resolves with it when open, rejects with the HTTP status when refused. */
function openSocket(server: RunningServer, query: string, origin?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`refused with HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

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

  it('binds to loopback and prints a URL carrying a long random token', () => {
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.token.length).toBeGreaterThanOrEqual(40);
    expect(log).toContain(`bootcard wizard: ${server.url}`);
    expect(server.url).toBe(`${server.origin}/?token=${server.token}`);
  });

  it('refuses the page without the token or with a wrong one (HTTP 403)', async () => {
    expect((await get(server, '/')).status).toBe(403);
    expect((await get(server, '/?token=nope')).status).toBe(403);
    expect((await get(server, '/assets/app.js')).status).toBe(403);
    expect(log).toMatch(/refused: HTTP GET \/\?token=…: missing or wrong token/);
    expect(log).not.toContain('token=nope');
  });

  it('serves the page with the token, under the strict CSP, and lets its assets in by cookie', async () => {
    const page = await get(server, `/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>bootcard</title>');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const cookie = String(page.headers['set-cookie']?.[0]).split(';')[0]!;
    expect(page.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
    const asset = await get(server, '/assets/app.js', { cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers['content-type']).toMatch(/text\/javascript/);
  });

  it('refuses a foreign Origin or an unexpected Host even with the token', async () => {
    expect((await get(server, `/?token=${server.token}`, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(server, `/?token=${server.token}`, { host: `rebind.example:${server.port}` })).status).toBe(403);
    expect((await get(server, `/?token=${server.token}`, { origin: server.origin })).status).toBe(200);
  });

  it('never serves a file outside the renderer folder', async () => {
    const r = await get(server, `/..%2fbootcard-serve-secret.txt?token=${server.token}`);
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('secret');
  });

  it('refuses the API socket without the token or from another origin', async () => {
    await expect(openSocket(server, '')).rejects.toThrow(/HTTP 403/);
    await expect(openSocket(server, '?token=wrong', server.origin)).rejects.toThrow(/HTTP 403/);
    await expect(openSocket(server, `?token=${server.token}`, 'http://evil.example')).rejects.toThrow(/HTTP 403/);
  });

  it('answers the IPC contract over the socket with the token and its own origin', async () => {
    const ws = await openSocket(server, `?token=${server.token}`, server.origin);
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
  const policy = { token: 'a'.repeat(43), allowedHosts: loopbackHosts('127.0.0.1', 8477) };
  it('needs the token, a known Host and its own Origin', () => {
    const ok = { url: `/?token=${'a'.repeat(43)}`, host: '127.0.0.1:8477', origin: undefined, cookie: undefined };
    expect(checkAccess(ok, policy).ok).toBe(true);
    expect(checkAccess({ ...ok, host: 'localhost:8477', origin: 'http://localhost:8477' }, policy).ok).toBe(true);
    expect(checkAccess({ ...ok, url: '/' }, policy)).toEqual({ ok: false, reason: 'missing or wrong token' });
    expect(checkAccess({ ...ok, url: '/', cookie: `x=1; bootcard_token=${'a'.repeat(43)}` }, policy).ok).toBe(true);
    expect(checkAccess({ ...ok, origin: 'http://127.0.0.1:9999' }, policy).ok).toBe(false);
    expect(checkAccess({ ...ok, origin: 'null' }, policy).ok).toBe(false);
    expect(checkAccess({ ...ok, host: 'attacker.example:8477' }, policy).ok).toBe(false);
    expect(checkAccess({ ...ok, host: undefined }, policy).ok).toBe(false);
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
      const client = createClient(webSocketTransport(`ws://127.0.0.1:${server.port}/api?token=${server.token}`));
      const pending = client.call('app.info', {}).catch((e: BootcardError) => e);
      await running;
      await server.close();
      const error = await pending;
      expect(error).toMatchObject({ code: 'IPC_DISCONNECTED', message: expect.stringMatching(/connection to bootcard was lost.*write those cards again/) });
      expect(await client.call('app.info', {}).catch((e: BootcardError) => e.code)).toBe('IPC_DISCONNECTED');
    } finally {
      (globalThis as { WebSocket?: unknown }).WebSocket = saved;
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
