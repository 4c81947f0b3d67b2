// @vitest-environment happy-dom
/**
 * The wizard's "EEPROM image file only" save screen offers signing: a key path
 * typed there reaches the real handler, and the saved image's config is
 * signed with that key (checked with openssl).
 */
import { cleanup, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getEepromFile, parsePieepromSig, readBootConfBytes } from '../../electron/core/eeprom/index.js';
import { SHARED_ROOT, hasShared } from '../helpers/shared.js';
import { renderWizard } from '../renderer/harness.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const describeIt = hasOpenssl && hasShared ? describe : describe.skip;
if (!hasOpenssl || !hasShared) console.warn('[skip] the wizard signing screen test needs openssl and ../shared.');

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-sign-ui-'));
});
afterEach(() => {
  cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const firmwarePath = `${SHARED_ROOT}/fixtures/rpi-eeprom`;
const baseConfig = '[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\nNET_INSTALL_AT_POWER_ON=1\n';
const located = { kind: 'eeprom', board: '2711', basePath: `${firmwarePath}/pieeprom-2711-2026-05-17.bin`, recoveryPath: `${firmwarePath}/recovery-2711.bin`, currentConfig: baseConfig } as const;

describeIt('Save the EEPROM image with a signing key', () => {
  it('signs the config with the key named on the screen', async () => {
    spawnSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path.join(dir, 'private.pem')]);
    spawnSync('openssl', ['pkey', '-in', path.join(dir, 'private.pem'), '-pubout', '-out', path.join(dir, 'public.pem')]);
    mkdirSync(path.join(dir, 'out'));
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'eeprom-file', step: 'save', firmwarePath, firmware: located, baseConfig, bootOrder: [0x2, 0x1, 0xf] }, cwd: dir });
    await user.type(screen.getByLabelText(/Folder to save pieeprom.bin/), 'out');
    await user.type(screen.getByLabelText(/Signing key/), path.join(dir, 'private.pem'));
    expect(screen.getByLabelText(/Key passphrase/)).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Build and save' }));
    const status = await screen.findByRole('status', {}, { timeout: 15_000 });
    expect(status.textContent).toContain('The config is signed');

    const bin = new Uint8Array(readFileSync(path.join(dir, 'out', 'pieeprom.bin')));
    writeFileSync(path.join(dir, 'conf.txt'), readBootConfBytes(bin));
    writeFileSync(path.join(dir, 'sig.bin'), Buffer.from(parsePieepromSig(Buffer.from(getEepromFile(bin, 'bootconf.sig')).toString()).rsa2048!, 'hex'));
    const verified = spawnSync('openssl', ['dgst', '-sha256', '-verify', path.join(dir, 'public.pem'), '-signature', path.join(dir, 'sig.bin'), path.join(dir, 'conf.txt')], { encoding: 'utf8' });
    expect(verified.stdout).toContain('Verified OK');
  });
});
