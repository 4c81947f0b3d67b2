import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { SHARED_ROOT, describeShared } from '../helpers/shared.js';
import { wireTransport } from '../helpers/wire.js';

function clientFor(includeLoop: boolean, cwd?: string) {
  return createClient(wireTransport(createHandlers({ frontEnd: 'serve', includeLoop, ...(cwd ? { cwd } : {}) })));
}

const recipe = {
  kind: 'eeprom-recovery',
  board: '2711',
  firmwarePath: `${SHARED_ROOT}/fixtures/rpi-eeprom`,
  config: '[all]\nBOOT_ORDER=0xf142\nTFTP_IP=10.10.0.10\n',
} as const;

describeShared('the wizard handlers on real loop devices', () => {
  describeLoop('loop devices are targets only in test mode', () => {
    let dir: string;
    let loop: LoopDevice;
    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-handlers-'));
      loop = attachLoop(300 * 1024 * 1024, dir);
    });
    afterAll(() => {
      loop?.detach();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a normal server lists no loop device and the writer refuses one, writing nothing', async () => {
      const client = clientFor(false);
      const { drives } = await client.call('drives.list', {});
      expect(drives.some((d) => d.device === loop.device)).toBe(false);
      const result = await client.call('card.write', { recipe, targets: [loop.device], verify: true });
      expect(result.results[0]).toMatchObject({ device: loop.device, ok: false, error: { code: 'DRIVE_LOOP' } });
      const head = Buffer.alloc(1024 * 1024);
      const fd = openSync(loop.backingFile, 'r');
      readSync(fd, head, 0, head.length, 0);
      closeSync(fd);
      expect(head.every((b) => b === 0)).toBe(true);
      expect(result.manifest[0]).toMatchObject({ ok: false });
    });

    it('a test-mode server offers it as usable and writes and verifies it, with progress per card', async () => {
      const client = clientFor(true);
      const { drives } = await client.call('drives.list', {});
      expect(drives.find((d) => d.device === loop.device)).toMatchObject({ problems: [], hiddenByDefault: false });
      // What the Review step showed is what is written, even a second later (the EEPROM update carries a timestamp).
      const reviewed = await client.call('card.plan', { recipe });
      await new Promise((r) => setTimeout(r, 1100));
      const phases = new Set<string>();
      let planned = false;
      const done: unknown[] = [];
      const result = await client.call('card.write', { recipe, targets: [loop.device], verify: true, timestamp: reviewed.timestamp }, {
        onProgress: (e) => {
          if (e.type === 'planned') planned = true;
          if (e.type === 'progress') phases.add(`${e.device} ${e.phase}`);
          if (e.type === 'card-done') done.push(e.result);
        },
      });
      expect(planned).toBe(true);
      expect([...phases]).toEqual([`${loop.device} write`, `${loop.device} verify`]);
      expect(done).toEqual(result.results);
      expect(result.plan).toEqual(reviewed);
      expect(result.results).toEqual([{ device: loop.device, ok: true, verified: true, locked: false, cardSerial: null }]);
      expect(result.manifest[0]).toMatchObject({ device: loop.device, recipe: 'eeprom-recovery 2711', config: recipe.config, sha256: result.plan.sha256, ok: true, error: null });
    });
  });
});

it('rejects a write request with a duplicate card before any handler runs', async () => {
  const error = await clientFor(false)
    .call('card.write', { recipe, targets: ['/dev/sdb', '/dev/sdb'], verify: true })
    .catch((e: { code: string; message: string }) => e);
  expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
  expect((error as { message: string }).message).toMatch(/each card may be picked once/);
});

