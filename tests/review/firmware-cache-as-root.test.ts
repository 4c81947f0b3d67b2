/**
 * Review of issue 11: the firmware download cache as root. Run as root with a
 * user's HOME or XDG_CACHE_HOME (`sudo -E`, a service with HOME set), bootcard
 * wrote its cache inside a folder that user owns, through whatever links they
 * had planted there: a `.sha256` link to a root-only file was truncated and
 * overwritten. A cache folder another user could change is refused, and
 * nothing in it is touched.
 */
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchPftfFirmware } from '../../electron/core/card/firmware-download.io.js';

const NOBODY = 65534;

describe.runIf(process.getuid?.() === 0)('the firmware cache, downloading as root', () => {
  let dir: string;
  let server: Server;
  let base = '';
  const zipBytes = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(600, 7)]);
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-review-cache-'));
    chmodSync(dir, 0o755);
    server = createServer((req, res) => {
      if (req.url === '/releases/v9.99/RPi4_UEFI_Firmware_v9.99.zip') res.writeHead(200, { 'content-length': zipBytes.length }).end(zipBytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/releases`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('never writes through a link planted in a cache folder another user owns', async () => {
    const victim = path.join(dir, 'root-only.txt');
    writeFileSync(victim, 'precious\n', { mode: 0o600 });
    const cache = path.join(dir, 'nobody-cache');
    const version = path.join(cache, 'pftf', 'v9.99');
    mkdirSync(version, { recursive: true });
    for (const d of [cache, path.join(cache, 'pftf'), version]) chownSync(d, NOBODY, NOBODY);
    symlinkSync(victim, path.join(version, 'RPi4_UEFI_Firmware_v9.99.zip.sha256'));
    const outcome = await fetchPftfFirmware({ version: 'v9.99', baseUrl: base, cacheDir: cache }).then(
      () => 'cached',
      (error: { code?: string; message?: string }) => `${error.code}: ${error.message}`,
    );
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(outcome).toMatch(/^CARD_UNSAFE_CACHE: .*belongs to another user/);
    expect(readdirSync(version)).toEqual(['RPi4_UEFI_Firmware_v9.99.zip.sha256']);
  });

  it('still downloads into a cache folder of its own', async () => {
    const cache = path.join(dir, 'own-cache');
    const fetched = await fetchPftfFirmware({ version: 'v9.99', baseUrl: base, cacheDir: cache });
    expect(readFileSync(fetched.path).equals(zipBytes)).toBe(true);
    const again = await fetchPftfFirmware({ version: 'v9.99', baseUrl: base, cacheDir: cache });
    expect(again.cached).toBe(true);
  });
});
