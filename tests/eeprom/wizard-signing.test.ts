/**
 * The wizard's "EEPROM image file only" with a signing key, through the real
 * handler table and dispatcher (JSON round trip as on the wire): the saved
 * pieeprom.bin carries a bootconf.sig that openssl verifies, and a
 * passphrase-protected key without its passphrase is refused, nothing saved.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEepromFile, parsePieepromSig, readBootConfBytes } from '../../electron/core/eeprom/index.js';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { hasShared, SHARED_ROOT } from '../helpers/shared.js';
import { wireTransport } from '../helpers/wire.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const describeIt = hasOpenssl && hasShared ? describe : describe.skip;
if (!hasOpenssl || !hasShared) console.warn('[skip] the wizard signing test needs openssl and ../shared.');

let root = '';
const at = (...p: string[]) => path.join(root, ...p);

describeIt('eeprom.build with a signing key (the wizard\'s save step)', () => {
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'bootcard-wizard-sign-'));
    mkdirSync(at('out'));
    spawnSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at('private.pem')]);
    spawnSync('openssl', ['pkey', '-in', at('private.pem'), '-pubout', '-out', at('public.pem')]);
    spawnSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-256-cbc', '-pass', 'pass:s3cret', '-out', at('locked.pem')]);
  }, 60_000);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const build = (request: object) =>
    createClient(wireTransport(createHandlers({ frontEnd: 'serve', outputRoot: root }))).call('eeprom.build', {
      board: '2711',
      firmwarePath: path.join(SHARED_ROOT, 'fixtures', 'rpi-eeprom'),
      config: '[all]\nBOOT_ORDER=0xf7\nHTTP_HOST=boot.example.org\nSIGNED_BOOT=1\n',
      outputDir: 'out',
      ...request,
    });

  it('signs the config: bootconf.sig verifies with openssl, and the result says so', async () => {
    const result = await build({ signKeyPath: at('private.pem') });
    expect(result.signed).toBe(true);
    expect(result.diagnostics.map((d) => d.code)).not.toContain('EEPROM_HTTP_HOST_WITHOUT_KEY');
    const bin = new Uint8Array(readFileSync(result.imagePath));
    writeFileSync(at('conf.txt'), readBootConfBytes(bin));
    writeFileSync(at('sig.bin'), Buffer.from(parsePieepromSig(Buffer.from(getEepromFile(bin, 'bootconf.sig')).toString()).rsa2048!, 'hex'));
    const verified = spawnSync('openssl', ['dgst', '-sha256', '-verify', at('public.pem'), '-signature', at('sig.bin'), at('conf.txt')], { encoding: 'utf8' });
    expect(verified.stdout).toContain('Verified OK');
  });

  it('a passphrase key: refused without the passphrase (nothing saved), signed with it', async () => {
    rmSync(at('out'), { recursive: true, force: true });
    mkdirSync(at('out'));
    await expect(build({ signKeyPath: at('locked.pem') })).rejects.toMatchObject({ code: 'EEPROM_KEY_NEEDS_PASSPHRASE' });
    expect(existsSync(at('out', 'pieeprom.bin'))).toBe(false);
    const ok = await build({ signKeyPath: at('locked.pem'), signKeyPassphrase: 's3cret' });
    expect(ok.signed).toBe(true);
  });

  it('without a key: unsigned, and the custom HTTP_HOST is warned', async () => {
    const result = await build({ replace: true });
    expect(result.signed).toBe(false);
    expect(result.diagnostics.map((d) => d.code)).toContain('EEPROM_HTTP_HOST_WITHOUT_KEY');
  });
});
