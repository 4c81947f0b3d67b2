// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { readFatImage, sparseImageReader } from '../../electron/core/fat32/index.js';
import { readUefiSettings } from '../../electron/core/uefi/index.js';
import { composeRecipe } from '../../electron/ipc/handlers/card.js';
import { makeZip, pftfEntries } from '../card/firmware-zip.js';
import { describeShared } from '../helpers/shared.js';
import { renderWizard } from './harness.js';

afterEach(cleanup);

describeShared('the UEFI card in the wizard (a pftf-shaped zip with the real RPI_EFI.fd)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-uefi-wizard-'));
  const zip = makeZip(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), pftfEntries(path.join(dir, 'src')));
  let server: Server;
  const saved = { base: process.env.BOOTCARD_FIRMWARE_BASE_URL, cache: process.env.XDG_CACHE_HOME };

  beforeAll(async () => {
    const bytes = readFileSync(zip);
    server = createServer((req, res) => {
      // happy-dom replaces Node's fetch with a browser one that applies CORS, even to the handler running in this process.
      if (req.url === '/v1.34/RPi4_UEFI_Firmware_v1.34.zip') res.writeHead(200, { 'content-length': bytes.length, 'access-control-allow-origin': '*' }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    process.env.BOOTCARD_FIRMWARE_BASE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.XDG_CACHE_HOME = path.join(dir, 'cache');
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    if (saved.base === undefined) delete process.env.BOOTCARD_FIRMWARE_BASE_URL;
    else process.env.BOOTCARD_FIRMWARE_BASE_URL = saved.base;
    if (saved.cache === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved.cache;
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the firmware zip and previews the UEFI variables the settings write', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'uefi-card', step: 'configure' } });
    await user.type(screen.getByLabelText(/UEFI firmware/), zip);
    await waitFor(() => expect(screen.getByTestId('firmware-found').textContent).toBe(`15 files from ${zip}`));
    await user.type(screen.getByLabelText(/Boot menu timeout/), '7');
    await user.selectOptions(screen.getByLabelText('System table'), 'Devicetree');
    const preview = await screen.findByRole('list', { name: 'Written into RPI_EFI.fd' });
    await waitFor(() => expect(preview.textContent).toMatch(/Timeout/));
    expect((screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement).disabled).toBe(false);
    // config.txt as it will be on the card, edited by the card core as the user types.
    await user.type(screen.getByLabelText(/config.txt changes/), 'arm_boost={Enter}dtoverlay=disable-bt');
    expect(screen.getByTestId('configtxt-preview').textContent).not.toContain('arm_boost');
    expect(screen.getByTestId('configtxt-preview').textContent).toMatch(/^arm_64bit=1\n[\s\S]*dtoverlay=disable-bt\n$/);
  });

  it('downloads the firmware (from a local mirror) and then uses the downloaded zip', async () => {
    const user = userEvent.setup();
    renderWizard({ state: { recipe: 'uefi-card', step: 'configure' } });
    await user.click(screen.getByRole('button', { name: 'Download the pftf firmware' }));
    const field = screen.getByLabelText(/UEFI firmware/) as HTMLInputElement;
    await waitFor(() => expect(field.value).toBe(path.join(dir, 'cache', 'bootcard', 'pftf', 'v1.34', 'RPi4_UEFI_Firmware_v1.34.zip')));
    await waitFor(() => expect(screen.getByTestId('firmware-found').textContent).toMatch(/^15 files from /));
  });

  it('the card the wizard plans carries its settings in RPI_EFI.fd and its config.txt edits', async () => {
    const { image, plan } = await composeRecipe(
      { kind: 'uefi', firmwarePath: zip, configTxt: [{ kind: 'set', key: 'arm_boost', value: '0' }, { kind: 'dtoverlay', value: 'disable-bt' }], uefi: { bootTimeoutSeconds: 7, systemTable: 'dt', ramLimit3GB: false } },
      dir,
      1_700_000_000,
    );
    expect(plan.config).toContain('arm_boost=0\n');
    expect(plan.config).toContain('dtoverlay=disable-bt\n');
    const { volume } = await readFatImage(sparseImageReader(image));
    const settings = readUefiSettings(await volume.readFile('RPI_EFI.fd'));
    expect(settings).toMatchObject({ bootTimeoutSeconds: 7, systemTable: 'dt', ramLimit3GB: false });
  });
});
