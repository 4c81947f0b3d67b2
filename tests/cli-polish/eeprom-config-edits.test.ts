/** eeprom build: --unset of a key the config does not set warns; a # comment after a value is refused by name. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';

describeShared('bootloader config edits', () => {
  let dir: string;
  const base = eepromFixture('pieeprom-2711-2026-05-17.bin');
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-config-edits-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--unset KEY that the config does not set: a warning naming it, the image is still written', async () => {
    const out = path.join(dir, 'unset.bin');
    const run = await runBootcard(['eeprom', 'build', '--base', base, '--unset', 'BOOT_ORDR', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('bootcard: warning: --unset BOOT_ORDR: the config does not set BOOT_ORDR, so nothing was removed');
    expect(existsSync(out)).toBe(true);
    const json = await runBootcard(['eeprom', 'build', '--base', base, '--unset', 'BOOT_ORDR', '--out', out, '--json']);
    expect(JSON.parse(json.stdout).diagnostics).toContainEqual(expect.objectContaining({ code: 'EEPROM_UNSET_NOT_SET', key: 'BOOT_ORDR', severity: 'warning' }));
  });

  it('--unset of a key that is set removes it without a warning', async () => {
    const out = path.join(dir, 'unset-real.bin');
    const run = await runBootcard(['eeprom', 'build', '--base', base, '--unset', 'BOOT_UART', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('nothing was removed');
    const read = await runBootcard(['eeprom', 'read', out]);
    expect(read.stdout).not.toContain('BOOT_UART');
  });

  it('--unset under --strict fails and writes nothing', async () => {
    const out = path.join(dir, 'strict.bin');
    const run = await runBootcard(['eeprom', 'build', '--base', base, '--unset', 'BOOT_ORDR', '--strict', '--out', out]);
    expect(run.code).toBe(1);
    expect(existsSync(out)).toBe(false);
  });

  it('BOOT_ORDER=0xf142 # network first is refused naming the comment, not as a bad BOOT_ORDER', async () => {
    const config = path.join(dir, 'commented.txt');
    writeFileSync(config, '[all]\nBOOT_ORDER=0xf142 # network first\n');
    const out = path.join(dir, 'commented.bin');
    const run = await runBootcard(['eeprom', 'build', '--base', base, '--config', config, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"# network first" is not a comment to the bootloader');
    expect(run.stderr).toContain('"# network first" then "BOOT_ORDER=0xf142"');
    expect(run.stderr).not.toMatch(/is not a boot order/);
    expect(existsSync(out)).toBe(false);
    const validate = await runBootcard(['eeprom', 'validate', config, '--board', '2711', '--json']);
    expect(validate.code).toBe(1);
    expect(JSON.stringify(JSON.parse(validate.stdout))).toContain('EEPROM_TRAILING_COMMENT');
  });

  it('the same comment on a line of its own builds, and rpi-eeprom-config\'s bytes go in unchanged', async () => {
    const config = path.join(dir, 'comment-line.txt');
    const text = '[all]\n# network first\nBOOT_ORDER=0xf142\n';
    writeFileSync(config, text);
    const out = path.join(dir, 'comment-line.bin');
    const run = await runBootcard(['eeprom', 'build', '--base', base, '--config', config, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const read = await runBootcard(['eeprom', 'read', out]);
    expect(read.stdout).toBe(text);
    expect(readFileSync(out).length).toBe(524288);
  });
});
