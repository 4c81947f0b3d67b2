// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../electron/core/manifest/manifest.js';
import type { CardResult } from '../../electron/ipc/channels/card.js';
import { reducer, initialState } from '../../renderer/src/wizard/state.js';
import { formatDuration } from '../../renderer/src/format.js';
import { renderWizard } from './harness.js';

afterEach(cleanup);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-done-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = 'a'.repeat(64);
const results: CardResult[] = [
  { device: '/dev/sdb', ok: true, verified: true, locked: false, cardSerial: '0x1a2b3c4d' },
  { device: '/dev/sdc', ok: false, verified: false, locked: false, cardSerial: null, error: { code: 'WRITE_DEVICE_VANISHED', message: '/dev/sdc went away while it was written: put it back and write it again.' } },
];
const manifest: ManifestEntry[] = [
  { device: '/dev/sdb', cardSerial: '0x1a2b3c4d', recipe: 'eeprom-recovery 2711', config: '[all]\nBOOT_ORDER=0xf12\n', sha256: sha, time: '2026-11-22T01:00:00.000Z', ok: true, error: null },
  { device: '/dev/sdc', cardSerial: null, recipe: 'eeprom-recovery 2711', config: '[all]\nBOOT_ORDER=0xf12\n', sha256: sha, time: '2026-11-22T01:00:02.000Z', ok: false, error: '/dev/sdc went away' },
];

describe('step 5: write', () => {
  it('shows a labelled progress bar per card with phase, bytes, speed and time left, and a Cancel', () => {
    let state = reducer({ ...initialState, targets: ['/dev/sdb', '/dev/sdc'] }, { type: 'writeStarted', targets: ['/dev/sdb', '/dev/sdc'] });
    state = reducer(state, { type: 'writeProgress', event: { type: 'progress', device: '/dev/sdb', phase: 'write', bytes: 8 * 1048576, total: 32 * 1048576, speed: 4 * 1048576 } });
    state = reducer(state, { type: 'writeProgress', event: { type: 'progress', device: '/dev/sdc', phase: 'verify', bytes: 16 * 1048576, total: 32 * 1048576, speed: null } });
    renderWizard({ state });
    const bars = screen.getAllByRole('progressbar');
    expect(bars).toHaveLength(2);
    expect((screen.getByRole('progressbar', { name: /\/dev\/sdb — Writing/ }) as HTMLProgressElement).value).toBeCloseTo(0.25);
    expect((screen.getByRole('progressbar', { name: /\/dev\/sdc — Verifying/ }) as HTMLProgressElement).value).toBeCloseTo(0.5);
    expect(screen.getByTestId('progress--dev-sdb').textContent).toContain('25 % · 4.2 MB/s · 6 s left');
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Back' })).toBeNull();
  });

  it('says time left in whole seconds and minutes (never “1 min 60 s”)', () => {
    expect([59.2, 119.5, 60.4].map(formatDuration)).toEqual(['1 min 0 s', '2 min 0 s', '1 min 1 s']);
  });
});

describe('step 6: done', () => {
  it('lists each card’s outcome, previews the manifest as CSV or JSON, saves it, and offers to write more', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { ...initialState, step: 'done', targets: ['/dev/sdb', '/dev/sdc'], results, manifest }, cwd: dir });
    expect(screen.getByTestId('done-summary').textContent).toBe('1 of 2 cards written and verified.');
    const rows = within(screen.getByRole('table', { name: 'Results' })).getAllByRole('row');
    expect(rows[1]!.textContent).toContain('OK, verified');
    expect(rows[2]!.textContent).toContain('put it back and write it again');
    const preview = screen.getByLabelText('Manifest preview');
    expect(preview.textContent?.split('\r\n')[0]).toBe('device,cardSerial,recipe,config,sha256,time,ok,error');
    expect(preview.textContent).toContain(`/dev/sdb,0x1a2b3c4d,eeprom-recovery 2711,"[all]\nBOOT_ORDER=0xf12\n",${sha}`);
    const file = screen.getByLabelText('Save as') as HTMLInputElement;
    expect(file.value).toMatch(/^bootcard-manifest-.*\.csv$/);
    await user.click(screen.getByRole('radio', { name: 'JSON' }));
    expect(file.value).toMatch(/\.json$/);
    await user.clear(file);
    await user.type(file, 'station.json');
    await user.click(screen.getByRole('button', { name: 'Save manifest' }));
    expect((await screen.findByRole('status')).textContent).toBe(`Saved ${path.join(dir, 'station.json')}`);
    const saved = JSON.parse(readFileSync(path.join(dir, 'station.json'), 'utf8')) as { cards: ManifestEntry[] };
    expect(saved.cards).toEqual(manifest);
    await user.click(screen.getByRole('button', { name: 'Write more with the same settings' }));
    expect(screen.getByRole('heading', { name: 'Choose the cards to write' })).toBeTruthy();
  });

  it('says when a card was written but could not be locked, and why', () => {
    const unlocked: CardResult = { device: '/dev/sdb', ok: true, verified: true, locked: false, cardSerial: null, error: { code: 'SDLOCK_NOT_MMC', message: '/dev/sdb is not an SD card in a raw MMC/SD slot.' } };
    renderWizard({ state: { ...initialState, step: 'done', lock: true, targets: ['/dev/sdb'], results: [unlocked], manifest: [manifest[0]!] } });
    const row = within(screen.getByRole('table', { name: 'Results' })).getAllByRole('row')[1]!;
    expect(row.textContent).toContain('OK, verified; not locked: /dev/sdb is not an SD card in a raw MMC/SD slot.');
  });

  it('“Start over” keeps the settings but unpicks the cards just written', async () => {
    const user = userEvent.setup();
    const { container } = renderWizard({ state: { ...initialState, step: 'done', tftpIp: '10.0.0.1', targets: ['/dev/sdb', '/dev/sdc'], results, manifest } });
    await user.click(screen.getByRole('button', { name: 'Start over' }));
    expect(screen.getByRole('heading', { name: 'What do you want to make?' })).toBeTruthy();
    const after = reducer({ ...initialState, step: 'done', tftpIp: '10.0.0.1', targets: ['/dev/sdb'], results, manifest }, { type: 'startOver' });
    expect(after).toMatchObject({ step: 'what', tftpIp: '10.0.0.1', targets: [], results: [], manifest: [] });
    expect(container.textContent).not.toContain('/dev/sdb');
  });

  it('reports a manifest that cannot be saved, in words the user can act on', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { ...initialState, step: 'done', results, manifest }, cwd: dir });
    const file = screen.getByLabelText('Save as') as HTMLInputElement;
    await user.clear(file);
    // A folder that is really a file: the save must fail and say why.
    writeFileSync(path.join(dir, 'not-a-folder'), 'x');
    await user.type(file, 'not-a-folder/m.csv');
    await user.click(screen.getByRole('button', { name: 'Save manifest' }));
    expect((await screen.findByRole('alert')).textContent).toBe(`${path.join(dir, 'not-a-folder')} is not a folder; name an existing folder.`);
  });
});
