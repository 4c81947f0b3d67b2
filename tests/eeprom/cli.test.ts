import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { getEepromFile, parsePieepromSig, readBootConf, readBootConfBytes, readUpdateTimestamp } from '../../electron/core/eeprom/index.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { ALL_IMAGES, IMAGES, configOfSize, fixtureBytes, sameBytes } from './helpers.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bootcard-eeprom-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const out = (name: string) => path.join(dir, name);
const file = (name: string, text: string) => {
  writeFileSync(out(name), text);
  return out(name);
};

describeShared('bootcard eeprom (CLI)', () => {
  it.each(ALL_IMAGES)('read prints %s\'s config exactly; build with it gives back the same image', async (name) => {
    const read = await runBootcard(['eeprom', 'read', eepromFixture(name)]);
    expect(read.code).toBe(0);
    expect(read.stdout).toBe(readBootConf(fixtureBytes(name)));
    const conf = file('bootconf.txt', read.stdout);
    const build = await runBootcard(['eeprom', 'build', '--base', eepromFixture(name), '--config', conf, '--out', out('new.bin')]);
    expect(build.code).toBe(0);
    expect(sameBytes(new Uint8Array(readFileSync(out('new.bin'))), fixtureBytes(name))).toBe(true);
  });

  it('build keeps a config\'s bytes as given: CRLF, a BOM, no final newline', async () => {
    const text = '\ufeff[all]\r\nBOOT_UART=0\r\nBOOT_ORDER=0xf41';
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--config', file('crlf.txt', text), '--out', out('crlf.bin')]);
    expect(r.code).toBe(0);
    expect(Buffer.from(readBootConfBytes(new Uint8Array(readFileSync(out('crlf.bin')))))).toEqual(readFileSync(out('crlf.txt')));
  });

  it('read of the reference image prints bootconf-netboot.txt byte for byte', async () => {
    const read = await runBootcard(['eeprom', 'read', eepromFixture(IMAGES.pi4Netboot)]);
    expect(read.stdout).toBe(readFileSync(eepromFixture('bootconf-netboot.txt'), 'utf8'));
  });

  it('build reproduces rpi-eeprom-config\'s netboot image and writes the matching .sig', async () => {
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--config', eepromFixture('bootconf-netboot.txt'), '--sig', '--out', out('pieeprom.bin')], { env: { ...process.env, SOURCE_DATE_EPOCH: '1786493216' } });
    expect(r.code).toBe(0);
    const bin = new Uint8Array(readFileSync(out('pieeprom.bin')));
    expect(sameBytes(bin, fixtureBytes(IMAGES.pi4Netboot))).toBe(true);
    const sig = readFileSync(out('pieeprom.sig'), 'utf8');
    expect(sig).toMatch(/^[0-9a-f]{64}\nts: 1786493216\n$/);
    expect(parsePieepromSig(sig).sha256).toBe((await import('node:crypto')).createHash('sha256').update(bin).digest('hex'));
  });

  it('build --set/--unset edits the base config; --timestamp goes into the image (as rpi-eeprom-config --timestamp) and the .sig', async () => {
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi5), '--set', 'BOOT_ORDER=0xf21', '--set', 'TFTP_IP=10.0.0.1', '--unset', 'NET_INSTALL_AT_POWER_ON', '--timestamp', '1790000000', '--sig', '--target-soc', '--out', out('pi5.bin')]);
    expect(r.code).toBe(0);
    const bin = new Uint8Array(readFileSync(out('pi5.bin')));
    expect(readBootConf(bin)).toBe('[all]\nBOOT_UART=1\nBOOT_ORDER=0xf21\nTFTP_IP=10.0.0.1\n');
    expect(readUpdateTimestamp(bin)).toBe(1790000000);
    const json = await runBootcard(['eeprom', 'read', '--json', out('pi5.bin')]);
    expect(JSON.parse(json.stdout).updateTimestamp).toBe(1790000000);
    expect(readFileSync(out('pi5.sig'), 'utf8')).toMatch(/\nts: 1790000000\ntarget-soc: 2712\n$/);
    // --stamp-image is the older spelling: with SOURCE_DATE_EPOCH and no --timestamp it stamps that time.
    const stamped = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi5), '--stamp-image', '--out', out('stamped.bin')], { env: { SOURCE_DATE_EPOCH: '1790000001' } });
    expect(stamped.code).toBe(0);
    expect(readUpdateTimestamp(new Uint8Array(readFileSync(out('stamped.bin'))))).toBe(1790000001);
    const plain = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi5), '--out', out('plain.bin')]);
    expect(plain.code).toBe(0);
    expect(sameBytes(new Uint8Array(readFileSync(out('plain.bin'))), fixtureBytes(IMAGES.pi5))).toBe(true);
    const noSig = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi5), '--target-soc', '--out', out('no-sig.bin')]);
    expect(noSig.code).toBe(2);
    expect(noSig.stderr).toMatch(/--target-soc adds a line to the \.sig file: add --sig/);
    expect(existsSync(out('no-sig.bin'))).toBe(false);
  });

  it.each([
    ['a file of the wrong size', () => ['--base', eepromFixture('recovery-2711.bin')], /100140 bytes.*524288/],
    ['a corrupt section chain', () => {
      const bytes = fixtureBytes(IMAGES.pi4);
      bytes.set([1, 2, 3, 4], 0x11da8);
      writeFileSync(out('corrupt.bin'), bytes);
      return ['--base', out('corrupt.bin')];
    }, /corrupt.*0x11da8/],
    ['a config over 4076 bytes', () => ['--base', eepromFixture(IMAGES.pi4), '--config', file('big.txt', configOfSize(4077))], /4077 bytes; the bootloader config can be at most 4076 bytes/],
    ['an invalid value', () => ['--base', eepromFixture(IMAGES.pi4), '--set', 'TFTP_PREFIX=9'], /line \d+: TFTP_PREFIX=9: allowed values are 0, 1, 2/],
    ['a key the board lacks', () => ['--base', eepromFixture(IMAGES.pi4), '--set', 'PCIE_PROBE=1'], /PCIE_PROBE does not exist on the Pi 4/],
    ['a config that is not UTF-8 text', () => {
      writeFileSync(out('latin1.txt'), Buffer.from([0x5b, 0x61, 0x6c, 0x6c, 0x5d, 0x0a, 0x23, 0xe9, 0x0a]));
      return ['--base', eepromFixture(IMAGES.pi4), '--config', out('latin1.txt')];
    }, /not UTF-8 text/],
    ['a bad timestamp', () => ['--base', eepromFixture(IMAGES.pi4), '--timestamp', 'yesterday'], /whole seconds since 1970/],
    ['a --config that is an OS image (3 GiB, never read)', () => {
      writeFileSync(out('os.img'), '');
      truncateSync(out('os.img'), 3 * 1024 ** 3);
      return ['--base', eepromFixture(IMAGES.pi4), '--config', out('os.img')];
    }, /The config .*os\.img is 3\.0 GiB, far larger than a config can be: check the path/],
  ])('build refuses %s: exit 1, a clear message, no output file', async (_what, args, message) => {
    const r = await runBootcard(['eeprom', 'build', ...args(), '--sig', '--out', out('never.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out('never.bin'))).toBe(false);
    expect(existsSync(out('never.sig'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('never'))).toEqual([]);
  });

  it('build refuses a config over the image\'s free space (exit 1, byte counts, no file)', async () => {
    const bytes = fixtureBytes(IMAGES.pi4);
    const next = 0x72e00 + 1024;
    const view = new DataView(bytes.buffer);
    view.setUint32(0x72e68, 0x55aafeef);
    view.setUint32(0x72e6c, next - 0x72e68 - 8);
    view.setUint32(next, 0x55aaf00f);
    view.setUint32(next + 4, 8);
    writeFileSync(out('tight.bin'), bytes);
    const r = await runBootcard(['eeprom', 'build', '--base', out('tight.bin'), '--config', file('c.txt', configOfSize(1100)), '--out', out('never.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/1100 bytes but this image has room for only 1000 bytes/);
    expect(existsSync(out('never.bin'))).toBe(false);
  });

  it('build --pubkey/--digest replace pubkey.bin (RSA-2048, modulus and exponent little-endian) and bootconf.sig', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = file('public.pem', publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const digest = file('bootconf.sig', `${'ab'.repeat(32)}\nts: 5\nrsa2048: ${'cd'.repeat(256)}\n`);
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--set', 'SIGNED_BOOT=1', '--pubkey', pem, '--digest', digest, '--out', out('signed.bin')]);
    expect(r.code).toBe(0);
    const bin = new Uint8Array(readFileSync(out('signed.bin')));
    const key = getEepromFile(bin, 'pubkey.bin');
    const jwk = publicKey.export({ format: 'jwk' });
    expect(key.length).toBe(264);
    expect(Buffer.from(key.subarray(0, 256)).reverse()).toEqual(Buffer.from(jwk.n!, 'base64url'));
    expect(Buffer.from(key.subarray(256))).toEqual(Buffer.from([1, 0, 1, 0, 0, 0, 0, 0]));
    expect(Buffer.from(getEepromFile(bin, 'bootconf.sig')).toString()).toBe(readFileSync(digest, 'utf8'));
    expect(readBootConf(bin)).toMatch(/SIGNED_BOOT=1\n$/);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const bad = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--pubkey', file('small.pem', small), '--out', out('never.bin')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/is an RSA-1024 key; the bootloader verifies only RSA-2048 signatures/);
    expect(existsSync(out('never.bin'))).toBe(false);
  });

  it('warnings do not block a build, --strict makes them errors', async () => {
    const ok = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--set', 'BOOT_ORDER=0x21', '--out', out('warn.bin')]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/warning: .*never ends in restart/);
    const strict = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--set', 'BOOT_ORDER=0x21', '--strict', '--out', out('strict.bin')]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/--strict/);
    expect(existsSync(out('strict.bin'))).toBe(false);
  });

  it('build --batch writes one image and .sig per row, byte-identical to single builds', async () => {
    const csv = file('pis.csv', 'name,CLIENT_IP,TFTP_PREFIX_STR\npi-a,10.0.0.11,"lab/a"\npi-b,10.0.0.12,"lab/b"\n');
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', csv, '--out-dir', out('batch'), '--timestamp', '1700000000']);
    expect(r.code).toBe(0);
    expect(readdirSync(out('batch')).sort()).toEqual(['pi-a', 'pi-b']);
    const single = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--set', 'CLIENT_IP=10.0.0.12', '--set', 'TFTP_PREFIX_STR=lab/b', '--timestamp', '1700000000', '--out', out('single.bin')]);
    expect(single.code).toBe(0);
    expect(sameBytes(new Uint8Array(readFileSync(out('batch/pi-b/pieeprom.bin'))), new Uint8Array(readFileSync(out('single.bin'))))).toBe(true);
    for (const name of ['pi-a', 'pi-b']) {
      const sig = parsePieepromSig(readFileSync(out(`batch/${name}/pieeprom.sig`), 'utf8'));
      expect(sig.ts).toBe(1700000000);
      expect(sig.sha256).toBe(createHash('sha256').update(readFileSync(out(`batch/${name}/pieeprom.bin`))).digest('hex'));
    }
    expect(readBootConf(new Uint8Array(readFileSync(out('batch/pi-a/pieeprom.bin'))))).toMatch(/CLIENT_IP=10\.0\.0\.11\nTFTP_PREFIX_STR=lab\/a\n$/);
    const again = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', csv, '--out-dir', out('batch')]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/--force/);
  });

  it('build --batch refuses --pubkey/--digest (it would build the images without them) and writes nothing', async () => {
    const csv = file('pis.csv', 'name,CLIENT_IP\npi-a,10.0.0.11\n');
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', csv, '--out-dir', out('batch'), '--pubkey', file('k.pem', 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--batch does not take --pubkey or --digest .*give --sign-key KEY\.pem/);
    expect(existsSync(out('batch'))).toBe(false);
  });

  it('build --batch with one bad row writes nothing', async () => {
    const csv = file('pis.csv', 'name,CLIENT_IP\npi-a,10.0.0.11\npi-b,10.0.0.256\n');
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', csv, '--out-dir', out('batch')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 3 \(pi-b\).*CLIENT_IP=10\.0\.0\.256/);
    expect(existsSync(out('batch'))).toBe(false);
  });

  it('validate: exit 0 for a good config, 1 with line numbers for a bad one, board and image aware', async () => {
    expect((await runBootcard(['eeprom', 'validate', eepromFixture('bootconf-netboot.txt'), '--board', '2711'])).code).toBe(0);
    const bad = await runBootcard(['eeprom', 'validate', file('bad.txt', '[all]\nBOOT_ORDER=0xf182\n'), '--board', '2711']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error: line 2: BOOT_ORDER 0xf182: mode 2 \(0x8\)/);
    const pi5only = file('pi5.txt', '[all]\nPCIE_PROBE=1\nBOOT_ORDER=0xf416\n');
    expect((await runBootcard(['eeprom', 'validate', pi5only, '--board', '2712'])).code).toBe(0);
    expect((await runBootcard(['eeprom', 'validate', pi5only])).code).toBe(1);
    const img = await runBootcard(['eeprom', 'validate', eepromFixture(IMAGES.pi5), '--json']);
    expect(img.code).toBe(0);
    expect(JSON.parse(img.stdout)).toMatchObject({ ok: true, results: [{ board: '2712', diagnostics: [] }] });
    const big = await runBootcard(['eeprom', 'validate', file('big.txt', configOfSize(4077)), '--board', '2711']);
    expect(big.code).toBe(1);
    expect(big.stderr).toMatch(/4077 bytes/);
  });

  it('explain says BOOT_ORDER in words, for a value, a config and an image', async () => {
    expect((await runBootcard(['eeprom', 'explain', '--boot-order', '0xf142'])).stdout).toBe('1. network (TFTP) 2. USB mass storage 3. SD card 4. restart\n');
    const conf = await runBootcard(['eeprom', 'explain', eepromFixture('bootconf-netboot.txt')]);
    expect(conf.stdout).toMatch(/line 5 BOOT_ORDER=0xf142 \(every board\): boot order: 1\. network \(TFTP\) 2\. USB mass storage 3\. SD card 4\. restart/);
    const img = await runBootcard(['eeprom', 'explain', eepromFixture(IMAGES.pi5)]);
    expect(img.stdout).toMatch(/1\. SD card 2\. NVMe SSD 3\. USB mass storage 4\. restart/);
    expect((await runBootcard(['eeprom', 'explain'])).code).toBe(2);
  });

  it('extract writes every modifiable file', async () => {
    const r = await runBootcard(['eeprom', 'extract', eepromFixture(IMAGES.pi5), '--out-dir', out('x')]);
    expect(r.code).toBe(0);
    expect(readdirSync(out('x')).sort()).toEqual(['bootconf.sig', 'bootconf.txt', 'bootsys', 'cacert.der', 'pubkey.bin', 'updatetime', 'updatetime.2']);
    expect(readFileSync(out('x/bootconf.txt'), 'utf8')).toBe(readBootConf(fixtureBytes(IMAGES.pi5)));
    expect(readFileSync(out('x/pubkey.bin')).length).toBe(512);
    expect((await runBootcard(['eeprom', 'extract', eepromFixture(IMAGES.pi5), '--out-dir', out('x')])).code).toBe(1);
  });
});
