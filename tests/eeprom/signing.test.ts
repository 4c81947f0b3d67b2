/**
 * Signed boot, checked independently with OpenSSL (Debian's openssl binary):
 * keys are made with `openssl genpkey`, signatures checked with
 * `openssl dgst -sha256 -verify`, the modulus read with `openssl rsa -modulus`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEepromFile, parsePieepromSig, readBootConf, readBootConfBytes } from '../../electron/core/eeprom/index.js';
import { openByteReader } from '../../electron/core/fat32/byte-reader.io.js';
import { readFatImage } from '../../electron/core/fat32/reader.js';
import { runBootcard } from '../helpers/cli.js';
import { eepromFixture, hasShared } from '../helpers/shared.js';
import { IMAGES } from './helpers.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) console.warn('[skip] openssl is not installed: the signing tests need it as an independent check.');
if (!hasShared) console.warn('[skip] ../shared is missing: the signing tests need the rpi-eeprom fixtures.');
const describeSigning = hasOpenssl && hasShared ? describe : describe.skip;

const TS = 1_790_000_000;
let dir = '';
const at = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** `openssl dgst -sha256 -verify`: true when `sigHex` is a valid signature of `file` under public.pem. */
function opensslVerifies(file: string, sigHex: string): boolean {
  const bin = at(`sig-${Math.random().toString(16).slice(2)}.bin`);
  writeFileSync(bin, Buffer.from(sigHex, 'hex'));
  const r = spawnSync('openssl', ['dgst', '-sha256', '-verify', at('public.pem'), '-signature', bin, file], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('Verified OK');
}

describeSigning('signing as rpi-eeprom-digest does (checked with openssl)', () => {
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'bootcard-signing-'));
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('private.pem'));
    openssl('pkey', '-in', at('private.pem'), '-pubout', '-out', at('public.pem'));
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('other.pem'));
    openssl('pkey', '-in', at('other.pem'), '-pubout', '-out', at('other-public.pem'));
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', at('small.pem'));
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-256-cbc', '-pass', 'pass:open sesame', '-out', at('locked.pem'));
    writeFileSync(at('passphrase.txt'), 'open sesame\n');
    writeFileSync(at('bootconf.txt'), '[all]\nBOOT_UART=1\nBOOT_ORDER=0xf7\nHTTP_HOST=boot.example.org\nHTTP_PATH=pis\nSIGNED_BOOT=1\n');
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('eeprom sign writes sha256, ts, target-soc and an rsa2048 line that openssl verifies', async () => {
    const r = await runBootcard(['eeprom', 'sign', at('bootconf.txt'), '--key', at('private.pem'), '--timestamp', String(TS), '--target-soc', '2712', '--out', at('bootconf.sig')]);
    expect(r.code).toBe(0);
    const text = readFileSync(at('bootconf.sig'), 'utf8');
    const sha = openssl('dgst', '-sha256', '-r', at('bootconf.txt')).split(' ')[0];
    const lines = text.split('\n');
    expect(lines[0]).toBe(sha);
    expect(lines.slice(1, 3)).toEqual([`ts: ${TS}`, 'target-soc: 2712']);
    expect(lines[3]).toMatch(/^rsa2048: [0-9a-f]{512}$/);
    expect(lines.slice(4)).toEqual(['']);
    expect(opensslVerifies(at('bootconf.txt'), parsePieepromSig(text).rsa2048!)).toBe(true);
    // PKCS#1 v1.5 is deterministic: openssl's own signature is the same bytes.
    const own = at('openssl.sig.bin');
    openssl('dgst', '-sha256', '-sign', at('private.pem'), '-out', own, at('bootconf.txt'));
    expect(readFileSync(own).toString('hex')).toBe(parsePieepromSig(text).rsa2048);
    // The private key appears nowhere in what bootcard printed.
    expect(r.stdout + r.stderr).not.toMatch(/PRIVATE KEY|MII/);
  });

  it('eeprom verify exits 0 for a good signature, 1 for a changed file, another key or a signature of another file', async () => {
    await runBootcard(['eeprom', 'sign', at('bootconf.txt'), '--key', at('private.pem'), '--timestamp', String(TS), '--out', at('good.sig')]);
    const good = await runBootcard(['eeprom', 'verify', at('bootconf.txt'), '--sig', at('good.sig'), '--key', at('public.pem')]);
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/OK: .* is a valid RSA-2048 signature/);

    writeFileSync(at('tampered.txt'), readFileSync(at('bootconf.txt'), 'utf8').replace('0xf7', '0xf1'));
    const tampered = await runBootcard(['eeprom', 'verify', at('tampered.txt'), '--sig', at('good.sig'), '--key', at('public.pem')]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/is not the signature of .*tampered\.txt: its SHA-256 is/);

    // The .sig's hash line rewritten to match the tampered file: now the RSA check itself must fail.
    const forged = readFileSync(at('good.sig'), 'utf8').replace(/^[0-9a-f]{64}/, openssl('dgst', '-sha256', '-r', at('tampered.txt')).split(' ')[0]!);
    writeFileSync(at('forged.sig'), forged);
    const forgedRun = await runBootcard(['eeprom', 'verify', at('tampered.txt'), '--sig', at('forged.sig'), '--key', at('public.pem')]);
    expect(forgedRun.code).toBe(1);
    expect(forgedRun.stderr).toMatch(/does not verify with this public key/);

    const otherKey = await runBootcard(['eeprom', 'verify', at('bootconf.txt'), '--sig', at('good.sig'), '--key', at('other-public.pem')]);
    expect(otherKey.code).toBe(1);
    expect(otherKey.stderr).toMatch(/does not verify with this public key/);

    writeFileSync(at('unsigned.sig'), `${openssl('dgst', '-sha256', '-r', at('bootconf.txt')).split(' ')[0]}\nts: ${TS}\n`);
    const unsigned = await runBootcard(['eeprom', 'verify', at('bootconf.txt'), '--sig', at('unsigned.sig'), '--key', at('public.pem')]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toMatch(/has no rsa2048 line/);
  });

  it('build --sign-key embeds a bootconf.sig that openssl verifies and a pubkey.bin that decodes to the key\'s modulus', async () => {
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--config', at('bootconf.txt'), '--sign-key', at('private.pem'), '--timestamp', String(TS), '--out', at('signed.bin')]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/HTTP_HOST/);
    const bin = new Uint8Array(readFileSync(at('signed.bin')));
    const config = readBootConfBytes(bin);
    expect(Buffer.from(config)).toEqual(readFileSync(at('bootconf.txt')));
    const sig = parsePieepromSig(Buffer.from(getEepromFile(bin, 'bootconf.sig')).toString('utf8'));
    expect(sig.ts).toBe(TS);
    expect(sig.sha256).toBe(openssl('dgst', '-sha256', '-r', at('bootconf.txt')).split(' ')[0]);
    expect(opensslVerifies(at('bootconf.txt'), sig.rsa2048!)).toBe(true);

    const pubkey = getEepromFile(bin, 'pubkey.bin');
    expect(pubkey.length).toBe(264);
    const modulus = openssl('rsa', '-pubin', '-in', at('public.pem'), '-noout', '-modulus').trim().replace(/^Modulus=/, '').toLowerCase();
    expect(Buffer.from(pubkey.subarray(0, 256)).reverse().toString('hex')).toBe(modulus);
    expect(Buffer.from(pubkey.subarray(256)).toString('hex')).toBe('0100010000000000');
  });

  it('build --sign-key gives the same bytes as --digest with a .sig made by openssl (rpi-eeprom-digest\'s recipe) plus --pubkey', async () => {
    // rpi-eeprom-digest -k: sha256sum, "ts: N", then "rsa2048: " + xxd -p of `openssl dgst -sign KEY -sha256`.
    const sigBin = at('openssl-bootconf.sig.bin');
    openssl('dgst', '-sha256', '-sign', at('private.pem'), '-out', sigBin, at('bootconf.txt'));
    const sha = openssl('dgst', '-sha256', '-r', at('bootconf.txt')).split(' ')[0];
    writeFileSync(at('openssl-bootconf.sig'), `${sha}\nts: ${TS}\nrsa2048: ${readFileSync(sigBin).toString('hex')}\n`);
    for (const image of [IMAGES.pi4, IMAGES.pi5]) {
      const viaDigest = await runBootcard(['eeprom', 'build', '--base', eepromFixture(image), '--config', at('bootconf.txt'), '--digest', at('openssl-bootconf.sig'), '--pubkey', at('public.pem'), '--timestamp', String(TS), '--out', at('via-digest.bin')]);
      const viaKey = await runBootcard(['eeprom', 'build', '--base', eepromFixture(image), '--config', at('bootconf.txt'), '--sign-key', at('private.pem'), '--timestamp', String(TS), '--out', at('via-key.bin')]);
      expect([viaDigest.code, viaKey.code]).toEqual([0, 0]);
      expect(Buffer.compare(readFileSync(at('via-digest.bin')), readFileSync(at('via-key.bin'))), image).toBe(0);
    }
  });

  it('a custom HTTP_HOST without a public key in the image is warned in the bootloader\'s words', async () => {
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi5), '--config', at('bootconf.txt'), '--out', at('unsigned.bin')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/HTTP_HOST=boot\.example\.org is set but this image has no public key/);
    expect(r.stderr).toContain('All HTTP downloads must be signed.');
    const strict = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi5), '--config', at('bootconf.txt'), '--strict', '--out', at('strict.bin')]);
    expect(strict.code).toBe(1);
    expect(existsSync(at('strict.bin'))).toBe(false);
  });

  it('a passphrase-protected key needs --passphrase-file; with it the signature is the same', async () => {
    const refused = await runBootcard(['eeprom', 'sign', at('bootconf.txt'), '--key', at('locked.pem'), '--timestamp', String(TS), '--out', at('locked.sig')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is protected by a passphrase: give it with --passphrase-file FILE/);
    expect(existsSync(at('locked.sig'))).toBe(false);
    writeFileSync(at('wrong.txt'), 'not it\n');
    const wrong = await runBootcard(['eeprom', 'sign', at('bootconf.txt'), '--key', at('locked.pem'), '--passphrase-file', at('wrong.txt'), '--timestamp', String(TS), '--out', at('locked.sig')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/The passphrase does not unlock/);
    const ok = await runBootcard(['eeprom', 'sign', at('bootconf.txt'), '--key', at('locked.pem'), '--passphrase-file', at('passphrase.txt'), '--timestamp', String(TS), '--out', at('locked.sig')]);
    expect(ok.code).toBe(0);
    openssl('pkey', '-in', at('locked.pem'), '-passin', 'pass:open sesame', '-pubout', '-out', at('locked-public.pem'));
    const verified = await runBootcard(['eeprom', 'verify', at('bootconf.txt'), '--sig', at('locked.sig'), '--key', at('locked-public.pem')]);
    expect(verified.code).toBe(0);
  });

  it('refuses a public key for signing and a key that is not RSA-2048, writing nothing', async () => {
    const pub = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--sign-key', at('public.pem'), '--out', at('never.bin')]);
    expect(pub.code).toBe(1);
    expect(pub.stderr).toMatch(/is a public key; signing needs the private key/);
    const small = await runBootcard(['eeprom', 'sign', at('bootconf.txt'), '--key', at('small.pem'), '--out', at('never.sig')]);
    expect(small.code).toBe(1);
    expect(small.stderr).toMatch(/is an RSA-1024 key; the bootloader verifies only RSA-2048 signatures/);
    const both = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--sign-key', at('private.pem'), '--pubkey', at('public.pem'), '--out', at('never.bin')]);
    expect(both.code).toBe(2);
    const oldImage = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4Old), '--sign-key', at('private.pem'), '--out', at('never.bin')]);
    expect(oldImage.code).toBe(1);
    expect(oldImage.stderr).toMatch(/no bootconf\.sig/);
    expect(existsSync(at('never.bin')) || existsSync(at('never.sig'))).toBe(false);
  });

  it('a batch with --sign-key signs every row\'s own config; every signature verifies with openssl', async () => {
    writeFileSync(at('pis.csv'), 'name,CLIENT_IP,TFTP_PREFIX_STR\nrack-01,10.0.1.11,r1\nrack-02,10.0.1.12,r2\nrack-03,10.0.1.13,r3\n');
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi5), '--batch', at('pis.csv'), '--out-dir', at('batch'), '--sign-key', at('private.pem'), '--timestamp', String(TS)]);
    expect(r.code).toBe(0);
    expect(readdirSync(at('batch')).sort()).toEqual(['rack-01', 'rack-02', 'rack-03']);
    const hashes = new Set<string>();
    for (const [i, name] of ['rack-01', 'rack-02', 'rack-03'].entries()) {
      const bin = new Uint8Array(readFileSync(at(`batch/${name}/pieeprom.bin`)));
      expect(readBootConf(bin)).toContain(`CLIENT_IP=10.0.1.1${i + 1}\n`);
      mkdirSync(at(`check-${name}`));
      const conf = at(`check-${name}/bootconf.txt`);
      writeFileSync(conf, readBootConfBytes(bin));
      const sig = parsePieepromSig(Buffer.from(getEepromFile(bin, 'bootconf.sig')).toString('utf8'));
      expect(opensslVerifies(conf, sig.rsa2048!)).toBe(true);
      hashes.add(sig.sha256);
      const modulus = openssl('rsa', '-pubin', '-in', at('public.pem'), '-noout', '-modulus').trim().replace(/^Modulus=/, '').toLowerCase();
      expect(Buffer.from(getEepromFile(bin, 'pubkey.bin').subarray(0, 256)).reverse().toString('hex')).toBe(modulus);
      // The row's pieeprom.sig is the hash of the signed image.
      expect(readFileSync(at(`batch/${name}/pieeprom.sig`), 'utf8').split('\n')[0]).toBe(openssl('dgst', '-sha256', '-r', at(`batch/${name}/pieeprom.bin`)).split(' ')[0]);
    }
    expect(hashes.size).toBe(3);
  });

  it('a recovery card with --sign-key carries a signed config and the public key in its pieeprom.bin', async () => {
    const r = await runBootcard([
      'card', 'recovery', '--board', '2711', '--config', at('bootconf.txt'),
      '--eeprom', eepromFixture(IMAGES.pi4), '--recovery', eepromFixture('recovery-2711.bin'),
      '--sign-key', at('private.pem'), '--timestamp', String(TS), '--out', at('signed-card.img'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const reader = await openByteReader(at('signed-card.img'));
    try {
      const volume = (await readFatImage(reader)).volume;
      const bin = await volume.readFile('pieeprom.bin');
      writeFileSync(at('card-bootconf.txt'), readBootConfBytes(bin));
      const sig = parsePieepromSig(Buffer.from(getEepromFile(bin, 'bootconf.sig')).toString('utf8'));
      expect(opensslVerifies(at('card-bootconf.txt'), sig.rsa2048!)).toBe(true);
      const modulus = openssl('rsa', '-pubin', '-in', at('public.pem'), '-noout', '-modulus').trim().replace(/^Modulus=/, '').toLowerCase();
      expect(Buffer.from(getEepromFile(bin, 'pubkey.bin').subarray(0, 256)).reverse().toString('hex')).toBe(modulus);
      expect(Buffer.from(await volume.readFile('pieeprom.sig')).toString()).toMatch(new RegExp(`^[0-9a-f]{64}\nts: ${TS}\ntarget-soc: 2711\n$`));
    } finally {
      await reader.close();
    }
  });
});
