/** An image cut short (its partition table runs past its end) is refused as truncated by card inspect and flash. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';

const MiB = 1024 * 1024;

describeShared('truncated card images', () => {
  let dir: string;
  let full: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-truncated-'));
    full = path.join(dir, 'full.img');
    const made = await runBootcard(['card', 'recovery', '--board', '2711', '--preset', 'sd', '--size', '64M', '--timestamp', '1700000000',
      '--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2711.bin'), '--out', full]);
    expect(made.code, made.stderr).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function cut(name: string, bytes: number): string {
    const file = path.join(dir, name);
    writeFileSync(file, readFileSync(full).subarray(0, bytes));
    return file;
  }

  it('card inspect of the first 6 MB says truncated (exit 1), not "FAT32 card, no files"', async () => {
    const run = await runBootcard(['card', 'inspect', cut('six.img', 6_000_000)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^bootcard: error: The image is truncated: partition 1 runs to 68 MiB .* ends at 5\.7 MiB/m);
    expect(run.stdout).toBe('');
    const json = await runBootcard(['card', 'inspect', path.join(dir, 'six.img'), '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ code: 'FAT_IMAGE_TRUNCATED', details: { partition: 1, size: 6_000_000, end: 68 * MiB } });
  });

  it('the whole image still inspects (exit 0)', async () => {
    const run = await runBootcard(['card', 'inspect', full]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('recovery.bin');
  });

  it('flash of a 50 MiB truncation to an image file is refused and writes nothing', async () => {
    const target = path.join(dir, 'written.img');
    const run = await runBootcard(['flash', cut('fifty.img', 50 * MiB), '--to', target, '--yes']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/The image is truncated: partition 1 runs to 68 MiB .* ends at 50 MiB/);
    expect(run.stdout).not.toContain('written and verified');
    expect(existsSync(target)).toBe(false);
  });

  it('flash of the whole image to a file is written and verified', async () => {
    const target = path.join(dir, 'whole-copy.img');
    const run = await runBootcard(['flash', full, '--to', target, '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('written and verified');
    expect(readFileSync(target).equals(readFileSync(full))).toBe(true);
  });
});
