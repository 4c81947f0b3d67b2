/**
 * A batch is all or nothing: the free space is checked (statfs) before
 * anything is created, and a failure part-way removes every temporary file
 * and every folder the batch made, and says nothing was written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { IMAGES } from './helpers.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'bootcard-batch-write-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (...parts: string[]) => path.join(dir, ...parts);

function csvOf(rows: number): string {
  const lines = ['name,CLIENT_IP'];
  for (let i = 1; i <= rows; i++) lines.push(`pi-${String(i).padStart(2, '0')},10.0.0.${i}`);
  return `${lines.join('\n')}\n`;
}

/** Every file and folder under `root`, relative, sorted (hidden temporary files included). */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${name.name}` : name.name;
      out.push(rel);
      if (name.isDirectory()) walk(path.join(d, name.name), rel);
    }
  };
  walk(root, '');
  return out.sort();
}

const isRoot = process.getuid?.() === 0;
const mounted: string[] = [];
afterEach(() => {
  while (mounted.length > 0) spawnSync('umount', [mounted.pop()!]);
});

describeShared('all-or-nothing batches', () => {
  it('a row that cannot be written part-way through leaves nothing: no image, no temporary file, no folder it made', async () => {
    const out = at('blocked');
    mkdirSync(out);
    // Row pi-05's folder is taken by a file: rows 1-4 are written (as temporary files) before it fails.
    writeFileSync(path.join(out, 'pi-05'), 'not a folder\n');
    writeFileSync(at('blocked.csv'), csvOf(8));
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', at('blocked.csv'), '--out-dir', out, '--timestamp', '1790000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pi-05/);
    expect(r.stderr).toMatch(/Nothing was written: every temporary file and the folders the batch created were removed/);
    expect(tree(out)).toEqual(['pi-05']);
    expect(readFileSync(path.join(out, 'pi-05'), 'utf8')).toBe('not a folder\n');
  });

  it('--force over an earlier batch: a failure keeps every earlier file as it was', async () => {
    const out = at('again');
    writeFileSync(at('again.csv'), csvOf(3));
    const first = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', at('again.csv'), '--out-dir', out, '--timestamp', '1790000000']);
    expect(first.code).toBe(0);
    const before = tree(out);
    const old = readFileSync(path.join(out, 'pi-01', 'pieeprom.bin'));
    const oldSig = readFileSync(path.join(out, 'pi-01', 'pieeprom.sig'), 'utf8');
    writeFileSync(at('again2.csv'), `${csvOf(3)}pi-04,10.0.0.4\n`);
    writeFileSync(path.join(out, 'pi-04'), 'in the way\n');
    const second = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', at('again2.csv'), '--out-dir', out, '--timestamp', '1790000999', '--force']);
    expect(second.code).toBe(1);
    expect(tree(out)).toEqual([...before, 'pi-04'].sort());
    expect(Buffer.compare(readFileSync(path.join(out, 'pi-01', 'pieeprom.bin')), old)).toBe(0);
    expect(readFileSync(path.join(out, 'pi-01', 'pieeprom.sig'), 'utf8')).toBe(oldSig);
  });

  it.runIf(isRoot)('a file system without room for the batch: refused by statfs before anything is created', async () => {
    const small = at('small');
    mkdirSync(small);
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small], { encoding: 'utf8' });
    if (mount.status !== 0) {
      console.warn(`[skip] could not mount a tmpfs (${mount.stderr.trim()}): the free-space test needs one.`);
      return;
    }
    mounted.push(small);
    writeFileSync(at('ten.csv'), csvOf(10));
    const out = path.join(small, 'pis');
    const r = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', at('ten.csv'), '--out-dir', out, '--timestamp', '1790000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/The batch needs 5\.\d MiB for 20 files but .* has only 4\.0 MiB free; nothing was written/);
    expect(existsSync(out)).toBe(false);
    expect(tree(small)).toEqual([]);
    // Seven rows fit (3.6 MiB): written whole.
    writeFileSync(at('seven.csv'), csvOf(7));
    const fits = await runBootcard(['eeprom', 'build', '--base', eepromFixture(IMAGES.pi4), '--batch', at('seven.csv'), '--out-dir', out, '--timestamp', '1790000000']);
    expect(fits.code).toBe(0);
    expect(readdirSync(out)).toHaveLength(7);
    expect(tree(out).filter((f) => f.includes('.partial'))).toEqual([]);
  });
});
