// @vitest-environment happy-dom
/**
 * The wizard's "Prepare the server" after network-boot EEPROM cards, over the
 * real handler table: it builds the same tree as `bootcard netboot tree`, only
 * in existing folders under the output root.
 */
import { cleanup, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CardResult, ManifestEntry } from '../../electron/ipc/channels/card.js';
import { initialState } from '../../renderer/src/wizard/state.js';
import { renderWizard } from '../renderer/harness.js';
import { buildOsImage, toolsMissing } from './os-image.js';

const missing = toolsMissing();
if (missing) console.warn(`[skip] Prepare the server tests: ${missing}.`);
const describeTools = missing ? describe.skip : describe;

afterEach(cleanup);

const results: CardResult[] = [{ device: '/dev/sdb', ok: true, verified: true, locked: false, cardSerial: '0x1a2b3c4d' }];
const manifest: ManifestEntry[] = [
  { device: '/dev/sdb', cardSerial: '0x1a2b3c4d', recipe: 'eeprom-recovery 2711', config: '[all]\nBOOT_ORDER=0xf12\n', sha256: 'a'.repeat(64), time: '2026-11-22T01:00:00.000Z', ok: true, error: null },
];
const networkCards = { ...initialState, step: 'done' as const, recipe: 'eeprom-card' as const, bootOrder: [0x2, 0x1, 0xf], tftpIp: '10.42.0.211', prefixMode: 'mac' as const, targets: ['/dev/sdb'], results, manifest };

describeTools('Prepare the server (wizard)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-prepare-server-'));
    buildOsImage(dir, { compress: false });
    mkdirSync(path.join(dir, 'tftp'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the MAC folders the cards\' EEPROM asks for, in the output folder', async () => {
    const user = userEvent.setup();
    renderWizard({ state: networkCards, cwd: dir });
    expect(screen.getByText(/MAC-address folder \(TFTP_PREFIX=2\)/)).toBeTruthy();
    expect((screen.getByLabelText('Server address') as HTMLInputElement).value).toBe('10.42.0.211');
    await user.type(screen.getByLabelText('OS image'), 'os.img');
    await user.type(screen.getByLabelText('Pis'), 'DC:A6:32:01:36:C2{enter}dc:a6:32:01:36:c3');
    await user.click(screen.getByRole('button', { name: 'Prepare the server' }));
    const done = await screen.findByTestId('netboot-result');
    expect(done.textContent).toContain('Built 2 Pi folders');
    const a = path.join(dir, 'tftp', 'dc-a6-32-01-36-c2', 'kernel8.img');
    const b = path.join(dir, 'tftp', 'dc-a6-32-01-36-c3', 'kernel8.img');
    expect(statSync(a).ino).toBe(statSync(b).ino);
    expect(readFileSync(path.join(dir, 'tftp', 'dc-a6-32-01-36-c2', 'cmdline.txt'), 'utf8')).toContain('root=PARTUUID=1234abcd-02');
  });

  it('refuses a TFTP folder outside the output folder, and says so', async () => {
    const user = userEvent.setup();
    renderWizard({ state: networkCards, cwd: dir });
    await user.type(screen.getByLabelText('OS image'), 'os.img');
    const tftp = screen.getByLabelText('TFTP folder');
    await user.clear(tftp);
    await user.type(tftp, '/etc');
    await user.type(screen.getByLabelText('Pis'), '9ffefdef');
    await user.click(screen.getByRole('button', { name: 'Prepare the server' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/\/etc is outside the output folder/);
  });

  it('is not offered after cards that do not boot from the network', () => {
    renderWizard({ state: { ...networkCards, bootOrder: [0x1, 0x4, 0xf] }, cwd: dir });
    expect(screen.queryByRole('button', { name: 'Prepare the server' })).toBeNull();
  });
});
