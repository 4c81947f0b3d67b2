/**
 * Issue 13 end to end, in Debian's Chromium against `bootcard serve`: the wizard makes a UEFI card
 * with PXE first for one Pi (a bad MAC is refused inline first, saying where to find the MAC), HTTP
 * boot second and network options only, writes it to a loop device, and the PXE option is read back
 * from the written card with the FAT reader and the independent edk2 store parser; Review listed the
 * variables before writing, and Inspect shows them stored on the card.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openByteReader } from '../../electron/core/fat32/byte-reader.io.js';
import { readFatImage } from '../../electron/core/fat32/index.js';
import { makeZip, pftfEntries } from '../card/firmware-zip.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { describeShared } from '../helpers/shared.js';
import { pythonParse, u16 } from '../uefi/helpers.js';
import { SCREENSHOTS, chromiumMissingReason, ensureRendererBuilt, launchChromium, startServeChild, type Browser, type ServeChild } from './setup.js';

const describeChromium: typeof describe = chromiumMissingReason ? (((name: string, fn: () => void) => describe.skip(`${name} (skipped: ${chromiumMissingReason})`, fn)) as typeof describe) : describe;

/** The UEFI card's default 256 MiB partition at 1 MiB, with room to spare. */
const CARD_BYTES = 300 * 1024 * 1024;
const POLL = { timeout: 20_000 } as const;
const E2E_TIMEOUT = 180_000;

/** edk2's PXEv4 option for the Pi's GENET NIC dc:a6:32:01:02:03, byte for byte (see tests/uefi/network-boot.test.ts). */
const PXE_DCA632010203 =
  '01000000' + '4400' + Buffer.from('UEFI PXEv4 (MAC:DCA632010203)\0', 'utf16le').toString('hex') +
  '030b2500' + 'dca632010203' + '00'.repeat(26) + '01' + '030c1b00' + '00'.repeat(23) + '7fff0400' + '4eac0881119f594d850ee21a522c59b2';

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

describeShared('wizard: UEFI card with PXE first', () => {
  describeLoop('in Chromium against bootcard serve', () => {
    describeChromium('with one loop device', () => {
      let server: ServeChild;
      let browser: Browser;
      let page: Page;
      let dir: string;
      let loop: LoopDevice | undefined;

      beforeAll(async () => {
        ensureRendererBuilt();
        mkdirSync(SCREENSHOTS, { recursive: true });
        dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-e2e-uefi-'));
        loop = attachLoop(CARD_BYTES, dir);
        server = await startServeChild(['--include-loop', '--output-dir', dir]);
        browser = await launchChromium();
        page = browser.context.pages()[0] ?? (await browser.context.newPage());
      });

      afterAll(async () => {
        await browser?.close();
        await server?.stop();
        loop?.detach();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('makes the card, refusing a bad MAC first, and the PXE option is on the written card', async () => {
        const device = loop!.device;
        const zip = makeZip(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), pftfEntries(path.join(dir, 'zip-src')));
        await page.goto(server.url);
        await page.getByRole('radio', { name: /UEFI network-boot card/ }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('heading', { name: 'Configure the UEFI card' }).waitFor();
        expect(await page.getByLabel(/UEFI firmware/).getAttribute('placeholder')).toContain('v1.34');
        await page.getByLabel(/UEFI firmware/).fill(zip);
        await page.getByTestId('firmware-found').waitFor();

        // A MAC with five bytes: refused inline, with where to find the real one, and Next is blocked.
        const mac = page.getByLabel(/PXE boot first/);
        await mac.fill('dc:a6:32:01:02');
        await expect.poll(() => page.getByRole('alert').textContent(), POLL).toContain('is not a MAC address');
        expect(await page.getByRole('alert').textContent()).toContain('ethtool -P eth0');
        expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
        await mac.fill('dc:a6:32:01:02:03');
        await page.getByLabel(/HTTP boot first/).fill('http://192.168.1.10/boot/bootaa64.efi');
        await page.getByRole('checkbox', { name: /Network options only/ }).check();
        await page.getByLabel(/Asset tag/).fill('rack1-pi1');
        await expect.poll(() => page.getByRole('alert').count(), POLL).toBe(0);
        const written = page.getByRole('list', { name: 'Written into RPI_EFI.fd' });
        await expect.poll(async () => ((await written.count()) > 0 ? written.textContent() : ''), POLL).toContain('Boot0000 = "UEFI PXEv4 (MAC:DCA632010203)" MAC(DCA632010203,0x1)/IPv4(...)');
        await page.getByRole('group', { name: 'Network boot' }).evaluate((el) => el.scrollIntoView());
        await shot(page, '10-uefi-pxe');
        await page.getByRole('button', { name: 'Next' }).click();

        await page.getByRole('heading', { name: 'Choose the cards to write' }).waitFor();
        await page.getByRole('checkbox', { name: new RegExp(`${device} ·`) }).check();
        await page.getByRole('button', { name: 'Next' }).click();

        // Review lists the variables the card's RPI_EFI.fd gets, PXE then HTTP.
        await page.getByRole('heading', { name: 'Review' }).waitFor();
        const variables = page.getByRole('table', { name: 'UEFI variables written into RPI_EFI.fd' });
        await variables.waitFor();
        const rows = await variables.locator('tr').allTextContents();
        expect(rows).toContain('Boot0000"UEFI PXEv4 (MAC:DCA632010203)" MAC(DCA632010203,0x1)/IPv4(...)');
        expect(rows).toContain('Boot0001"UEFI HTTP boot (bootcard)" Uri(http://192.168.1.10/boot/bootaa64.efi)');
        expect(rows).toContain('BootOrder0000,0001');
        await page.getByRole('checkbox', { name: /Erase everything on this card/ }).check();
        await page.getByRole('button', { name: 'Write 1 card' }).click();
        await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 90_000 });
        expect(await page.getByTestId('done-summary').textContent()).toBe('1 of 1 card written and verified.');

        // The written card: RPI_EFI.fd read off the loop device, its store parsed independently.
        const reader = await openByteReader(device);
        let fd: Uint8Array;
        try {
          fd = await (await readFatImage(reader)).volume.readFile('RPI_EFI.fd');
        } finally {
          await reader.close();
        }
        const live = Object.fromEntries(pythonParse(fd).variables.filter((v) => v.live).map((v) => [v.name, v.data]));
        expect(live.Boot0000).toBe(PXE_DCA632010203);
        expect(live.BootOrder).toBe(u16(0) + u16(1));
        expect(Object.keys(live).filter((n) => /^Boot[0-9A-F]{4}$/.test(n))).toEqual(['Boot0000', 'Boot0001']);

        // Inspect shows the variables stored on the card.
        await page.getByRole('button', { name: 'Start over' }).click();
        await page.getByRole('radio', { name: /Lock, unlock or inspect a card/ }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('heading', { name: 'Choose the card' }).waitFor();
        await page.getByRole('radio', { name: new RegExp(`${device} ·`) }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        const stored = page.getByRole('table', { name: 'UEFI variables in RPI_EFI.fd' });
        await stored.waitFor({ timeout: 30_000 });
        const storedRows = await stored.locator('tr').allTextContents();
        expect(storedRows).toContain('Boot0000"UEFI PXEv4 (MAC:DCA632010203)" MAC(DCA632010203,0x1)/IPv4(...)');
        expect(storedRows).toContain('AssetTag"rack1-pi1"');
        await shot(page, '11-uefi-inspect');
      }, E2E_TIMEOUT);
    });
  });
});
