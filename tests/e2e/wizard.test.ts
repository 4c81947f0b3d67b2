/**
 * The wizard end to end, in Debian's Chromium against `bootcard serve`: an
 * EEPROM network-boot card with a custom BOOT_ORDER and TFTP_IP written onto
 * two loop devices, the cards' bytes checked afterwards with the FAT reader
 * and the EEPROM parser; an invalid TFTP_IP shown inline blocking Next; the
 * token and Origin checks; the written card inspected from the lock / unlock
 * / inspect path. Saves a screenshot of every step to docs/screenshots.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseBootOrder, parseEepromImage, readBootConf } from '../../electron/core/eeprom/index.js';
import { openByteReader } from '../../electron/core/fat32/byte-reader.io.js';
import { readFatImage } from '../../electron/core/fat32/index.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { makeZip, pftfEntries } from '../card/firmware-zip.js';
import { SCREENSHOTS, chromiumMissingReason, ensureRendererBuilt, launchChromium, startServeChild, type Browser, type ServeChild } from './setup.js';

const describeChromium: typeof describe = chromiumMissingReason ? (((name: string, fn: () => void) => describe.skip(`${name} (skipped: ${chromiumMissingReason})`, fn)) as typeof describe) : describe;

const FIRMWARE_DIR = path.dirname(eepromFixture('recovery-2711.bin'));
const CARD_BYTES = 300 * 1024 * 1024;
/**
 * expect.poll gives up after 1 s by default; a round trip through serve's handlers can take longer on a
 * loaded CI machine running every test file at once (Playwright's own waits default to 30 s).
 */
const POLL = { timeout: 20_000 } as const;
/** The wizard flows drive Chromium through many steps and write two cards: more than the 60 s default on a slow machine. */
const E2E_TIMEOUT = 180_000;

/**
 * Passes the API socket's messages through unchanged, except that from the
 * first "verify" progress event of the write on, the server's messages wait
 * until release(): a write of two small cards is over in about a second, too
 * fast to photograph otherwise. The cards are written exactly as without it.
 */
