// @vitest-environment happy-dom
/**
 * The inspection view on real card images: a Pi 4 EEPROM recovery card and a
 * UEFI card composed by the card core from the real fixtures, saved as .img
 * files and read back through the real card.inspect handler.
 */
import { cleanup, screen, within } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { composeRecoveryCard, composeUefiCard } from '../../electron/core/card/index.js';
import { formatSize } from '../../renderer/src/format.js';
import { readFirmwareZip } from '../../electron/core/card/firmware-zip.io.js';
import { saveSparseImage } from '../../electron/core/image/sparse-image.io.js';
import { CardInspectionView } from '../../renderer/src/steps/CardInspectionView.js';
import { PFTF_CONFIG_TXT, makeZip, pftfEntries } from '../card/firmware-zip.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { renderWithClient } from './harness.js';

afterEach(cleanup);
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-inspect-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeShared('inspecting a card image', () => {
  it('shows an EEPROM recovery card’s partition table, files, bootloader config and its BOOT_ORDER in words', async () => {
    const card = composeRecoveryCard({
      board: '2711',
      pieeprom: readFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin')),
      recovery: readFileSync(eepromFixture('recovery-2711.bin')),
      vl805: readFileSync(eepromFixture('vl805-000138c0.bin')),
      preset: 'network',
      timestamp: 1760000000,
    });
    const image = path.join(dir, 'recovery.img');
    await saveSparseImage(card, image);
    renderWithClient(<CardInspectionView target={{ image: 'recovery.img' }} />, { cwd: dir });

    const table = await screen.findByRole('table', { name: 'Partition table' });
    const cells = within(table).getAllByRole('row').slice(1).map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent));
    // One FAT32 (LBA) partition at 4 MiB, 256 MiB long: the recovery card's layout, in the wizard's one (decimal) convention.
    expect(cells).toEqual([['1', expect.stringMatching(/^0x0c FAT32/), '4.2 MB', '268 MB']]);
    // The exact figure is one hover away.
    expect(within(table).getAllByRole('row')[1]!.querySelectorAll('td')[3]!.getAttribute('title')).toBe('268,435,456 bytes');
    expect(screen.getByTestId('inspect-summary').textContent).toMatch(/^An EEPROM recovery card .*FAT32 “BOOTLOADER”/);
    const files = screen.getByRole('region', { name: 'Files' });
    // What the card core put on the card, read back, in the wizard's size words.
    const sizeOf = (name: string) => formatSize(card.files.find((f) => f.path.replace(/^\//, '') === name)!.size);
    expect([...files.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'pieeprom.bin 524 kB',
      `pieeprom.sig ${sizeOf('pieeprom.sig')}`,
      `recovery.bin ${formatSize(readFileSync(eepromFixture('recovery-2711.bin')).length)}`,
      `vl805.bin ${formatSize(readFileSync(eepromFixture('vl805-000138c0.bin')).length)}`,
      `vl805.sig ${sizeOf('vl805.sig')}`,
    ]);
    // The bootloader config read out of pieeprom.bin on the card, and its BOOT_ORDER in the EEPROM core's words.
    const bootconf = screen.getByLabelText(/Bootloader config in pieeprom.bin \(Pi 4, 2711\)/);
    expect(bootconf.textContent).toBe(readFileSync(eepromFixture('imager-2711-boot-conf-network.txt'), 'utf8'));
    expect(screen.getByTestId('inspect-boot-order').textContent).toBe('BOOT_ORDER=0xf21: 1. SD card 2. network (TFTP) 3. restart');
    // A recovery card has no config.txt.
    expect(screen.queryByLabelText('config.txt')).toBeNull();
  });

  it('shows a UEFI card’s config.txt and its folders, which fold away', async () => {
    const zip = makeZip(path.join(dir, 'pftf.zip'), pftfEntries(path.join(dir, 'pftf')));
    const card = composeUefiCard({ firmware: await readFirmwareZip(zip, { partitionSize: 256 * 1024 * 1024 }), configTxt: [{ kind: 'dtoverlay', value: 'disable-bt' }] });
    const image = path.join(dir, 'uefi.img');
    await saveSparseImage(card, image);
    const user = userEvent.setup();
    renderWithClient(<CardInspectionView target={{ image }} />);

    const configTxt = await screen.findByLabelText('config.txt');
    expect(configTxt.textContent).toBe(`${PFTF_CONFIG_TXT}dtoverlay=disable-bt\n`);
    expect(screen.getByTestId('inspect-summary').textContent).toMatch(/^A UEFI firmware card/);
    expect(screen.queryByTestId('inspect-boot-order')).toBeNull();
    const files = screen.getByRole('region', { name: 'Files' });
    expect(within(files).getByText('RPI_EFI.fd')).toBeTruthy();
    const overlays = within(files).getByText('overlays/').closest('details')!;
    expect(overlays.open).toBe(true);
    expect([...overlays.querySelectorAll('li code')].map((c) => c.textContent)).toEqual(['miniuart-bt.dtbo', 'upstream-pi4.dtbo']);
    // A folder folds away from its summary (a native <details>, so Enter and Space do the same in a browser).
    await user.click(within(files).getByText('overlays/'));
    expect(overlays.open).toBe(false);
  });

  it('says why a path cannot be inspected', async () => {
    renderWithClient(<CardInspectionView target={{ image: dir }} />);
    expect((await screen.findByRole('alert')).textContent).toBe(`${dir} is a folder, not an image file. Name a card image file (such as card.img).`);
  });
});
