// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { afterEach, expect, it } from 'vitest';
import { SHARED_ROOT, describeShared } from '../helpers/shared.js';
import { renderWizard } from './harness.js';

afterEach(cleanup);

const firmwareDir = `${SHARED_ROOT}/fixtures/rpi-eeprom`;
const next = () => screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement;
const preview = () => screen.getByTestId('bootconf-preview').textContent ?? '';

describeShared('step 2: configure the bootloader', () => {
  it('finds the real firmware, merges the settings into the image’s own config and enables Next', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'configure' } });
    expect(next().disabled).toBe(true);
    await user.type(screen.getByLabelText(/Bootloader firmware/), firmwareDir);
    await waitFor(() => expect(screen.getByTestId('firmware-found').textContent).toContain('pieeprom-2711-2026-05-17.bin'));
    expect(screen.getByTestId('firmware-found').textContent).toContain('recovery-2711.bin');
    // The base image's own lines stay; the wizard's keys are added.
    await waitFor(() => expect(preview()).toBe('[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\nNET_INSTALL_AT_POWER_ON=1\nBOOT_ORDER=0xf12\n'));
    expect(next().disabled).toBe(false);
  });

  it('reorders BOOT_ORDER with the keyboard and shows the hex and the core’s sentence', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'configure' } });
    expect(screen.getByTestId('boot-order-sentence').textContent).toBe('1. network (TFTP) 2. SD card 3. restart');
    screen.getByRole('button', { name: 'Move SD card up' }).focus();
    await user.keyboard('{Enter}');
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf21');
    expect(screen.getByTestId('boot-order-sentence').textContent).toBe('1. SD card 2. network (TFTP) 3. restart');
    await user.selectOptions(screen.getByLabelText('Add a mode'), 'USB mass storage');
    await user.click(screen.getByRole('button', { name: 'Add' }));
    // A new mode goes where it can run: before restart, not after it.
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf421');
    expect(screen.queryByRole('list', { name: 'Boot order warnings' })).toBeNull();
    // Moved after restart by hand, it is never tried: the validator's warning stands beside the list.
    await user.click(screen.getByRole('button', { name: 'Move USB mass storage down' }));
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0x4f21');
    expect(screen.getByRole('list', { name: 'Boot order warnings' }).textContent).toContain('BOOT_ORDER 0x4f21: mode 4 (0x4) comes after restart and is never tried.');
    expect(screen.getByTestId('boot-mode-4').textContent).toContain('never tried');
    await user.click(screen.getByRole('button', { name: 'Move USB mass storage up' }));
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf421');
    expect(screen.queryByRole('list', { name: 'Boot order warnings' })).toBeNull();
    expect(screen.getByTestId('boot-order-sentence').textContent).toBe('1. SD card 2. network (TFTP) 3. USB mass storage 4. restart');
    await user.click(screen.getByRole('button', { name: 'Remove network (TFTP)' }));
    expect(screen.getByTestId('boot-order-hex').textContent).toBe('BOOT_ORDER=0xf41');
    // Without network boot there is nothing to ask a TFTP server.
    expect(screen.queryByLabelText(/TFTP server/)).toBeNull();
  });

  it('shows an invalid TFTP_IP inline, in the validator’s words, and blocks Next until it is fixed', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'configure', firmwarePath: firmwareDir } });
    await waitFor(() => expect(next().disabled).toBe(false));
    const ip = screen.getByLabelText('TFTP server (TFTP_IP)');
    await user.type(ip, '10.0.0.300');
    expect(screen.getByRole('alert').textContent).toBe('TFTP_IP=10.0.0.300: expected an IPv4 address such as 192.168.1.10.');
    expect(ip.getAttribute('aria-invalid')).toBe('true');
    expect(ip.getAttribute('aria-describedby')).toContain('tftp-ip-error');
    expect(next().disabled).toBe(true);
    await user.clear(ip);
    await user.type(ip, '10.0.0.30');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(next().disabled).toBe(false);
    expect(preview()).toContain('TFTP_IP=10.0.0.30\n');
  });

  it('previews the TFTP folder for serial, fixed name and MAC prefixes', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'configure', firmwarePath: firmwareDir } });
    expect(screen.getByTestId('tftp-preview').textContent).toMatch(/^<serial>\/start4\.elf/);
    await user.selectOptions(screen.getByLabelText(/TFTP_PREFIX\)/), 'a fixed name');
    await user.type(screen.getByLabelText(/TFTP_PREFIX_STR/), 'pi4/');
    expect(screen.getByTestId('tftp-preview').textContent).toBe('pi4/start4.elf');
    await waitFor(() => expect(preview()).toContain('TFTP_PREFIX=1\nTFTP_PREFIX_STR=pi4/\n'));
    await user.selectOptions(screen.getByLabelText(/TFTP_PREFIX\)/), 'the Pi’s MAC address');
    expect(screen.getByTestId('tftp-preview').textContent).toMatch(/^<MAC>\/start4\.elf/);
    expect(preview()).toContain('TFTP_PREFIX=2\n');
    expect(preview()).not.toContain('TFTP_PREFIX_STR');
  });

  it('takes advanced keys behind a disclosure and reports the validator’s errors for them', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'configure', firmwarePath: firmwareDir } });
    await waitFor(() => expect(next().disabled).toBe(false));
    await user.click(screen.getByText('Advanced keys'));
    const advanced = screen.getByLabelText(/More settings/);
    await user.type(advanced, 'NET_BOOT_MAX_RETRIES=abc');
    expect(screen.getByRole('alert').textContent).toBe('NET_BOOT_MAX_RETRIES=abc: expected a whole number.');
    expect(next().disabled).toBe(true);
    await user.clear(advanced);
    await user.type(advanced, 'NET_BOOT_MAX_RETRIES=3');
    expect(preview()).toContain('NET_BOOT_MAX_RETRIES=3\n');
    expect(next().disabled).toBe(false);
  });

  it('refuses a Pi 5 image for a Pi 4 card with what to pick instead', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { step: 'configure' } });
    await user.type(screen.getByLabelText(/Bootloader firmware/), `${firmwareDir}/pieeprom-2712-2026-05-26.bin`);
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/is a Pi 5 \(2712\) bootloader, but this card is for a Pi 4 \(2711\)/));
    expect(next().disabled).toBe(true);
  });
});

it('explains a Pi 5 boot order without firmware and asks nothing about TFTP when network is not in it', () => {
  renderWizard({ state: { step: 'configure', board: '2712', bootOrder: [0x6, 0x4, 0x1, 0xf] } });
  expect(screen.getByTestId('boot-order-sentence').textContent).toBe('1. NVMe SSD 2. USB mass storage 3. SD card 4. restart');
  expect(screen.queryByTestId('tftp-preview')).toBeNull();
});