async function pauseWriteForScreenshot(page: Page): Promise<{ verifying: Promise<void>; release(): void }> {
  let writeId: string | null = null;
  let held: string[] | null = null;
  let toPage: ((message: string) => void) | null = null;
  let sawVerify: () => void = () => undefined;
  const verifying = new Promise<void>((resolve) => (sawVerify = resolve));
  await page.routeWebSocket(/\/api\b/, (ws) => {
    const server = ws.connectToServer();
    toPage = (m) => ws.send(m);
    ws.onMessage((message) => {
      const parsed = JSON.parse(String(message)) as { id: string; channel?: string };
      if (parsed.channel === 'card.write') writeId = parsed.id;
      server.send(message);
    });
    server.onMessage((message) => {
      const text = String(message);
      if (held) {
        held.push(text);
        return;
      }
      const parsed = JSON.parse(text) as { id: string; type: string; event?: { type: string; phase?: string; bytes?: number } };
      ws.send(text);
      if (parsed.id === writeId && parsed.type === 'progress' && parsed.event?.type === 'progress' && parsed.event.phase === 'verify' && (parsed.event.bytes ?? 0) > 0) {
        held = [];
        sawVerify();
      }
    });
  });
  return {
    verifying,
    release() {
      const queue = held ?? [];
      held = null;
      for (const m of queue) toPage?.(m);
    },
  };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

describeShared('wizard end to end', () => {
  describeLoop('in Chromium against bootcard serve', () => {
    describeChromium('with two loop devices', () => {
      let server: ServeChild;
      let browser: Browser;
      let page: Page;
      let dir: string;
      let loops: LoopDevice[] = [];

      beforeAll(async () => {
        ensureRendererBuilt();
        mkdirSync(SCREENSHOTS, { recursive: true });
        dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-e2e-'));
        loops = [attachLoop(CARD_BYTES, dir), attachLoop(CARD_BYTES, dir)];
        // The wizard saves only under serve's output folder, into folders that exist.
        server = await startServeChild(['--include-loop', '--output-dir', dir]);
        browser = await launchChromium();
        page = browser.context.pages()[0] ?? (await browser.context.newPage());
      });

      afterAll(async () => {
        await browser?.close();
        await server?.stop();
        for (const l of loops) l.detach();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('refuses a socket without the token, with a wrong one, or from another origin', async () => {
        // The page holds no secret and is served to anyone; its socket answers only once its first message carried the token.
        expect((await fetch(`${server.origin}/`)).status).toBe(200);
        const refused = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`, { origin: server.origin });
          ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: 'not-the-token' })));
          ws.on('close', (code) => resolve(`closed ${code}`));
          ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
          ws.on('error', () => resolve('error'));
        });
        expect(refused).toBe('closed 4401');
        // A page of another origin in the same browser cannot reach the API, even knowing the token.
        const other = http.createServer((_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/html' });
          res.end('<!doctype html><title>elsewhere</title>');
        });
        await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
        try {
          const otherPage = await browser.context.newPage();
          await otherPage.goto(`http://127.0.0.1:${(other.address() as { port: number }).port}/`);
          // A string, so the test runner's transform leaves the page's own WebSocket alone.
          const outcome = await otherPage.evaluate(`new Promise((resolve) => {
            const ws = new WebSocket('ws://127.0.0.1:${server.port}/api');
            ws.onopen = () => {
              ws.send(JSON.stringify({ type: 'auth', token: '${server.token}' }));
              ws.send(JSON.stringify({ type: 'request', id: '1', channel: 'app.info', payload: {} }));
            };
            ws.onmessage = () => resolve('answered');
            ws.onclose = () => resolve('refused');
          })`);
          expect(outcome).toBe('refused');
          await otherPage.close();
        } finally {
          other.close();
        }
        expect(server.log()).toMatch(/refused: WebSocket \/api: foreign Origin http:\/\/127\.0\.0\.1:\d+/);
      });

      it('saves an EEPROM image file, and configures a UEFI card from a firmware zip', async () => {
        await page.goto(server.url);
        await page.getByRole('radio', { name: /EEPROM image file only/ }).check();
        await page.getByRole('radio', { name: /Pi 5 \/ Pi 500/ }).check();
        await page.getByRole('radio', { name: 'USB first' }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByLabel(/Bootloader firmware/).fill(FIRMWARE_DIR);
        await page.getByTestId('firmware-found').waitFor();
        expect(await page.getByTestId('boot-order-hex').textContent()).toBe('BOOT_ORDER=0xf146');
        await page.getByRole('button', { name: 'Next' }).click();
        const out = path.join(dir, 'pieeprom-out');
        mkdirSync(out);
        await page.getByLabel(/Folder to save pieeprom.bin/).fill(out);
        await page.getByRole('button', { name: 'Build and save' }).click();
        await page.getByRole('status').waitFor();
        await shot(page, '7-save-image');
        const image = readFileSync(path.join(out, 'pieeprom.bin'));
        expect(parseEepromImage(image).board).toBe('2712');
        expect(readBootConf(image)).toContain('BOOT_ORDER=0xf146\n');

        const zip = makeZip(path.join(dir, 'RPi4_UEFI_Firmware_v1.34.zip'), pftfEntries(path.join(dir, 'zip-src')));
        await page.getByRole('button', { name: 'Start over' }).click();
        await page.getByRole('radio', { name: /UEFI network-boot card/ }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByLabel(/UEFI firmware/).fill(zip);
        await page.getByTestId('firmware-found').waitFor();
        await page.getByLabel(/Boot menu timeout/).fill('5');
        await page.getByLabel('System table').selectOption({ label: 'ACPI + Devicetree' });
        await page.getByLabel(/config.txt changes/).fill('dtoverlay=disable-bt\narm_boost=');
        const written = page.getByRole('list', { name: 'Written into RPI_EFI.fd' });
        await expect.poll(async () => ((await written.count()) > 0 ? written.textContent() : ''), POLL).toMatch(/^(?=.*Timeout)(?=.*SystemTableMode = 1)/);
        expect(await page.getByTestId('configtxt-preview').textContent()).toContain('dtoverlay=disable-bt');
        await shot(page, '8-uefi-configure');
      }, E2E_TIMEOUT);

      it('builds an EEPROM network-boot card with a custom BOOT_ORDER and TFTP_IP onto two loop devices', async () => {
        const [a, b] = loops as [LoopDevice, LoopDevice];
        const pause = await pauseWriteForScreenshot(page);
        // The page is the wizard of the test before: leave it, so going to the URL loads it afresh (a fragment alone would not).
        await page.goto('about:blank');
        await page.goto(server.url);
        // Step 1: what to make.
        await page.getByRole('heading', { name: 'What do you want to make?' }).waitFor();
        await page.getByRole('radio', { name: /EEPROM bootloader card/ }).check();
        await page.getByRole('radio', { name: /Pi 4 \/ Pi 400/ }).check();
        await page.getByRole('radio', { name: 'Network first' }).check();
        await shot(page, '1-what');
        await page.getByRole('button', { name: 'Next' }).click();

        // Step 2: configure. BOOT_ORDER network, USB, SD, restart = 0xf142.
        await page.getByRole('heading', { name: 'Configure the bootloader' }).waitFor();
        await page.getByLabel(/Bootloader firmware/).fill(FIRMWARE_DIR);
        await page.getByTestId('firmware-found').waitFor();
        await page.getByLabel('Add a mode').selectOption({ label: 'USB mass storage' });
        await page.getByRole('button', { name: 'Add', exact: true }).click();
        // Added where it can run (before restart), then moved up once, above the SD card.
        await page.getByRole('button', { name: 'Move USB mass storage up' }).click();
        expect(await page.getByTestId('boot-order-hex').textContent()).toBe('BOOT_ORDER=0xf142');
        expect(await page.getByTestId('boot-order-sentence').textContent()).toBe('1. network (TFTP) 2. USB mass storage 3. SD card 4. restart');
        // Rows can also be dragged: SD card to the top, then back below USB.
        await page.getByTestId('boot-mode-1').dragTo(page.getByTestId('boot-mode-2'));
        expect(await page.getByTestId('boot-order-hex').textContent()).toBe('BOOT_ORDER=0xf421');
        await page.getByTestId('boot-mode-1').dragTo(page.getByTestId('boot-mode-4'));
        expect(await page.getByTestId('boot-order-hex').textContent()).toBe('BOOT_ORDER=0xf142');

        // An invalid TFTP_IP is shown inline and blocks Next.
        const ip = page.getByLabel('TFTP server (TFTP_IP)');
        await ip.fill('10.10.0.300');
        await expect.poll(() => page.getByRole('alert').textContent(), POLL).toBe('TFTP_IP=10.10.0.300: expected an IPv4 address such as 192.168.1.10.');
        expect(await ip.getAttribute('aria-invalid')).toBe('true');
        expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
        await shot(page, '2-configure-invalid-ip');

        await ip.fill('10.10.0.10');
        await page.getByLabel('Folder on the server (TFTP_PREFIX)').selectOption({ label: 'the Pi’s MAC address' });
        await expect.poll(() => page.getByRole('alert').count(), POLL).toBe(0);
        expect(await page.getByTestId('bootconf-preview').textContent()).toBe(
          '[all]\nBOOT_UART=0\nWAKE_ON_GPIO=1\nPOWER_OFF_ON_HALT=0\nNET_INSTALL_AT_POWER_ON=1\nBOOT_ORDER=0xf142\nTFTP_IP=10.10.0.10\nTFTP_PREFIX=2\n',
        );
        expect(await page.getByRole('button', { name: 'Next' }).isEnabled()).toBe(true);
        await shot(page, '2-configure');
        await page.emulateMedia({ colorScheme: 'dark' });
        await shot(page, '2-configure-dark');
        await page.emulateMedia({ colorScheme: 'light' });
        await page.getByRole('button', { name: 'Next' }).click();

        // Step 3: choose the two loop devices (test mode offers them).
        await page.getByRole('heading', { name: 'Choose the cards to write' }).waitFor();
        for (const loop of [a, b]) await page.getByRole('checkbox', { name: new RegExp(`${loop.device} ·`) }).check();
        await shot(page, '3-cards');
        await page.getByRole('button', { name: 'Next' }).click();

        // Step 4: review and confirm.
        await page.getByRole('heading', { name: 'Review' }).waitFor();
        await page.getByRole('table', { name: 'Files on the card' }).waitFor();
        const files = await page.getByRole('table', { name: 'Files on the card' }).locator('code').allTextContents();
        expect(files).toEqual(['recovery.bin', 'pieeprom.bin', 'pieeprom.sig', 'vl805.bin', 'vl805.sig']);
        const write = page.getByRole('button', { name: 'Write 2 cards' });
        expect(await write.isDisabled()).toBe(true);
        await page.getByRole('checkbox', { name: /Erase everything on these 2 cards/ }).check();
        await shot(page, '4-review');
        await write.click();

        // Step 5: write, with a bar per card (held mid-verify for the screenshot).
        await pause.verifying;
        await page.getByRole('heading', { name: 'Writing' }).waitFor();
        expect(await page.getByRole('progressbar').count()).toBe(2);
        await expect.poll(() => page.getByText(/— Verifying/).count(), POLL).toBeGreaterThan(0);
        await shot(page, '5-write');
        pause.release();

        // Step 6: done, and the manifest.
        await page.getByRole('heading', { name: 'Done' }).waitFor({ timeout: 60_000 });
        expect(await page.getByTestId('done-summary').textContent()).toBe('2 of 2 cards written and verified.');
        const manifestFile = path.join(dir, 'station.csv');
        await page.getByLabel('Save as').fill(manifestFile);
        await page.getByRole('button', { name: 'Save manifest' }).click();
        await expect.poll(() => page.getByRole('status').textContent(), POLL).toBe(`Saved ${manifestFile}`);
        await shot(page, '6-done');

        // The cards' bytes: FAT32 holding recovery.bin and a pieeprom.bin whose bootconf has the settings.
        const recoveryFixture = readFileSync(eepromFixture('recovery-2711.bin'));
        const sums: string[] = [];
        for (const loop of [a, b]) {
          const reader = await openByteReader(loop.device);
          try {
            const { volume } = await readFatImage(reader);
            const pieeprom = await volume.readFile('pieeprom.bin');
            expect(parseEepromImage(pieeprom).board).toBe('2711');
            const conf = readBootConf(pieeprom);
            expect(conf).toContain('BOOT_ORDER=0xf142\n');
            expect(conf).toContain('TFTP_IP=10.10.0.10\n');
            expect(conf).toContain('TFTP_PREFIX=2\n');
            expect(parseBootOrder('0xf142', '2711').steps.map((s) => s.mode.name)).toEqual(['NETWORK', 'USB-MSD', 'SD CARD', 'RESTART']);
            expect(Buffer.from(await volume.readFile('recovery.bin')).equals(recoveryFixture)).toBe(true);
            const sig = new TextDecoder().decode(await volume.readFile('pieeprom.sig'));
            expect(sig.split('\n')[0]).toBe(createHash('sha256').update(pieeprom).digest('hex'));
            sums.push(createHash('sha256').update(pieeprom).digest('hex'));
          } finally {
            await reader.close();
          }
        }
        expect(sums[0]).toBe(sums[1]);
        const csv = readFileSync(manifestFile, 'utf8').split('\r\n');
        expect(csv[0]).toBe('device,cardSerial,recipe,config,sha256,time,ok,error');
        expect(csv.slice(1).filter((l) => l.includes(',ok,'))).toHaveLength(2);
        expect(csv.some((l) => l.startsWith(`${a.device},`))).toBe(true);

        // Lock / unlock / inspect: what is on the card just written, read back through card.inspect.
        await page.getByRole('button', { name: 'Start over' }).click();
        await page.getByRole('radio', { name: /Lock, unlock or inspect a card/ }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByRole('heading', { name: 'Choose the card' }).waitFor();
        await page.getByRole('radio', { name: new RegExp(`${a.device} ·`) }).check();
        await page.getByRole('button', { name: 'Next' }).click();
        await page.getByTestId('inspect-boot-order').waitFor();
        expect(await page.getByTestId('inspect-boot-order').textContent()).toBe('BOOT_ORDER=0xf142: 1. network (TFTP) 2. USB mass storage 3. SD card 4. restart');
        expect(await page.getByRole('region', { name: 'Files' }).locator('code').allTextContents()).toEqual(['pieeprom.bin', 'pieeprom.sig', 'recovery.bin', 'vl805.bin', 'vl805.sig']);
        expect(await page.getByRole('table', { name: 'Partition table' }).locator('tbody tr').count()).toBe(1);
        await shot(page, '9-inspect');
      }, E2E_TIMEOUT);
    });
  });
});
