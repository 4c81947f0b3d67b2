/** Under --json every failure is one JSON object {code, message, details} on stdout, with the usual exit code. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-json-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const junk = path.join(dir, 'junk.bin');
writeFileSync(junk, 'not an image\n');

function errorObject(stdout: string): { code: string; message: string; details: Record<string, unknown> } {
  const parsed = JSON.parse(stdout) as { code: string; message: string; details: Record<string, unknown> };
  expect(Object.keys(parsed).sort()).toEqual(['code', 'details', 'message']);
  return parsed;
}

describe('--json failures', () => {
  it('eeprom read junk.bin --json: exit 1, the error object on stdout, nothing human on stderr', async () => {
    const run = await runBootcard(['eeprom', 'read', junk, '--json']);
    expect(run.code).toBe(1);
    const error = errorObject(run.stdout);
    expect(error.code).toBe('EEPROM_BAD_IMAGE_SIZE');
    expect(error.message).toContain('junk.bin');
    expect(error.details).toMatchObject({ path: junk });
    expect(run.stderr).not.toContain('bootcard: error');
  });

  it('card uefi --firmware junk.zip --json: exit 1 with the archive error as JSON', async () => {
    const zip = path.join(dir, 'junk.zip');
    writeFileSync(zip, 'PK not really');
    const run = await runBootcard(['card', 'uefi', '--firmware', zip, '--out', path.join(dir, 'never.img'), '--json']);
    expect(run.code).toBe(1);
    expect(errorObject(run.stdout).code).toBe('CARD_BAD_ARCHIVE');
  });

  it('flash failing its checks --json: exit 1, one object naming the refusal', async () => {
    const image = path.join(dir, 'tiny.img');
    writeFileSync(image, Buffer.alloc(1024));
    const run = await runBootcard(['flash', image, '--to', '/dev/null', '--yes', '--json']);
    expect(run.code).toBe(1);
    const error = errorObject(run.stdout);
    expect(error.code).toMatch(/^WRITE_/);
    expect(error.message).toContain('/dev/null');
  });

  it('eeprom validate of a bad config --json: only the error object, its details holding the results', async () => {
    const config = path.join(dir, 'bad.txt');
    writeFileSync(config, 'BOOT_ORDER=0x9\n');
    const run = await runBootcard(['eeprom', 'validate', config, '--board', '2711', '--json']);
    expect(run.code).toBe(1);
    const error = errorObject(run.stdout);
    expect(error.code).toBe('EEPROM_INVALID_CONFIG');
    expect(error.details).toMatchObject({ results: [{ board: '2711' }] });
  });

  it('a usage error under --json: exit 2 and a USAGE object', async () => {
    const run = await runBootcard(['eeprom', 'explain', '--bogus', '--json']);
    expect(run.code).toBe(2);
    const error = errorObject(run.stdout);
    expect(error.code).toBe('USAGE');
    expect(error.message).toContain('--bogus');
  });

  it('without --json the failure stays human text on stderr and stdout is empty', async () => {
    const run = await runBootcard(['eeprom', 'read', junk]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^bootcard: error: .*junk\.bin/);
  });

  it('a --json after -- is an argument, not the option', async () => {
    const run = await runBootcard(['eeprom', 'read', '--', '--json']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('bootcard: error');
  });
});

describe('eeprom explain --boot-order with a mode that cannot run', () => {
  it('0x9 (undefined mode) exits 1 with the bootcard: prefix', async () => {
    const run = await runBootcard(['eeprom', 'explain', '--boot-order', '0x9']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^bootcard: error: BOOT_ORDER 0x9: mode 1 \(0x9\) is not a boot mode/m);
    expect(run.stdout).toBe('');
  });

  it('0x5 on a Pi 5 exits 1 naming the board; as JSON it carries the diagnostics', async () => {
    const run = await runBootcard(['eeprom', 'explain', '--boot-order', '0x5', '--board', '2712']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^bootcard: error: .*does not exist on the Pi 5/m);
    const json = await runBootcard(['eeprom', 'explain', '--boot-order', '0x5', '--board', '2712', '--json']);
    expect(json.code).toBe(1);
    const error = errorObject(json.stdout);
    expect(error.code).toBe('EEPROM_BAD_BOOT_ORDER');
    expect(error.details).toMatchObject({ board: '2712', value: '0x5' });
  });

  it('a valid order still explains, exit 0', async () => {
    const run = await runBootcard(['eeprom', 'explain', '--boot-order', '0xf142']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1. network (TFTP) 2. USB mass storage 3. SD card 4. restart');
  });
});