describeShared('firmware.download', () => {
  it('downloads the pftf zip from the configured mirror into the cache, reporting progress, then reuses it', async () => {
    const { makeZip, pftfEntries } = await import('../card/firmware-zip.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-download-ipc-'));
    const zip = makeZip(path.join(dir, 'release.zip'), pftfEntries(path.join(dir, 'src')));
    const bytes = readFileSync(zip);
    const server = createServer((req, res) => {
      if (req.url === '/v1.39/RPi4_UEFI_Firmware_v1.39.zip') res.writeHead(200, { 'content-length': bytes.length }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const saved = { base: process.env.BOOTCARD_FIRMWARE_BASE_URL, cache: process.env.XDG_CACHE_HOME };
    process.env.BOOTCARD_FIRMWARE_BASE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');
    try {
      const progress: { received: number; total: number | null }[] = [];
      const first = await clientFor(false).call('firmware.download', { version: 'v1.39' }, { onProgress: (p) => progress.push(p) });
      expect(first).toMatchObject({ version: 'v1.39', cached: false, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect(readFileSync(first.path).equals(bytes)).toBe(true);
      expect(progress.at(-1)).toEqual({ type: 'download', received: bytes.length, total: bytes.length });
      const again = await clientFor(false).call('firmware.download', { version: 'v1.39' });
      expect(again).toMatchObject({ path: first.path, cached: true });
    } finally {
      if (saved.base === undefined) delete process.env.BOOTCARD_FIRMWARE_BASE_URL;
      else process.env.BOOTCARD_FIRMWARE_BASE_URL = saved.base;
      if (saved.cache === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.cache;
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('validates and explains a bootloader config through the contract, in the CLI’s words', async () => {
  const client = clientFor(false);
  const { diagnostics } = await client.call('eeprom.validate', { board: '2711', config: '[all]\nBOOT_ORDER=0xf142\nTFTP_IP=10.0.0.300\n' });
  expect(diagnostics).toEqual([expect.objectContaining({ severity: 'error', key: 'TFTP_IP', line: 3, message: 'TFTP_IP=10.0.0.300: expected an IPv4 address such as 192.168.1.10.' })]);
  expect(await client.call('eeprom.explain', { board: '2711', bootOrder: '0xf142' })).toEqual({ sentence: '1. network (TFTP) 2. USB mass storage 3. SD card 4. restart' });
  const bad = await client.call('eeprom.explain', { board: '2711', bootOrder: 'f142' }).catch((e: { code: string }) => e.code);
  expect(bad).toBe('INVALID_REQUEST');
});

it('saves a manifest only as .csv/.json and replaces nothing but an earlier manifest, and that only when asked to (a browser must not plant files)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-manifest-ipc-'));
  try {
    const client = clientFor(false, dir);
    const entries = [{ device: '/dev/sdb', cardSerial: null, recipe: 'uefi', config: '\nssh-ed25519 AAAA attacker\n', sha256: 'b'.repeat(64), time: '2026-11-22T01:00:00.000Z', ok: true, error: null }];
    const save = (file: string, format: 'csv' | 'json', replace?: boolean) =>
      client.call('manifest.save', { path: file, format, entries, ...(replace ? { replace } : {}) }).catch((e: { code: string; message: string }) => e);

    expect(await save('authorized_keys', 'csv')).toMatchObject({ code: 'MANIFEST_BAD_NAME', message: expect.stringMatching(/end the name with \.csv/) });
    expect(await save('station.csv', 'json')).toMatchObject({ code: 'MANIFEST_BAD_NAME' });
    expect(existsSync(path.join(dir, 'authorized_keys'))).toBe(false);

    writeFileSync(path.join(dir, 'prices.csv'), 'item,price\r\n');
    expect(await save('prices.csv', 'csv')).toMatchObject({ code: 'MANIFEST_FILE_EXISTS', message: expect.stringMatching(/not a bootcard manifest/) });
    expect(readFileSync(path.join(dir, 'prices.csv'), 'utf8')).toBe('item,price\r\n');

    // A folder, or a symbolic link (even to a manifest: rename would replace the link, not its target), is not an earlier manifest.
    mkdirSync(path.join(dir, 'folder.csv'));
    expect(await save('folder.csv', 'csv', true)).toMatchObject({ code: 'OUTPUT_NOT_A_FILE' });

    // Saving again over an earlier manifest is fine, in either format, once the page asked (replace).
    for (const format of ['csv', 'json'] as const) {
      await save(`station.${format}`, format);
      expect(await save(`station.${format}`, format)).toMatchObject({ code: 'OUTPUT_EXISTS' });
      expect(await save(`station.${format}`, format, true)).toMatchObject({ path: path.join(dir, `station.${format}`) });
    }
    expect(JSON.parse(readFileSync(path.join(dir, 'station.json'), 'utf8'))).toMatchObject({ bootcardManifest: 1, cards: entries });
    symlinkSync(path.join(dir, 'station.csv'), path.join(dir, 'link.csv'));
    expect(await save('link.csv', 'csv', true)).toMatchObject({ code: 'OUTPUT_SYMLINK' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
