/**
 * The wizard's flashing station in Chromium against a real `bootcard serve`:
 * loop devices are attached while it runs (the station sees only those backed
 * by files in this test's folder: serve --loop-dir), the tab is closed and a new
 * one finds the station still running, and only Stop ends it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { readFileRange } from '../writer/card-image.js';
import { chromiumMissingReason, ensureRendererBuilt, launchChromium, SCREENSHOTS, startServeChild, type Browser, type ServeChild } from './setup.js';

const describeChromium: typeof describe = chromiumMissingReason ? (((name: string, fn: () => void) => describe.skip(`${name} (skipped: ${chromiumMissingReason})`, fn)) as typeof describe) : describe;

const FIRMWARE_DIR = path.dirname(eepromFixture('recovery-2711.bin'));
const MiB = 1024 * 1024;
const POLL = { timeout: 30_000 } as const;

describeShared('the wizard flashing station', () => {
  describeLoop('in Chromium against bootcard serve', () => {
    describeChromium('with loop devices attached while it runs', () => {
      let server: ServeChild;
      let browser: Browser;
      let dir: string;
      const loops: LoopDevice[] = [];
      const attach = (bytes: number) => {
        const l = attachLoop(bytes, dir);
        loops.push(l);
        return l;
      };

      beforeAll(async () => {
        ensureRendererBuilt();
        mkdirSync(SCREENSHOTS, { recursive: true });
        dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-e2e-station-'));
        server = await startServeChild(['--include-loop', '--loop-dir', dir, '--output-dir', dir]);
        browser = await launchChromium();
      });

      afterAll(async () => {
        await browser?.close();
        await server?.stop();
        for (const l of loops) l.detach();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      const tile = (page: Page, loop: LoopDevice) => page.getByTestId(`slot-${loop.device}`);
      const stateOf = (page: Page, loop: LoopDevice) => tile(page, loop).getByTestId('slot-state').textContent({ timeout: 30_000 });

      it('Start station after Review writes each card put in, keeps running with no tab open, and stops only on Stop', async () => {
        const before = attach(300 * MiB);
        const beforeSectors = sectorsWritten(before.device);
        let page = await browser.context.newPage();
        await page.goto(server.url);
        await page.getByRole('heading', { name: 'What do you want to make?' }).waitFor();
        await page.getByRole('radio', { name: /EEPROM bootloader card/ }).check();
        await page.getByRole('radio', { name: /Pi 4 \/ Pi 400/ }).check();
        await page.getByRole('radio', { name: 'Network first' }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('heading', { name: 'Configure the bootloader' }).waitFor();
        await page.getByLabel(/Bootloader firmware/).fill(FIRMWARE_DIR);
        await page.getByTestId('firmware-found').waitFor();
        await page.getByLabel('TFTP server (TFTP_IP)').fill('10.10.0.10');
        await expect.poll(() => page.getByRole('button', { name: 'Next' }).isEnabled(), POLL).toBe(true);
        await page.getByRole('button', { name: 'Next' }).click();

        // No card to pick: the station writes the cards put in later.
        await page.getByRole('heading', { name: 'Choose the cards to write' }).waitFor();
        expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
        await page.getByLabel(/Flashing station instead/).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('heading', { name: 'Review' }).waitFor();
        await page.getByTestId('plan-sha256').waitFor();
        const start = page.getByRole('button', { name: 'Start station' });
        expect(await start.isDisabled()).toBe(true);
        await page.getByLabel('Erase every card put in from now on and write it').check();
        await start.click();

        await page.getByRole('heading', { name: 'Flashing station', exact: true }).waitFor();
        await expect.poll(() => stateOf(page, before), POLL).toBe('There at the start: not written');

        const first = attach(300 * MiB);
        await expect.poll(() => stateOf(page, first), POLL).toBe('Verified');
        await expect.poll(() => page.getByTestId('count-written').textContent(), POLL).toBe('1');

        // The tab closes; a card goes in while no page is open; a new tab finds the station and that card written.
        await page.close();
        const second = attach(301 * MiB);
        page = await browser.context.newPage();
        await page.goto(server.url);
        await page.getByRole('heading', { name: 'Flashing station', exact: true }).waitFor();
        await expect.poll(() => stateOf(page, second), POLL).toBe('Verified');
        await expect.poll(() => page.getByTestId('count-written').textContent(), POLL).toBe('2');

        const small = attach(8 * MiB);
        await expect.poll(() => stateOf(page, small), POLL).toBe('Refused');
        expect(await tile(page, small).textContent()).toMatch(/use a larger card/);
        await expect.poll(() => page.getByTestId('count-failed').textContent(), POLL).toBe('1');
        expect(await page.getByTestId('station-log').textContent()).toMatch(new RegExp(`${second.device}: written and verified`));
        await page.screenshot({ path: path.join(SCREENSHOTS, 'station.png') });

        // Both cards hold the same card: an MBR, and the same first MiBs.
        const head = (l: LoopDevice) => readFileRange(l.backingFile, 0, 8 * MiB);
        expect(head(first).readUInt16LE(510)).toBe(0xaa55);
        expect(head(first).equals(head(second))).toBe(true);
        expect(sectorsWritten(before.device)).toBe(beforeSectors);

        await page.getByRole('button', { name: 'Stop the station' }).click();
        await page.getByRole('heading', { name: 'Flashing station (stopped)' }).waitFor({ timeout: 30_000 });
        // Stopped means stopped: a card put in now is not written.
        const late = attach(302 * MiB);
        const lateSectors = sectorsWritten(late.device);
        await new Promise((r) => setTimeout(r, 2000));
        expect(sectorsWritten(late.device)).toBe(lateSectors);
        await page.getByRole('button', { name: 'Back to the wizard' }).click();
        await page.getByRole('heading', { name: 'What do you want to make?' }).waitFor();
        await page.close();
      }, 180_000);
    });
  });
});
