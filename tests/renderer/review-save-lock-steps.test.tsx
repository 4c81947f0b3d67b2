// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readBootConf } from '../../electron/core/eeprom/index.js';
import type { ParsedRequestOf } from '../../electron/ipc/contract.js';
import type { HandlerContext } from '../../electron/ipc/dispatcher.js';
import type { SdLockView } from '../../electron/ipc/channels/sdlock.js';
import { SHARED_ROOT, describeShared } from '../helpers/shared.js';
import { renderWizard } from './harness.js';

afterEach(cleanup);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-steps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const firmwarePath = `${SHARED_ROOT}/fixtures/rpi-eeprom`;
const baseConfig = '[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\nNET_INSTALL_AT_POWER_ON=1\n';
const located = { kind: 'eeprom', board: '2711', basePath: `${firmwarePath}/pieeprom-2711-2026-05-17.bin`, recoveryPath: `${firmwarePath}/recovery-2711.bin`, currentConfig: baseConfig } as const;

describeShared('step 4: review', () => {
  it('shows the real card plan and the picked cards, and writes only after the confirmation', async () => {
    const user = userEvent.setup();
    const requests: ParsedRequestOf<'card.write'>[] = [];
    const cardWrite = async (request: ParsedRequestOf<'card.write'>, ctx: HandlerContext<'card.write'>) => {
      requests.push(request);
      return new Promise<never>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('cancelled by the test'))));
    };
    renderWizard({
      state: { step: 'review', firmwarePath, firmware: located, baseConfig, bootOrder: [0x2, 0x4, 0x1, 0xf], tftpIp: '10.10.0.10', targets: ['/dev/sdb', '/dev/sdc'], targetLabels: { '/dev/sdb': 'Generic STORAGE DEVICE, 16 GB' } },
      handlers: { 'card.write': cardWrite },
    });
    const files = await screen.findByRole('table', { name: 'Files on the card' });
    expect(within(files).getAllByRole('row').map((r) => r.querySelector('code')?.textContent)).toEqual(['recovery.bin', 'pieeprom.bin', 'pieeprom.sig', 'vl805.bin', 'vl805.sig']);
    expect(screen.getByText(/^\[all\]/).textContent).toBe(`${baseConfig}BOOT_ORDER=0xf142\nTFTP_IP=10.10.0.10\n`);
    expect(screen.getByText(/Generic STORAGE DEVICE, 16 GB/)).toBeTruthy();
    const write = screen.getByRole('button', { name: 'Write 2 cards' }) as HTMLButtonElement;
    expect(write.disabled).toBe(true);
    await user.click(screen.getByRole('checkbox', { name: 'Erase everything on these 2 cards and write it' }));
    await user.click(write);
    expect(await screen.findByRole('heading', { name: 'Writing' })).toBeTruthy();
    expect(requests).toHaveLength(1);
    expect(requests[0]).toEqual({
      recipe: { kind: 'eeprom-recovery', board: '2711', firmwarePath, config: `${baseConfig}BOOT_ORDER=0xf142\nTFTP_IP=10.10.0.10\n` },
      targets: ['/dev/sdb', '/dev/sdc'],
      verify: true,
      lock: false,
      // The reviewed plan's timestamp, so the cards get the image (and SHA-256) shown.
      timestamp: expect.any(Number),
    });
    expect(Math.abs(requests[0]!.timestamp! - Date.now() / 1000)).toBeLessThan(60);
    // Cancel reaches the handler as an abort and the wizard reports it.
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/cancelled by the test|Cancelled/);
  });

  it('shows the reason when the image cannot be made', async () => {
    renderWizard({ state: { step: 'review', firmwarePath: path.join(dir, 'nothing-here'), targets: ['/dev/sdb'] } });
    expect((await screen.findByRole('alert')).textContent).toMatch(/does not exist. Name a firmware folder/);
    expect((screen.getByRole('button', { name: 'Write 1 card' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describeShared('EEPROM image file only: save', () => {
  it('builds pieeprom.bin + pieeprom.sig from the real base image into the chosen folder', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'eeprom-file', step: 'save', firmwarePath, firmware: located, baseConfig, bootOrder: [0x2, 0x1, 0xf] }, cwd: dir });
    mkdirSync(path.join(dir, 'out'), { recursive: true });
    await user.type(screen.getByLabelText(/Folder to save pieeprom.bin/), 'out');
    await user.click(screen.getByRole('button', { name: 'Build and save' }));
    const status = await screen.findByRole('status');
    expect(status.textContent).toContain(path.join(dir, 'out', 'pieeprom.bin'));
    const image = readFileSync(path.join(dir, 'out', 'pieeprom.bin'));
    expect(readBootConf(image)).toBe(`${baseConfig}BOOT_ORDER=0xf12\n`);
    const sig = readFileSync(path.join(dir, 'out', 'pieeprom.sig'), 'utf8');
    expect(sig).toMatch(new RegExp(`^${createHash('sha256').update(image).digest('hex')}\nts: \\d+\n$`));
    expect(status.textContent).toContain(createHash('sha256').update(image).digest('hex'));
  });
});

describe('lock / unlock', () => {
  it('reads the card’s write-protect state and locks and unlocks it', async () => {
    const user = userEvent.setup();
    let state: SdLockView['state'] = 'off';
    const calls: string[] = [];
    const view = (device: string): SdLockView => ({ device, state });
    renderWizard({
      state: { recipe: 'sdlock', step: 'lock', targets: ['/dev/mmcblk0'] },
      handlers: {
        'sdlock.status': async ({ device }) => (calls.push(`status ${device}`), view(device)),
        'sdlock.lock': async ({ device }) => (calls.push(`lock ${device}`), (state = 'temporary'), view(device)),
        'sdlock.unlock': async ({ device }) => (calls.push(`unlock ${device}`), (state = 'off'), view(device)),
      },
    });
    expect((await screen.findByTestId('lock-state')).textContent).toMatch(/^Not write-protected/);
    expect((screen.getByRole('button', { name: 'Unlock' }) as HTMLButtonElement).disabled).toBe(true);
    await user.click(screen.getByRole('button', { name: 'Lock' }));
    await waitFor(() => expect(screen.getByTestId('lock-state').textContent).toMatch(/^Write-protected \(temporary\)/));
    await user.click(screen.getByRole('button', { name: 'Unlock' }));
    await waitFor(() => expect(screen.getByTestId('lock-state').textContent).toMatch(/^Not write-protected/));
    expect(calls).toEqual(['status /dev/mmcblk0', 'lock /dev/mmcblk0', 'unlock /dev/mmcblk0']);
  });

  it('shows why a card cannot be read (the real handler on a device that is no SD card)', async () => {
    renderWizard({ state: { recipe: 'sdlock', step: 'lock', targets: ['/dev/null'] } });
    // The sdlock core's own words (or, where the addon is not built, how to build it); Lock and Unlock stay off.
    await waitFor(() => expect(screen.getAllByRole('alert')).toHaveLength(2));
    const [lockAlert, inspectAlert] = screen.getAllByRole('alert');
    expect(lockAlert!.textContent).toMatch(/\/dev\/null is not an SD card in a raw MMC\/SD slot|write-protect addon .* is not built/);
    // The inspection below refuses it too: it reads only disks the drive layer lists.
    expect(inspectAlert!.textContent).toBe('/dev/null is a character device, not a disk. Pick a card from the list, or name an image file.');
    expect((screen.getByRole('button', { name: 'Lock' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Unlock' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('UEFI card: configure', () => {
  it('checks config.txt lines with the card core’s parser and the timeout as a number', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'uefi-card', step: 'configure' } });
    expect(screen.getByRole('heading', { name: 'Configure the UEFI card' })).toBeTruthy();
    await user.type(screen.getByLabelText(/config.txt changes/), 'arm_boost');
    expect(screen.getByRole('alert').textContent).toMatch(/Line 1: "arm_boost" is not a config.txt line/);
    await user.clear(screen.getByLabelText(/config.txt changes/));
    await user.type(screen.getByLabelText(/Boot menu timeout/), 'soon');
    expect(screen.getByRole('alert').textContent).toBe('The boot timeout is a whole number of seconds.');
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
    // What the firmware cannot hold is caught here, not by the request schema on the Review step.
    await user.clear(screen.getByLabelText(/Boot menu timeout/));
    await user.type(screen.getByLabelText(/Boot menu timeout/), '99999');
    expect(screen.getByRole('alert').textContent).toBe('The boot timeout is at most 65535 seconds.');
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(true);
  });
});
