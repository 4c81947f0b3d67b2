// @vitest-environment happy-dom
/** Files are picked, not typed: the station chooser behind serve, the native dialog and dropped files in the desktop app. */
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appInfoHandler } from '../../electron/ipc/handlers/app.js';
import { dialogOpenHandler, type OpenDialogSpec } from '../../electron/ipc/handlers/files.js';
import { renderWizard } from './harness.js';

/** The picker button beside the field labelled `label` (its name is just Browse… or Choose…). */
async function pickerOf(label: string | RegExp, name: 'Browse…' | 'Choose…'): Promise<HTMLElement> {
  const input = await screen.findByLabelText(label);
  return within(input.closest('.field') as HTMLElement).findByRole('button', { name });
}

afterEach(() => {
  cleanup();
  delete window.bootcardTransport;
});
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-pickers-'));
mkdirSync(path.join(dir, 'rack2'));
writeFileSync(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), 'not really a zip');
symlinkSync('/etc', path.join(dir, 'etc-link'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('behind bootcard serve: Browse… lists the station’s folders', () => {
  it('picks the folder to save in, relative to the output root', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'eeprom-file', step: 'save' }, cwd: dir });
    await user.click(await pickerOf('Folder to save pieeprom.bin and pieeprom.sig in', 'Browse…'));
    const chooser = await screen.findByRole('dialog', { name: /Browse the station/ });
    await waitFor(() => expect(chooser.textContent).toContain('etc-link (a link: not followed)'));
    await user.click(await screen.findByRole('button', { name: '📁 rack2/' }));
    await waitFor(() => expect(screen.getByTestId('chooser-where').textContent).toBe(path.join(dir, 'rack2')));
    await user.click(screen.getByRole('button', { name: 'Use this folder' }));
    expect((screen.getByLabelText('Folder to save pieeprom.bin and pieeprom.sig in') as HTMLInputElement).value).toBe('rack2');
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('picks the UEFI firmware zip by its path on the station, and the wizard then looks at it', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'uefi-card', step: 'configure' }, cwd: dir });
    await user.click(await pickerOf('UEFI firmware (zip or folder)', 'Browse…'));
    await user.click(await screen.findByRole('button', { name: /RPi4_UEFI_Firmware_v1\.34\.zip/ }));
    const field = screen.getByLabelText('UEFI firmware (zip or folder)') as HTMLInputElement;
    expect(field.value).toBe(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'));
    // The real firmware.locate reads what was picked (this one is no zip) and says so.
    expect((await screen.findByText(/zip/i, { selector: '.field-error' })).textContent).toMatch(/\S/);
  });

  it('a file dropped in a browser is on the laptop, not the station: it says to Browse', async () => {
    renderWizard({ state: { recipe: 'uefi-card', step: 'configure' }, cwd: dir });
    await pickerOf('UEFI firmware (zip or folder)', 'Browse…');
    fireEvent.drop(screen.getByLabelText('UEFI firmware (zip or folder)'), { dataTransfer: { files: [new File(['x'], 'fw.zip')] } });
    expect((await screen.findByRole('status')).textContent).toMatch(/use Browse/);
    expect((screen.getByLabelText('UEFI firmware (zip or folder)') as HTMLInputElement).value).toBe('');
  });
});

describe('in the desktop app: the native dialog, and dropped files', () => {
  const electronHandlers = (asked: OpenDialogSpec[], pick: string | null) => ({
    'app.info': appInfoHandler('electron'),
    'dialogs.open': dialogOpenHandler(async (spec) => {
      asked.push(spec);
      return pick === null ? { canceled: true, filePaths: [] } : { canceled: false, filePaths: [pick] };
    }),
  });

  it('Choose… opens the dialog for firmware folders and fills in the folder picked', async () => {
    const user = userEvent.setup();
    const asked: OpenDialogSpec[] = [];
    renderWizard({ state: { step: 'configure' }, handlers: electronHandlers(asked, '/home/me/rpi-eeprom/firmware-2711/default') });
    await user.click(await pickerOf(/^Bootloader firmware/, 'Choose…'));
    await waitFor(() => expect((screen.getByLabelText(/^Bootloader firmware/) as HTMLInputElement).value).toBe('/home/me/rpi-eeprom/firmware-2711/default'));
    expect(asked[0]?.properties).toContain('openDirectory');
  });

  it('a cancelled dialog changes nothing', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'configure', firmwarePath: '/kept' }, handlers: electronHandlers([], null) });
    await user.click(await pickerOf(/^Bootloader firmware/, 'Choose…'));
    expect((screen.getByLabelText(/^Bootloader firmware/) as HTMLInputElement).value).toBe('/kept');
  });

  it('a dropped file fills in its path (from the preload bridge)', async () => {
    window.bootcardTransport = { send: () => undefined, onMessage: () => () => undefined, pathForFile: (f: File) => `/home/me/Downloads/${f.name}` };
    renderWizard({ state: { recipe: 'uefi-card', step: 'configure' }, handlers: electronHandlers([], null) });
    await pickerOf('UEFI firmware (zip or folder)', 'Choose…');
    fireEvent.drop(screen.getByLabelText('UEFI firmware (zip or folder)'), { dataTransfer: { files: [new File(['x'], 'RPi4_UEFI_Firmware_v1.34.zip')] } });
    expect((screen.getByLabelText('UEFI firmware (zip or folder)') as HTMLInputElement).value).toBe('/home/me/Downloads/RPi4_UEFI_Firmware_v1.34.zip');
  });
});
