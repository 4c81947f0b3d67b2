// @vitest-environment happy-dom
/**
 * No error the wizard shows names a CLI flag: the core's errors keep the
 * CLI's wording in `message` and carry the wizard's in details, and the page
 * shows the wizard's.
 */
import { cleanup, screen } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkFirmwareFits, checkPftfFileNames } from '../../electron/core/card/uefi-card.js';
import { BootcardError, wizardMessageOf } from '../../electron/core/errors.js';
import { outputFolderComponents } from '../../electron/core/files/output-path.js';
import { validateBootUri } from '../../electron/core/uefi/device-path.js';
import { parseMacAddress } from '../../electron/core/uefi/network-boot.js';
import { initialState } from '../../renderer/src/wizard/state.js';
import { renderWizard } from './harness.js';

afterEach(cleanup);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-error-words-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FLAG = /(^|\s|\()--[a-z]/;

function thrown(run: () => unknown): BootcardError {
  try {
    run();
  } catch (error) {
    if (error instanceof BootcardError) return error;
    throw error;
  }
  throw new Error('expected a BootcardError');
}

describe('errors in each front end’s words', () => {
  it('the CLI keeps its flag hint; the wizard gets the same problem with what to do on the page', () => {
    const cases: [BootcardError, RegExp, RegExp][] = [
      [thrown(() => checkPftfFileNames(['README.md'])), /or use --version/, /Click “Download the pftf firmware”/],
      [thrown(() => checkFirmwareFits(1e9, 256 * 1024 * 1024)), /--size/, /partition the wizard makes/],
      [thrown(() => validateBootUri('ftp://10.0.0.1/x.efi')), /^--http-boot-first:/, /^HTTP boot URL "ftp:/],
      [thrown(() => parseMacAddress('zz')), /^--pxe-boot-first:/, /^PXE MAC "zz"/],
      [thrown(() => outputFolderComponents('/srv/out', '../elsewhere')), /--output-dir/, /Name a folder inside it/],
    ];
    for (const [error, cli, wizard] of cases) {
      expect(error.message).toMatch(cli);
      const words = wizardMessageOf(error);
      expect(words).toMatch(wizard);
      expect(words).not.toMatch(FLAG);
      // The wording crosses the wire with the error (IPC, the WebSocket of serve).
      expect(wizardMessageOf(BootcardError.fromJSON(JSON.parse(JSON.stringify(error.toJSON()))))).toBe(words);
    }
  });

  it('the UEFI form shows a bad MAC in the wizard’s words, naming the field, not --pxe-boot-first', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'uefi-card', step: 'configure' } });
    await user.type(screen.getByLabelText(/PXE boot first/), 'zz');
    const error = document.getElementById('uefi-pxe-mac-error')?.textContent ?? '';
    expect(error).toMatch(/^PXE MAC "zz"/);
    expect(error).not.toMatch(FLAG);
  });

  it('a manifest saved outside the output folder is refused in the wizard’s words, from the real handler over the wire', async () => {
    const user = userEvent.setup();
    const manifest = [{ device: '/dev/sdb', cardSerial: null, recipe: 'eeprom-recovery 2711', config: '', sha256: 'a'.repeat(64), time: '2026-11-22T01:00:00.000Z', ok: true, error: null }];
    renderWizard({ state: { ...initialState, step: 'done', results: [{ device: '/dev/sdb', ok: true, verified: true, locked: false, cardSerial: null }], manifest }, cwd: dir });
    const name = screen.getByLabelText('Save as');
    await user.clear(name);
    await user.type(name, '../outside.csv');
    await user.click(screen.getByRole('button', { name: 'Save manifest' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toMatch(/is outside the output folder .*Name a folder inside it/);
    expect(alert.textContent).not.toMatch(FLAG);
  });
});
