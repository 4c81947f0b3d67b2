/**
 * `bootcard uefi vars list` reads RPI_EFI.fd from a card image as hostile
 * input: the size in the card's own directory entry is checked before the
 * file is read (a crafted image may claim up to 4 GiB).
 */
import { mkdtempSync, openSync, readSync, rmSync, writeSync, closeSync, fstatSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { composeUefiCard } from '../../electron/core/card/uefi-card.js';
import { readFirmwareSource } from '../../electron/core/uefi/firmware-file.io.js';
import { saveImage } from '../card/fat-tools.js';
import { describeShared } from '../helpers/shared.js';
import { PFTF_CONFIG_TXT } from '../card/firmware-zip.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-uefi-card-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Sets the size field of the short directory entry named `shortName` (11 bytes, space padded) in the image. */
function patchDirectoryEntrySize(file: string, shortName: string, size: number): void {
  const fd = openSync(file, 'r+');
  try {
    const total = fstatSync(fd).size;
    const chunk = Buffer.alloc(1024 * 1024);
    const name = Buffer.from(shortName, 'latin1');
    for (let at = 0; at < total; at += chunk.length) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      for (let i = 0; i + 32 <= n; i += 32) {
        if (chunk.subarray(i, i + 11).equals(name)) {
          const field = Buffer.alloc(4);
          field.writeUInt32LE(size);
          writeSync(fd, field, 0, 4, at + i + 28);
          return;
        }
      }
    }
    throw new Error(`${shortName} not found`);
  } finally {
    closeSync(fd);
  }
}

describeShared('RPI_EFI.fd on a card image', () => {
  it('is refused when its directory entry claims more than a firmware file can be, before it is read', async () => {
    const card = composeUefiCard({
      firmware: [
        { path: 'RPI_EFI.fd', data: new Uint8Array(0x1f0000).fill(0xff) },
        { path: 'start4.elf', data: new Uint8Array(1000) },
        { path: 'config.txt', data: new TextEncoder().encode(PFTF_CONFIG_TXT) },
      ],
    });
    const image = path.join(dir, 'card.img');
    await saveImage(card, image);
    const honest = await readFirmwareSource(image);
    expect(honest).toMatchObject({ kind: 'card' });
    expect(honest.fd.length).toBe(0x1f0000);
    patchDirectoryEntrySize(image, 'RPI_EFI FD ', 0xfff00000);
    await expect(readFirmwareSource(image)).rejects.toMatchObject({ code: 'UEFI_NV_REGION_NOT_FOUND', message: expect.stringMatching(/RPI_EFI\.fd is 4293918720 bytes, far larger than a firmware file/) });
  });
});
