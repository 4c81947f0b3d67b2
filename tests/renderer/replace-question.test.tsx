// @vitest-environment happy-dom
/**
 * The save screens ask before replacing files that exist (the handlers refuse
 * with OUTPUT_EXISTS unless the request says replace): real handlers, a real
 * folder as the output root, the page's own question (never window.confirm).
 */
import { cleanup, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ManifestEntry } from '../../electron/core/manifest/manifest.js';
import type { CardResult } from '../../electron/ipc/channels/card.js';
import { initialState } from '../../renderer/src/wizard/state.js';
import { SHARED_ROOT, describeShared } from '../helpers/shared.js';
import { renderWizard } from './harness.js';

let dir: string;
let confirm: ReturnType<typeof vi.fn>;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-replace-'));
  // The page must ask itself: a browser may suppress window.confirm (and one that says yes must not replace anything).
  confirm = vi.fn(() => true);
  vi.stubGlobal('confirm', confirm);
  Object.assign(window, { confirm });
});
afterEach(() => {
  cleanup();
  expect(confirm).not.toHaveBeenCalled();
  vi.unstubAllGlobals();
  rmSync(dir, { recursive: true, force: true });
});

const firmwarePath = `${SHARED_ROOT}/fixtures/rpi-eeprom`;
const baseConfig = '[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\nNET_INSTALL_AT_POWER_ON=1\n';
const located = { kind: 'eeprom', board: '2711', basePath: `${firmwarePath}/pieeprom-2711-2026-05-17.bin`, recoveryPath: `${firmwarePath}/recovery-2711.bin`, currentConfig: baseConfig } as const;

describeShared('Save the EEPROM image: an existing pieeprom.sig', () => {
  it('asks before replacing it, keeps it on "Keep them", and replaces it only on "Replace"', async () => {
    const user = userEvent.setup();
    mkdirSync(path.join(dir, 'out'));
    mkdirSync(path.join(dir, 'other'));
    const sig = path.join(dir, 'out', 'pieeprom.sig');
    writeFileSync(sig, 'the user’s own signature\n');
    renderWizard({ state: { recipe: 'eeprom-file', step: 'save', firmwarePath, firmware: located, baseConfig, bootOrder: [0x2, 0x1, 0xf] }, cwd: dir });
    const folder = screen.getByLabelText(/Folder to save pieeprom.bin/);
    await user.type(folder, 'out');
    await user.click(screen.getByRole('button', { name: 'Build and save' }));

    const question = await screen.findByRole('alertdialog', { name: 'Replace the existing files?' });
    expect(question.textContent).toContain(`pieeprom.sig already exists in ${path.join(dir, 'out')}`);
    expect(document.activeElement?.textContent).toBe('Keep them');
    expect((screen.getByRole('button', { name: 'Build and save' }) as HTMLButtonElement).disabled).toBe(true);
    expect(screen.queryByRole('status')).toBeNull();
    expect(readFileSync(sig, 'utf8')).toBe('the user’s own signature\n');

    await user.click(screen.getByRole('button', { name: 'Keep them' }));
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(readFileSync(sig, 'utf8')).toBe('the user’s own signature\n');

    // Asked about "out", then the folder is changed: the question goes away rather than replacing in a folder nobody was asked about.
    await user.click(screen.getByRole('button', { name: 'Build and save' }));
    await screen.findByRole('alertdialog');
    await user.clear(folder);
    await user.type(folder, 'other');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    await user.clear(folder);
    await user.type(folder, 'out');

    await user.click(screen.getByRole('button', { name: 'Build and save' }));
    await user.click(await screen.findByRole('button', { name: 'Replace' }));
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain(path.join(dir, 'out', 'pieeprom.bin'));
    expect(readFileSync(sig, 'utf8')).toMatch(/^[0-9a-f]{64}\nts: \d+\n$/);
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });
});

describe('Done: an existing manifest', () => {
  const results: CardResult[] = [{ device: '/dev/sdb', ok: true, verified: true, locked: false, cardSerial: null }];
  const manifest: ManifestEntry[] = [{ device: '/dev/sdb', cardSerial: null, recipe: 'uefi', config: 'x', sha256: 'a'.repeat(64), time: '2026-11-22T01:00:00.000Z', ok: true, error: null }];

  it('asks before saving over it, and resends with replace only after "Replace"', async () => {
    const user = userEvent.setup();
    const earlier = 'device,cardSerial,recipe,config,sha256,time,ok,error\r\n/dev/sdz,,uefi,x,,,ok,\r\n';
    writeFileSync(path.join(dir, 'station.csv'), earlier);
    renderWizard({ state: { ...initialState, step: 'done', results, manifest }, cwd: dir });
    const file = screen.getByLabelText('Save as');
    await user.clear(file);
    await user.type(file, 'station.csv');
    await user.click(screen.getByRole('button', { name: 'Save manifest' }));
    const question = await screen.findByRole('alertdialog');
    expect(question.textContent).toContain(`station.csv already exists in ${dir}`);
    expect(readFileSync(path.join(dir, 'station.csv'), 'utf8')).toBe(earlier);

    await user.click(screen.getByRole('button', { name: 'Replace' }));
    expect((await screen.findByRole('status')).textContent).toBe(`Saved ${path.join(dir, 'station.csv')}`);
    await waitFor(() => expect(readFileSync(path.join(dir, 'station.csv'), 'utf8')).toContain('/dev/sdb'));
    expect(screen.queryByRole('alertdialog')).toBeNull();
  });
});
