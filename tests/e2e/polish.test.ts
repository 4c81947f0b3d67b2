/**
 * Issue 15's wizard items in Debian's Chromium against a real `bootcard
 * serve`: no 404 on load (the favicon), a disabled Next that says why, the
 * Download button keeping its one line when its error shows, the station's
 * file chooser, a saved profile, and `--token-file`: after a restart the
 * bookmarked URL opens the wizard again, with the settings it had.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeZip, pftfEntries } from '../card/firmware-zip.js';
import { chromiumMissingReason, ensureRendererBuilt, launchChromium, startServeChild, type Browser, type ServeChild } from './setup.js';

const describeChromium: typeof describe = chromiumMissingReason ? (((name: string, fn: () => void) => describe.skip(`${name} (skipped: ${chromiumMissingReason})`, fn)) as typeof describe) : describe;
const E2E_TIMEOUT = 120_000;
const POLL = { timeout: 20_000 } as const;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describeChromium('wizard polish in Chromium', () => {
  let dir: string;
  let config: string;
  let serveArgs: string[];
  let server: ServeChild;
  let browser: Browser;
  let page: Page;
  const notFound: string[] = [];

  beforeAll(async () => {
    ensureRendererBuilt();
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-e2e-polish-'));
    config = mkdtempSync(path.join(os.tmpdir(), 'bootcard-e2e-polish-config-'));
    // A fixed port, as a station has: the bookmark is the whole URL.
    serveArgs = ['--port', String(await freePort()), '--output-dir', dir, '--token-file', path.join(dir, 'station.token')];
    server = await startServeChild(serveArgs, { XDG_CONFIG_HOME: config });
    browser = await launchChromium();
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('response', (r) => {
      if (r.status() === 404) notFound.push(r.url());
    });
  }, E2E_TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (config) rmSync(config, { recursive: true, force: true });
  });

  it('loads with its favicon and no 404; Next says why it is off; the Download error leaves its button on one line; Browse picks the zip', async () => {
    const zip = makeZip(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), pftfEntries(path.join(dir, 'zip-src')));
    await page.goto(server.url);
    await page.getByRole('radio', { name: /UEFI network-boot card/ }).check();
    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    expect((await fetch(new URL(icon!, server.origin))).headers.get('content-type')).toBe('image/svg+xml');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Configure the UEFI card' }).waitFor();

    const next = page.getByRole('button', { name: 'Next' });
    expect(await next.isDisabled()).toBe(true);
    expect(await next.getAttribute('aria-describedby')).toBe('next-why');
    expect(await page.locator('#next-why').textContent()).toBe('Name the UEFI firmware zip or folder.');

    // Offline, the download fails at once: its error goes below the button, which keeps its size.
    const download = page.getByRole('button', { name: 'Download the pftf firmware' });
    const before = (await download.boundingBox())!;
    await download.click();
    const error = page.locator('.download .field-error');
    await error.waitFor();
    const after = (await download.boundingBox())!;
    expect(after.height).toBe(before.height);
    expect(after.width).toBe(before.width);
    expect((await error.boundingBox())!.y).toBeGreaterThanOrEqual(after.y + after.height);

    // Picked from the station's output folder; the error is gone once firmware is found.
    const field = page.getByLabel('UEFI firmware (zip or folder)');
    await page.locator('.field', { has: field }).getByRole('button', { name: 'Browse…' }).click();
    await page.getByRole('dialog', { name: /Browse the station/ }).getByRole('button', { name: /RPi4_UEFI_Firmware_v1\.34\.zip/ }).click();
    expect(await field.inputValue()).toBe(zip);
    await page.getByTestId('firmware-found').waitFor();
    await expect.poll(() => error.count(), POLL).toBe(0);
    expect(await next.isEnabled()).toBe(true);
    expect(await page.locator('#next-why').count()).toBe(0);
    expect(notFound).toEqual([]);
  }, E2E_TIMEOUT);

  it('saves a profile; after a restart the bookmarked URL (same token file) opens the wizard where it was, with the profile', async () => {
    await page.getByRole('button', { name: 'Back' }).click();
    await page.getByLabel('Save these settings as').fill('rack A netboot');
    await page.getByRole('button', { name: 'Save profile' }).click();
    await page.getByText('Saved the profile “rack A netboot”.').waitFor();
    // The settings are remembered on moving on.
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('heading', { name: 'Configure the UEFI card' }).waitFor();

    const bookmark = server.url;
    await server.stop();
    server = await startServeChild(serveArgs, { XDG_CONFIG_HOME: config });
    expect(server.url).toBe(bookmark);
    await page.goto('about:blank');
    await page.goto(bookmark);
    await expect.poll(() => page.getByRole('radio', { name: /UEFI network-boot card/ }).isChecked(), POLL).toBe(true);
    await page.getByLabel('Saved settings').selectOption({ label: 'rack A netboot (UEFI card)' });
    await page.getByRole('button', { name: 'Use' }).click();
    await page.getByText('Using the profile “rack A netboot”.').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    // The firmware picked before is there again, and found.
    expect(await page.getByLabel('UEFI firmware (zip or folder)').inputValue()).toBe(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'));
    await page.getByTestId('firmware-found').waitFor();
  }, E2E_TIMEOUT);
});
