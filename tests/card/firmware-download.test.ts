import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchPftfFirmware, pftfZipUrl } from '../../electron/core/card/firmware-download.io.js';
import { CardErrorCode } from '../../electron/core/card/errors.js';
import { BootcardError } from '../../electron/core/errors.js';
import { describeShared } from '../helpers/shared.js';
import { runBootcard } from '../helpers/cli.js';
import { makeZip, pftfEntries } from './firmware-zip.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-download-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshCache = () => path.join(dir, `cache-${n++}`);

describeShared('pftf firmware download (local HTTP server on 127.0.0.1)', () => {
  const zip = makeZip(path.join(dir, 'release.zip'), pftfEntries(path.join(dir, 'src')));
  const zipBytes = readFileSync(zip);
  const sha256 = createHash('sha256').update(zipBytes).digest('hex');
  const requests: string[] = [];
  const stalled: import('node:http').ServerResponse[] = [];
  let server: Server;
  let base = '';

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/releases/v1.34/RPi4_UEFI_Firmware_v1.34.zip') {
        // GitHub answers with a redirect to its download host: follow it.
        res.writeHead(302, { location: '/objects/RPi4_UEFI_Firmware_v1.34.zip' }).end();
      } else if (req.url === '/objects/RPi4_UEFI_Firmware_v1.34.zip') {
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zipBytes.length });
        res.end(zipBytes);
      } else if (req.url === '/releases/v1.35/RPi4_UEFI_Firmware_v1.35.zip') {
        // Drops the connection half way.
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zipBytes.length });
        res.write(zipBytes.subarray(0, zipBytes.length >> 1), () => res.socket?.destroy());
      } else if (req.url === '/releases/v1.36/RPi4_UEFI_Firmware_v1.36.zip') {
        // Sends a little, then nothing: a stalled server.
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zipBytes.length });
        res.write(zipBytes.subarray(0, 1000));
        stalled.push(res);
      } else {
        res.writeHead(404).end('Not Found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.destroy();
        server.close(() => resolve());
      }),
  );

  it('builds the GitHub release URL for a version', () => {
    expect(pftfZipUrl('1.34')).toBe('https://github.com/pftf/RPi4/releases/download/v1.34/RPi4_UEFI_Firmware_v1.34.zip');
    expect(() => pftfZipUrl('latest')).toThrow(/write it like v1.34/);
  });

  it('downloads into the cache with progress, records the SHA-256, and reuses the file', async () => {
    const cacheDir = freshCache();
    const progress: number[] = [];
    const first = await fetchPftfFirmware({ version: 'v1.34', baseUrl: base, cacheDir, onProgress: (p) => progress.push(p.bytes) });
    expect(first.cached).toBe(false);
    expect(first.sha256).toBe(sha256);
    expect(Buffer.compare(readFileSync(first.path), zipBytes)).toBe(0);
    expect(readFileSync(`${first.path}.sha256`, 'utf8')).toBe(`${sha256}  RPi4_UEFI_Firmware_v1.34.zip\n`);
    expect(progress.at(-1)).toBe(zipBytes.length);
    const count = requests.length;
    const again = await fetchPftfFirmware({ version: '1.34', baseUrl: base, cacheDir });
    expect(again).toMatchObject({ cached: true, path: first.path, sha256 });
    expect(requests.length).toBe(count);
  });

  it('refuses a cached zip whose checksum changed, saying how to recover', async () => {
    const cacheDir = freshCache();
    const { path: cached } = await fetchPftfFirmware({ version: 'v1.34', baseUrl: base, cacheDir });
    appendFileSync(cached, 'tampered');
    await expect(fetchPftfFirmware({ version: 'v1.34', baseUrl: base, cacheDir })).rejects.toSatisfy(
      (e: unknown) => BootcardError.is(e, CardErrorCode.CHECKSUM_MISMATCH) && /Delete .* to download it again/.test((e as Error).message),
    );
  });

  it('leaves no cache entry behind when the connection drops', async () => {
    const cacheDir = freshCache();
    await expect(fetchPftfFirmware({ version: 'v1.35', baseUrl: base, cacheDir })).rejects.toSatisfy(
      (e: unknown) => BootcardError.is(e, CardErrorCode.DOWNLOAD_FAILED) && /connection broke/.test((e as Error).message),
    );
    expect(readdirSync(path.join(cacheDir, 'pftf', 'v1.35'))).toEqual([]);
  });

  it('gives up on a stalled server, leaving nothing behind', async () => {
    const cacheDir = freshCache();
    // The stall clock runs from the request on, so the first 1000 bytes must arrive within it: 1 s, not less,
    // for a CI machine busy with every other test file.
    await expect(fetchPftfFirmware({ version: 'v1.36', baseUrl: base, cacheDir, stallTimeoutMs: 1000 })).rejects.toSatisfy(
      (e: unknown) => BootcardError.is(e, CardErrorCode.DOWNLOAD_FAILED) && /nothing arrived for 1 s after 1000 bytes/.test((e as Error).message),
    );
    expect(readdirSync(path.join(cacheDir, 'pftf', 'v1.36'))).toEqual([]);
  });

  it('says when there is no such release', async () => {
    const cacheDir = freshCache();
    await expect(fetchPftfFirmware({ version: 'v9.99', baseUrl: base, cacheDir })).rejects.toThrow(/no release v9\.99 \(HTTP 404\)/);
  });

  it('bootcard card uefi downloads the default version from BOOTCARD_FIRMWARE_BASE_URL into XDG_CACHE_HOME', async () => {
    const cache = freshCache();
    const out = path.join(dir, 'cli-uefi.img');
    const env = { ...process.env, BOOTCARD_FIRMWARE_BASE_URL: base, XDG_CACHE_HOME: cache };
    const run = await runBootcard(['card', 'uefi', '--out', out, '--config-txt-preset', 'hdmi-hotplug', '--json'], { env });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.firmware).toMatchObject({ version: 'v1.34', sha256, cached: false });
    expect(result.configTxt).toContain('hdmi_force_hotplug=1');
    expect(existsSync(path.join(cache, 'bootcard', 'pftf', 'v1.34', 'RPi4_UEFI_Firmware_v1.34.zip'))).toBe(true);
    expect(existsSync(out)).toBe(true);
  });
});
