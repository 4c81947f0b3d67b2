/**
 * `bootcard card uefi --batch pis.csv --station`: one UEFI card per Pi, the
 * card put in first gets the first row's MAC as its PXE boot option, the next
 * card the next row. Real CLI process, loop devices attached while it runs; the
 * card's RPI_EFI.fd is read back from its FAT with bootcard's reader.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { openByteReader } from '../../electron/core/fat32/byte-reader.io.js';
import { readFatImage } from '../../electron/core/fat32/index.js';
import { describeLoop } from '../helpers/loop.js';
import { describeShared, uefiFixture } from '../helpers/shared.js';
import { readLog, StationRun, until } from './station-helpers.js';

const MiB = 1024 * 1024;

describeShared('card uefi --batch --station', () => {
  describeLoop('on loop devices', () => {
    let dir: string;
    let run: StationRun | undefined;
    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-station-uefi-'));
    });
    afterEach(async () => {
      await run?.cleanup();
      run = undefined;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("each card put in gets the next Pi's MAC first in its boot order", async () => {
      const firmware = path.join(dir, 'fw');
      mkdirSync(firmware);
      copyFileSync(uefiFixture('rpi-efi-v1.39-layout.fd'), path.join(firmware, 'RPI_EFI.fd'));
      writeFileSync(path.join(firmware, 'start4.elf'), Buffer.alloc(4096, 0x5a));
      writeFileSync(path.join(firmware, 'fixup4.dat'), Buffer.alloc(512, 0x11));
      writeFileSync(path.join(firmware, 'config.txt'), 'arm_64bit=1\narmstub=RPI_EFI.fd\n');
      const csv = path.join(dir, 'pis.csv');
      writeFileSync(csv, 'name,mac\nrack-pi1,dc:a6:32:00:00:0a\nrack-pi2,dc:a6:32:00:00:0b\n');
      const log = path.join(dir, 'uefi.jsonl');
      run = new StationRun(dir);
      run.start(['card', 'uefi', '--firmware', firmware, '--batch', csv, '--size', '64M', '--station', '--yes', '--include-loop', '--loop-dir', dir, '--log', log]);
      await run.running();

      const macOn = async (device: string) => {
        const reader = await openByteReader(device);
        try {
          const fd = await (await readFatImage(reader)).volume.readFile('RPI_EFI.fd');
          return /UEFI PXEv4 \(MAC:([0-9A-F]{12})\)/.exec(Buffer.from(fd).toString('utf16le'))?.[1];
        } finally {
          await reader.close();
        }
      };
      for (const [size, name, mac] of [[70, 'rack-pi1', 'DCA63200000A'], [71, 'rack-pi2', 'DCA63200000B']] as const) {
        const from = readLog(log).length;
        const card = run.attach(size * MiB);
        const line = await until(`${name}'s card to be logged`, () => readLog(log).slice(from).find((l) => l.device === card.device));
        expect(line, line.error?.message).toMatchObject({ ok: true, row: { name } });
        expect(await macOn(card.device)).toBe(mac);
        card.detach();
      }
      const end = await run.interrupt();
      expect(end.left).toEqual([]);
      expect(end.code).toBe(0);
      expect(end.stdout).toMatch(/>>> label this card: rack-pi2 <<</);
    }, 120_000);
  });
});
