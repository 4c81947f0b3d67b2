// @vitest-environment happy-dom
/** Remembered settings and named profiles in the wizard, over the real handlers and store. */
import { cleanup, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { profileStore } from '../../electron/core/profiles/store.io.js';
import { wizardSettingsSchema } from '../../electron/core/profiles/profile.js';
import { TEST_CONFIG_DIR, renderWizard } from './harness.js';

afterEach(cleanup);
const store = profileStore(TEST_CONFIG_DIR);

describe('remembered settings and profiles', () => {
  it('the last recipe and its settings come back when the wizard opens again', async () => {
    const user = userEvent.setup();
    // A first visit: a Pi 5 bootloader image file, then on to Configure.
    renderWizard({ fresh: true });
    // The steps appear once the (here: no) last settings have been asked for.
    await user.click(await screen.findByRole('radio', { name: /EEPROM image file only/ }));
    await user.click(screen.getByRole('radio', { name: /^Pi 5 \/ Pi 500/ }));
    await user.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(JSON.parse(readFileSync(path.join(TEST_CONFIG_DIR, 'last.json'), 'utf8'))).toMatchObject({ recipe: 'eeprom-file', board: '2712' }));
    cleanup();
    // The next visit starts from them.
    renderWizard({ fresh: true });
    expect(((await screen.findByRole('radio', { name: /EEPROM image file only/ })) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByRole('radio', { name: /^Pi 5 \/ Pi 500/ }) as HTMLInputElement).checked).toBe(true);
  });

  it('saves the settings under a name, and choosing that profile later fills them in', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { board: '2712', tftpIp: '10.42.0.211', bootOrder: [0x2, 0x1, 0xf], preset: 'custom' } });
    await user.type(screen.getByLabelText('Save these settings as'), 'rack A netboot');
    await user.click(screen.getByRole('button', { name: 'Save profile' }));
    expect((await screen.findByRole('status')).textContent).toBe('Saved the profile “rack A netboot”.');
    expect((await store.load('rack A netboot')).settings).toMatchObject({ board: '2712', tftpIp: '10.42.0.211', bootOrder: [2, 1, 15] });
    cleanup();

    renderWizard({ state: {} });
    await user.selectOptions(await screen.findByLabelText('Saved settings'), 'rack A netboot');
    await user.click(screen.getByRole('button', { name: 'Use' }));
    await waitFor(() => expect((screen.getByRole('radio', { name: /^Pi 5 \/ Pi 500/ }) as HTMLInputElement).checked).toBe(true));
    await user.click(screen.getByRole('button', { name: 'Next' }));
    expect((screen.getByLabelText('TFTP server (TFTP_IP)') as HTMLInputElement).value).toBe('10.42.0.211');
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf12');
  });

  it('a name that is a path is refused in words, and nothing is saved', async () => {
    const user = userEvent.setup();
    renderWizard({ state: {} });
    await user.type(screen.getByLabelText('Save these settings as'), '../../etc/x');
    await user.click(screen.getByRole('button', { name: 'Save profile' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/profile name/);
    expect((await store.list()).map((p) => p.name)).not.toContain('../../etc/x');
    expect(wizardSettingsSchema.safeParse({ recipe: 'nope' }).success).toBe(false);
  });
});
