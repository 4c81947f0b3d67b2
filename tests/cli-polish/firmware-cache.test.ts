/** The firmware cache heals: a cut-short download is never cached, a cached zip that fails to open is replaced, --refresh downloads anew, pinned checksums hold. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fetchPftfFirmware } from '../../electron/core/card/firmware-download.io.js';
import { readFirmwareSource } from '../../electron/core/card/firmware-zip.io.js';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { makeZip, pftfEntries } from '../card/firmware-zip.js';
import { wireTransport } from '../helpers/wire.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared } from '../helpers/shared.js';

describeShared('firmware cache', () => {
  let dir: string;
  let zipBytes: Buffer;
  let sha256: string;
  let server: Server;
  let base = '';
  const requests: string[] = [];
  let n = 0;
  const freshCache = () => path.join(dir, `cache-${n++}`);
  const cachedZip = (cache: string, v = 'v1.34') => path.join(cache, 'bootcard', 'pftf', v, `RPi4_UEFI_Firmware_${v}.zip`);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-fw-cache-'));
    zipBytes = readFileSync(makeZip(path.join(dir, 'release.zip'), pftfEntries(path.join(dir, 'src'))));
    sha256 = createHash('sha256').update(zipBytes).digest('hex');
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/releases/v1.34/RPi4_UEFI_Firmware_v1.34.zip') {
        res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zipBytes.length }).end(zipBytes);
      } else if (req.url === '/releases/v1.40/RPi4_UEFI_Firmware_v1.40.zip') {
        // No length announced and a clean end after 60 %: the client cannot tell from the transfer that it was cut short.
        res.writeHead(200, { 'content-type': 'application/zip' }).end(zipBytes.subarray(0, Math.floor(zipBytes.length * 0.6)));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (cache: string) => ({ ...process.env, BOOTCARD_FIRMWARE_BASE_URL: base, XDG_CACHE_HOME: cache });

  it('a download cut short without a length is refused and not cached, so the next run downloads again', async () => {
    const cache = freshCache();
    const out = path.join(dir, 'never.img');
    const run = await runBootcard(['card', 'uefi', '--version', 'v1.40', '--out', out], { env: env(cache) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/the zip it sent cannot be opened .*nothing was cached/);
    expect(existsSync(cachedZip(cache, 'v1.40'))).toBe(false);
    expect(existsSync(out)).toBe(false);
  });

  it('a cached zip that fails to open (cut short, its checksum recorded) is discarded and downloaded again', async () => {
    const cache = freshCache();
    const zip = cachedZip(cache);
    mkdirSync(path.dirname(zip), { recursive: true });
    const truncated = zipBytes.subarray(0, zipBytes.length >> 1);
    writeFileSync(zip, truncated);
    writeFileSync(`${zip}.sha256`, `${createHash('sha256').update(truncated).digest('hex')}  RPi4_UEFI_Firmware_v1.34.zip\n`);
    const before = requests.length;
    const out = path.join(dir, 'healed.img');
    const run = await runBootcard(['card', 'uefi', '--out', out, '--json'], { env: env(cache) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/bootcard: warning: The cached firmware .* cannot be opened .* it was removed and is downloaded again/);
    expect(JSON.parse(run.stdout).firmware).toMatchObject({ cached: false, sha256 });
    expect(requests.length).toBe(before + 1);
    expect(readFileSync(zip).equals(zipBytes)).toBe(true);
    const again = await runBootcard(['card', 'uefi', '--out', out, '--json'], { env: env(cache) });
    expect(JSON.parse(again.stdout).firmware).toMatchObject({ cached: true, sha256 });
    expect(requests.length).toBe(before + 1);
  });

  it('--refresh downloads again though the zip is cached; with --firmware it is a usage error', async () => {
    const cache = freshCache();
    const out = path.join(dir, 'refresh.img');
    expect((await runBootcard(['card', 'uefi', '--out', out], { env: env(cache) })).code).toBe(0);
    const before = requests.length;
    const run = await runBootcard(['card', 'uefi', '--out', out, '--refresh', '--json'], { env: env(cache) });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).firmware).toMatchObject({ cached: false, sha256 });
    expect(requests.length).toBe(before + 1);
    const misuse = await runBootcard(['card', 'uefi', '--firmware', path.join(dir, 'release.zip'), '--refresh', '--out', out]);
    expect(misuse.code).toBe(2);
  });

  it("the wizard's download replaces a cached zip that no longer opens, too", async () => {
    const cache = freshCache();
    const zip = cachedZip(cache);
    mkdirSync(path.dirname(zip), { recursive: true });
    const truncated = zipBytes.subarray(0, zipBytes.length >> 1);
    writeFileSync(zip, truncated);
    writeFileSync(`${zip}.sha256`, `${createHash('sha256').update(truncated).digest('hex')}  RPi4_UEFI_Firmware_v1.34.zip\n`);
    // The handler reads the same environment as the app: this test file runs in its own worker process.
    const saved = { base: process.env.BOOTCARD_FIRMWARE_BASE_URL, cache: process.env.XDG_CACHE_HOME };
    process.env.BOOTCARD_FIRMWARE_BASE_URL = base;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const client = createClient(wireTransport(createHandlers({ frontEnd: 'serve', cwd: dir, configDir: path.join(dir, 'config') })));
      const fetched = await client.call('firmware.download', {});
      expect(fetched).toMatchObject({ cached: false, sha256 });
      expect(readFileSync(zip).equals(zipBytes)).toBe(true);
    } finally {
      if (saved.base === undefined) delete process.env.BOOTCARD_FIRMWARE_BASE_URL;
      else process.env.BOOTCARD_FIRMWARE_BASE_URL = saved.base;
      if (saved.cache === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.cache;
    }
  });

  it('a pinned SHA-256 holds the first download to it: a different zip is refused and not cached', async () => {
    const cacheDir = freshCache();
    const open = (zip: string) => readFirmwareSource(zip, { partitionSize: 256 * 1024 * 1024 });
    await expect(fetchPftfFirmware({ baseUrl: base, cacheDir, open, knownSha256: { 'v1.34': '0'.repeat(64) } })).rejects.toMatchObject({ code: 'CARD_CHECKSUM_MISMATCH' });
    expect(existsSync(path.join(cacheDir, 'pftf', 'v1.34', 'RPi4_UEFI_Firmware_v1.34.zip'))).toBe(false);
    const ok = await fetchPftfFirmware({ baseUrl: base, cacheDir, open, knownSha256: { 'v1.34': sha256 } });
    expect(ok.sha256).toBe(sha256);
    expect(ok.opened.some((f) => f.path === 'RPI_EFI.fd')).toBe(true);
  });
});
