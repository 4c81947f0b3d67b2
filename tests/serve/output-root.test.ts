/**
 * What the wizard's handlers write (eeprom.build, manifest.save) lands under
 * the output root only, never through a link, never in a folder another user
 * can change, never over a file without replace, and never in a FIFO, device
 * or folder. Real handlers (the table serve and Electron use), real temporary
 * folders; each refused request must leave the tree exactly as it was.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { describeShared, REPO_ROOT, SHARED_ROOT } from '../helpers/shared.js';
import { wireTransport } from '../helpers/wire.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const asRoot = isRoot ? it : it.skip;
if (!isRoot) console.warn('[skip] not root: the tests that chown a folder to nobody or make device nodes are skipped.');

let top: string;
/** The output root: a folder of its own (mode 0755) inside `top`. */
let root: string;

beforeEach(() => {
  top = mkdtempSync(path.join(os.tmpdir(), 'bootcard-output-'));
  root = path.join(top, 'root');
  mkdirSync(root, { mode: 0o755 });
  chmodSync(root, 0o755);
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

const clientFor = (outputRoot: string) => createClient(wireTransport(createHandlers({ frontEnd: 'serve', outputRoot })));

/** Every entry under `dir` with its kind, mode, owner and content hash (or link target): to prove "nothing changed". */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const info = lstatSync(full);
      const what = info.isSymbolicLink()
        ? `link ${readlinkSync(full)}`
        : info.isFile()
          ? `file ${createHash('sha256').update(readFileSync(full)).digest('hex')}`
          : info.isDirectory()
            ? 'dir'
            : `special ${info.rdev}`;
      out[path.relative(top, full)] = `${what} ${(info.mode & 0o7777).toString(8)} ${info.uid}:${info.gid}`;
      if (info.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}

async function refusal(call: Promise<unknown>): Promise<{ code: string; message: string; details?: Record<string, unknown> }> {
  const outcome = await call.then(
    (value) => ({ resolved: value }),
    (error: { code: string; message: string; details?: Record<string, unknown> }) => error,
  );
  if ('resolved' in outcome) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.resolved)}`);
  return outcome;
}

const entries = [{ device: '/dev/sdb', cardSerial: null, recipe: 'uefi', config: 'x', sha256: 'b'.repeat(64), time: '2026-11-22T01:00:00.000Z', ok: true, error: null }];

describe('manifest.save under the output root', () => {
  const save = (request: { path: string; format?: 'csv' | 'json'; replace?: boolean }, outputRoot = root) =>
    clientFor(outputRoot).call('manifest.save', { format: 'csv', entries, ...request });

  it('saves by a path relative to the root, or an absolute one inside it, into an existing folder', async () => {
    mkdirSync(path.join(root, 'runs'));
    expect(await save({ path: 'runs/a.csv' })).toMatchObject({ path: path.join(root, 'runs', 'a.csv') });
    expect(await save({ path: path.join(root, 'b.json'), format: 'json' })).toMatchObject({ path: path.join(root, 'b.json') });
    expect(readFileSync(path.join(root, 'runs', 'a.csv'), 'utf8')).toMatch(/^device,cardSerial/);
    expect(readdirSync(root).sort()).toEqual(['b.json', 'runs']);
  });

  it('refuses ../ out of the root and absolute paths elsewhere (/dev/null.json), creating nothing', async () => {
    const before = snapshot(top);
    for (const p of ['../escape.csv', 'runs/../../escape.csv', path.join(top, 'escape.csv'), '/tmp/escape.csv']) {
      expect(await refusal(save({ path: p })), p).toMatchObject({ code: 'OUTPUT_OUTSIDE_ROOT', message: expect.stringContaining(`outside the output folder ${root}`) });
    }
    expect(await refusal(save({ path: '/dev/null.json', format: 'json' }))).toMatchObject({ code: 'OUTPUT_OUTSIDE_ROOT' });
    expect(existsSync('/dev/null.json')).toBe(false);
    expect(snapshot(top)).toEqual(before);
  });

  it('refuses a name with a NUL or one that names a folder', async () => {
    const before = snapshot(top);
    expect(await refusal(save({ path: 'station.csv\0.sh' }))).toMatchObject({ code: 'OUTPUT_BAD_NAME' });
    expect(await refusal(save({ path: 'sub\0/station.csv' }))).toMatchObject({ code: 'OUTPUT_BAD_NAME' });
    expect(await refusal(save({ path: 'station.csv/' }))).toMatchObject({ code: 'OUTPUT_BAD_NAME' });
    expect(snapshot(top)).toEqual(before);
  });

  it('refuses a missing folder by name instead of creating it', async () => {
    const before = snapshot(top);
    const error = await refusal(save({ path: 'missing/deeper/m.csv' }));
    expect(error).toMatchObject({ code: 'OUTPUT_FOLDER_MISSING', message: expect.stringContaining(`${path.join(root, 'missing')} does not exist`) });
    expect(snapshot(top)).toEqual(before);
  });

  it('replaces an earlier manifest only with replace, keeping its mode; never a file that is no manifest', async () => {
    await save({ path: 'station.csv' });
    chmodSync(path.join(root, 'station.csv'), 0o640);
    const first = readFileSync(path.join(root, 'station.csv'));
    const before = snapshot(top);
    expect(await refusal(save({ path: 'station.csv' }))).toMatchObject({
      code: 'OUTPUT_EXISTS',
      message: expect.stringContaining(`station.csv already exists in ${root}`),
      details: { files: ['station.csv'] },
    });
    expect(snapshot(top)).toEqual(before);

    const second = [{ ...entries[0]!, device: '/dev/sdc' }];
    await clientFor(root).call('manifest.save', { path: 'station.csv', format: 'csv', entries: second, replace: true });
    expect(readFileSync(path.join(root, 'station.csv'))).not.toEqual(first);
    expect(readFileSync(path.join(root, 'station.csv'), 'utf8')).toContain('/dev/sdc');
    expect(statSync(path.join(root, 'station.csv')).mode & 0o777).toBe(0o640);

    writeFileSync(path.join(root, 'prices.csv'), 'item,price\r\n');
    const withPrices = snapshot(top);
    expect(await refusal(save({ path: 'prices.csv', replace: true }))).toMatchObject({ code: 'MANIFEST_FILE_EXISTS' });
    expect(snapshot(top)).toEqual(withPrices);
  });

  it('refuses a symlinked file, even to a manifest and with replace, and a symlinked folder', async () => {
    mkdirSync(path.join(top, 'elsewhere'));
    writeFileSync(path.join(top, 'elsewhere', 'victim.csv'), 'device,cardSerial,recipe,config,sha256,time,ok,error\r\n');
    symlinkSync(path.join(top, 'elsewhere', 'victim.csv'), path.join(root, 'link.csv'));
    symlinkSync(path.join(top, 'elsewhere'), path.join(root, 'linked-folder'));
    mkdirSync(path.join(root, 'real'));
    symlinkSync('../linked-folder', path.join(root, 'real', 'up'));
    const before = snapshot(top);
    expect(await refusal(save({ path: 'link.csv', replace: true }))).toMatchObject({ code: 'OUTPUT_SYMLINK', message: expect.stringContaining(path.join(root, 'link.csv')) });
    expect(await refusal(save({ path: 'linked-folder/new.csv' }))).toMatchObject({ code: 'OUTPUT_SYMLINK', message: expect.stringContaining(path.join(root, 'linked-folder')) });
    expect(await refusal(save({ path: 'real/up/new.csv' }))).toMatchObject({ code: 'OUTPUT_SYMLINK' });
    expect(snapshot(top)).toEqual(before);
  });

  it('refuses a FIFO or a folder where the file belongs, without waiting on the FIFO', async () => {
    execFileSync('mkfifo', [path.join(root, 'fifo.csv')]);
    mkdirSync(path.join(root, 'folder.csv'));
    const before = snapshot(top);
    for (const name of ['fifo.csv', 'folder.csv']) {
      expect(await refusal(save({ path: name, replace: true })), name).toMatchObject({ code: 'OUTPUT_NOT_A_FILE' });
    }
    expect(snapshot(top)).toEqual(before);
  });

  asRoot('refuses a device node where the file belongs (a null device made inside the root)', async () => {
    execFileSync('mknod', [path.join(root, 'null.json'), 'c', '1', '3']);
    const before = snapshot(top);
    expect(await refusal(save({ path: 'null.json', format: 'json', replace: true }))).toMatchObject({ code: 'OUTPUT_NOT_A_FILE', message: expect.stringContaining('is a device') });
    expect(snapshot(top)).toEqual(before);
  });

  asRoot('refuses a folder another user owns or may write, inside the root and above it', async () => {
    for (const name of ['nobodys', 'world', 'group']) mkdirSync(path.join(root, name));
    chownSync(path.join(root, 'nobodys'), NOBODY, NOBODY);
    chmodSync(path.join(root, 'nobodys'), 0o755);
    chmodSync(path.join(root, 'world'), 0o777);
    chmodSync(path.join(root, 'group'), 0o775);
    // Sticky does not help inside the root: another user could still create the file first.
    mkdirSync(path.join(root, 'sticky'));
    chmodSync(path.join(root, 'sticky'), 0o1777);
    const before = snapshot(top);
    for (const name of ['nobodys', 'world', 'group', 'sticky']) {
      expect(await refusal(save({ path: `${name}/m.csv` })), name).toMatchObject({ code: 'OUTPUT_UNSAFE_FOLDER', message: expect.stringContaining(path.join(root, name)) });
    }
    // The root itself, and a folder above it that nobody owns (nobody could rename the root away and put a link there).
    chmodSync(root, 0o777);
    expect(await refusal(save({ path: 'm.csv' }))).toMatchObject({ code: 'OUTPUT_UNSAFE_FOLDER', message: expect.stringContaining('can be written by other users') });
    chmodSync(root, 0o755);
    chownSync(top, NOBODY, NOBODY);
    expect(await refusal(save({ path: 'm.csv' }))).toMatchObject({ code: 'OUTPUT_UNSAFE_FOLDER', message: expect.stringContaining(`${top} belongs to another user (uid ${NOBODY})`) });
    chownSync(top, 0, 0);
    expect(snapshot(top)).toEqual({ ...before });
  });
});

describeShared('eeprom.build under the output root', () => {
  const build = (outputDir: string, replace?: boolean, bootOrder = '0xf21') =>
    clientFor(root).call('eeprom.build', {
      board: '2711',
      firmwarePath: path.join(SHARED_ROOT, 'fixtures', 'rpi-eeprom'),
      config: `[all]\nBOOT_ORDER=${bootOrder}\n`,
      outputDir,
      ...(replace !== undefined ? { replace } : {}),
    });

  it('writes pieeprom.bin and pieeprom.sig into an existing folder, and replaces them only with replace, keeping their mode', async () => {
    mkdirSync(path.join(root, 'out'));
    const built = await build('out');
    expect(built).toMatchObject({ imagePath: path.join(root, 'out', 'pieeprom.bin'), sigPath: path.join(root, 'out', 'pieeprom.sig') });
    chmodSync(built.sigPath, 0o600);
    const before = snapshot(top);
    expect(await refusal(build('out'))).toMatchObject({ code: 'OUTPUT_EXISTS', details: { files: ['pieeprom.bin', 'pieeprom.sig'] }, message: expect.stringContaining('pieeprom.bin and pieeprom.sig already exist') });
    expect(snapshot(top)).toEqual(before);
    const again = await build('out', true, '0xf12');
    expect(readFileSync(again.sigPath, 'utf8')).toContain(again.sha256);
    expect(again.sha256).not.toBe(built.sha256);
    expect(statSync(again.sigPath).mode & 0o777).toBe(0o600);
    expect(readdirSync(path.join(root, 'out')).sort()).toEqual(['pieeprom.bin', 'pieeprom.sig']);
  });

  it('leaves a user’s own pieeprom.sig alone without replace, and writes no pieeprom.bin beside it', async () => {
    mkdirSync(path.join(root, 'mine'));
    writeFileSync(path.join(root, 'mine', 'pieeprom.sig'), 'my own signature\n');
    const before = snapshot(top);
    expect(await refusal(build('mine'))).toMatchObject({ code: 'OUTPUT_EXISTS', details: { files: ['pieeprom.sig'] } });
    expect(snapshot(top)).toEqual(before);
  });

  it('refuses a symlinked pieeprom.sig or folder, ../, an absolute path outside, a missing folder and a FIFO, changing nothing', async () => {
    mkdirSync(path.join(top, 'elsewhere'));
    writeFileSync(path.join(top, 'elsewhere', 'victim'), 'root-owned data\n');
    mkdirSync(path.join(root, 'linked'));
    symlinkSync(path.join(top, 'elsewhere', 'victim'), path.join(root, 'linked', 'pieeprom.sig'));
    symlinkSync(path.join(top, 'elsewhere'), path.join(root, 'to-elsewhere'));
    mkdirSync(path.join(root, 'fifo'));
    execFileSync('mkfifo', [path.join(root, 'fifo', 'pieeprom.bin')]);
    const before = snapshot(top);
    const cases: [string, boolean, string][] = [
      ['linked', true, 'OUTPUT_SYMLINK'],
      ['to-elsewhere', true, 'OUTPUT_SYMLINK'],
      ['..', true, 'OUTPUT_OUTSIDE_ROOT'],
      [path.join(top, 'elsewhere'), true, 'OUTPUT_OUTSIDE_ROOT'],
      ['/etc', true, 'OUTPUT_OUTSIDE_ROOT'],
      ['new/folder', false, 'OUTPUT_FOLDER_MISSING'],
      ['fifo', true, 'OUTPUT_NOT_A_FILE'],
    ];
    for (const [dir, replace, code] of cases) expect(await refusal(build(dir, replace)), dir).toMatchObject({ code });
    expect(snapshot(top)).toEqual(before);
    expect(existsSync('/etc/pieeprom.bin')).toBe(false);
  });
});

describe('bootcard serve --output-dir', () => {
  /** The real CLI in a process of its own (a serve that did start is killed by the timeout, and fails the test). */
  const serve = (outputDir: string) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'electron/cli/main.ts', 'serve', '--port', '0', '--output-dir', outputDir], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    return { code: run.status, stderr: run.stderr };
  };

  it('refuses to start with a missing output folder or one another user may write (exit 2, saying which)', () => {
    const missing = serve(path.join(top, 'missing'));
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toContain(`${path.join(top, 'missing')} does not exist`);
    chmodSync(root, 0o777);
    const unsafe = serve(root);
    expect(unsafe.code, unsafe.stderr).toBe(2);
    expect(unsafe.stderr).toMatch(/can be written by other users/);
  }, 120_000);
});
