import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { DEFAULT_PARTITION_OFFSET } from '../../electron/core/fat32/compose.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { runBootcard } from '../helpers/cli.js';
import { fsckFat, mcopyAll } from './fat-tools.js';
import { makeZip, pftfEntries } from './firmware-zip.js';

const MIB = 1024 * 1024;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-card-loop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeShared('cards on a real block device', () => {
  describeLoop('bootcard card ... --to LOOP --size whole', () => {
    const loops: LoopDevice[] = [];
    afterEach(() => {
      while (loops.length) loops.pop()!.detach();
    });

    /** fsck.fat on the partition through a second loop device with an offset. */
    function fsckPartition(backingFile: string, partitionBytes: number) {
      const part = execFileSync('losetup', ['-f', '--show', '-o', String(DEFAULT_PARTITION_OFFSET), '--sizelimit', String(partitionBytes), backingFile], { encoding: 'utf8' }).trim();
      try {
        return fsckFat(part);
      } finally {
        execFileSync('losetup', ['-d', part]);
      }
    }

    it('writes a UEFI card that fills the device, which fsck.fat, mtools and card inspect read back', async () => {
      const entries = pftfEntries(path.join(dir, 'src'));
      const zip = makeZip(path.join(dir, 'fw.zip'), entries);
      const loop = attachLoop(300 * MIB, dir);
      loops.push(loop);
      const run = await runBootcard(['card', 'uefi', '--firmware', zip, '--to', loop.device, '--include-loop', '--yes', '--size', 'whole', '--config-txt-preset', 'hdmi-1080p']);
      expect(run.code, run.stderr).toBe(0);
      expect(execFileSync('sfdisk', ['-d', loop.device], { encoding: 'utf8' })).toMatch(/start=\s*8192, size=\s*606208, type=ef/);
      const fsck = fsckPartition(loop.backingFile, 296 * MIB);
      expect(fsck.findings, fsck.output).toEqual([]);
      const files = mcopyAll(loop.device, DEFAULT_PARTITION_OFFSET, path.join(dir, 'out'));
      expect(files.size).toBe(entries.filter((e) => !e.directory).length);
      expect(files.get('config.txt')!.toString()).toContain('hdmi_mode=82');
      const inspect = await runBootcard(['card', 'inspect', loop.device, '--json']);
      expect(inspect.code, inspect.stderr).toBe(0);
      const json = JSON.parse(inspect.stdout);
      expect(json.kind).toBe('uefi');
      expect(json.size).toBe(300 * MIB);
      expect(json.configTxt).toContain('hdmi_group=2');
    });

    it('writes a Pi 4 recovery card over an old one, and the old files are gone', async () => {
      const loop = attachLoop(128 * MIB, dir);
      loops.push(loop);
      const files = ['--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2711.bin')];
      const first = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'sd', ...files, '--vl805', eepromFixture('vl805-000138c0.bin'), '--to', loop.device, '--include-loop', '--yes', '--size', 'whole']);
      expect(first.code, first.stderr).toBe(0);
      const second = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'network', ...files, '--to', loop.device, '--include-loop', '--yes', '--size', 'whole', '--timestamp', '1760000000']);
      expect(second.code, second.stderr).toBe(0);
      const fsck = fsckPartition(loop.backingFile, 124 * MIB);
      expect(fsck.findings, fsck.output).toEqual([]);
      const inspect = JSON.parse((await runBootcard(['card', 'inspect', loop.device, '--json'])).stdout);
      expect(inspect.tree.map((f: { name: string }) => f.name).sort()).toEqual(['pieeprom.bin', 'pieeprom.sig', 'recovery.bin']);
      expect(inspect.bootloader.config).toContain('BOOT_ORDER=0xf21');
    });
  });
});
