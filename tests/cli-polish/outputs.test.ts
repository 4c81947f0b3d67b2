/** One rule for every output: a missing folder is refused by name (never created), a folder is not a file name, a replaced file keeps its mode, image files get holes. */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';

const base = eepromFixture('pieeprom-2711-2026-05-17.bin');
const recoveryArgs = ['card', 'recovery', '--board', '2711', '--preset', 'sd', '--size', '64M', '--timestamp', '1700000000', '--eeprom', base, '--recovery', eepromFixture('recovery-2711.bin')];

describeShared('CLI outputs', () => {
  let dir: string;
  let card: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-outputs-'));
    card = path.join(dir, 'card.img');
    expect((await runBootcard([...recoveryArgs, '--out', card])).code).toBe(0);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every output into a missing folder is refused naming that folder, and no folder is created', async () => {
    const missing = path.join(dir, 'no-such');
    const runs = [
      ['eeprom', 'build', '--base', base, '--out', path.join(missing, 'deeper', 'x.bin')],
      ['eeprom', 'extract', base, '--out-dir', path.join(missing, 'files')],
      [...recoveryArgs, '--out', path.join(missing, 'c.img')],
      ['flash', card, '--to', path.join(missing, 'c.img'), '--yes'],
    ];
    for (const args of runs) {
      const run = await runBootcard(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toContain(`The folder ${missing} does not exist`);
      expect(run.stderr, args.join(' ')).toContain('bootcard does not create folders');
    }
    expect(existsSync(missing)).toBe(false);
  });

  it('eeprom build --out FOLDER names the folder the user gave, and leaves no temporary file beside it', async () => {
    const folder = path.join(dir, 'a-folder');
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder);
    const run = await runBootcard(['eeprom', 'build', '--base', base, '--out', folder]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`bootcard: error: ${folder} is a folder (--out); name the file to write in it, e.g. --out ${path.join(folder, 'pieeprom.bin')}`);
    expect(run.stderr).not.toContain('.partial');
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('replacing an output keeps its mode: eeprom build, card --out and flash --to FILE', async () => {
    const bin = path.join(dir, 'private.bin');
    writeFileSync(bin, 'old');
    chmodSync(bin, 0o600);
    expect((await runBootcard(['eeprom', 'build', '--base', base, '--out', bin])).code).toBe(0);
    expect(statSync(bin).mode & 0o777).toBe(0o600);
    const img = path.join(dir, 'group.img');
    writeFileSync(img, 'old');
    chmodSync(img, 0o640);
    expect((await runBootcard([...recoveryArgs, '--out', img])).code).toBe(0);
    expect(statSync(img).mode & 0o777).toBe(0o640);
    const flashed = path.join(dir, 'flashed-private.img');
    writeFileSync(flashed, 'old');
    chmodSync(flashed, 0o600);
    const run = await runBootcard(['flash', card, '--to', flashed, '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(statSync(flashed).mode & 0o777).toBe(0o600);
  });

  it('flash IMG --to file.img writes holes, as card --out does, with the same bytes', async () => {
    const target = path.join(dir, 'flashed.img');
    const run = await runBootcard(['flash', card, '--to', target, '--yes']);
    expect(run.code, run.stderr).toBe(0);
    const written = statSync(target);
    expect(written.size).toBe(68 * 1024 * 1024);
    // The card holds ~1 MiB of files: a full copy would allocate all 68 MiB.
    expect(written.blocks * 512).toBeLessThan(16 * 1024 * 1024);
    expect(readFileSync(target).equals(readFileSync(card))).toBe(true);
  });
});
