/**
 * A fast start: `bootcard --help` loads no command module, and a command loads
 * only its own. Checked on the real CLI process by the modules it resolved
 * (a loader hook records every URL), never by timing: the speed itself is
 * `npm run bench startup`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CliContext } from '../../electron/cli/context.js';
import { commandModules } from '../../electron/cli/commands/index.js';
import { buildProgram } from '../../electron/cli/program.js';
import { runBootcard } from '../helpers/cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, '../..');
const RECORDER = path.join(here, 'record-imports.mjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'bootcard-startup-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What only a command that needs it may load: device writing and listing, the IPC contracts, the serve stack, zip and crypto libraries. */
const HEAVY = [
  /\/node_modules\/etcher-sdk\//,
  /\/node_modules\/drivelist\//,
  /\/node_modules\/zod\//,
  /\/node_modules\/ws\//,
  /\/node_modules\/unzipper\//,
  /\/node_modules\/react(-dom)?\//,
  /\/electron\/ipc\//,
  /\/electron\/serve\//,
  /\/electron\/core\/writer\//,
  /\/electron\/core\/drives\/enumerate\.io\./,
];

let runs = 0;
/** The real CLI (node + tsx on the sources, as the other process tests run it), with every module it resolved. */
function cliLoading(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[] }> {
  const record = path.join(work, `imports-${runs++}.txt`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', RECORDER, path.join(REPO_ROOT, 'electron/cli/main.ts'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, BOOTCARD_RECORD_IMPORTS: record },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, modules: readFileSync(record, 'utf8').split('\n').filter(Boolean) }));
  });
}

const heavyIn = (modules: readonly string[]) => modules.filter((m) => HEAVY.some((h) => h.test(m)));
const commandModulesIn = (modules: readonly string[]) => modules.filter((m) => /\/electron\/cli\/commands\/(?!index\.)[^/]+$/.test(m)).map((m) => path.basename(m));

describe('starting bootcard', () => {
  it('`bootcard --help` lists every command but loads none of their modules (no etcher-sdk, drivelist, zod, serve, writer)', async () => {
    const run = await cliLoading(['--help']);
    expect(run.code, run.stderr).toBe(0);
    for (const name of commandModules.flatMap((m) => m.help.map((h) => h.name))) expect(run.stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    // The recorder saw the CLI's own modules, so an empty list below means "not loaded", not "not recorded".
    expect(run.modules.some((m) => m.endsWith('/electron/cli/program.ts'))).toBe(true);
    expect(heavyIn(run.modules)).toEqual([]);
    expect(commandModulesIn(run.modules)).toEqual([]);
  }, 120_000);

  it('`bootcard eeprom explain --boot-order 0xf142` loads the eeprom commands alone, and nothing of devices, contracts or serve', async () => {
    const run = await cliLoading(['eeprom', 'explain', '--boot-order', '0xf142']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/network/i);
    expect(commandModulesIn(run.modules)).toEqual(['eeprom.ts']);
    expect(heavyIn(run.modules)).toEqual([]);
  }, 120_000);

  it('`bootcard card --help` and `bootcard drives --help` load their module but not the writer engine, drivelist or the wire contracts, which load when a card is listed or written', async () => {
    for (const command of ['card', 'drives']) {
      const run = await cliLoading([command, '--help']);
      expect(run.code, run.stderr).toBe(0);
      expect(commandModulesIn(run.modules)).toEqual([`${command}.ts`]);
      expect(run.modules.filter((m) => /\/node_modules\/(etcher-sdk|drivelist|zod)\/|\/electron\/core\/writer\/(engine|protocol)\./.test(m))).toEqual([]);
    }
  }, 120_000);

  it('the top-level help drawn from the command table is word for word the help of the loaded modules', async () => {
    const io = {
      stdout: { write: () => true },
      stderr: { write: () => true },
      stdin: Readable.from([]),
      interactive: false,
      env: process.env,
      cwd: process.cwd(),
    };
    const everything = await buildProgram(new CliContext(io), [], { all: true });
    const fromTable = await buildProgram(new CliContext(io), ['--help']);
    expect(fromTable.helpInformation()).toBe(everything.helpInformation());
    // And the table names exactly the commands the modules register, in their order.
    expect(fromTable.commands.map((c) => c.name())).toEqual(everything.commands.map((c) => c.name()));
  });

  it('a command’s own help, `help COMMAND`, and a mistyped command still work as before', async () => {
    const own = await runBootcard(['flash', '--help']);
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/Usage: bootcard flash \[options\] <image>/);
    expect(own.stdout).toMatch(/--to/);
    const viaHelp = await runBootcard(['help', 'eeprom']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(/explain/);
    const typo = await runBootcard(['eeprmo', 'explain']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown command 'eeprmo'/);
    expect(typo.stderr).toMatch(/Did you mean eeprom\?/);
  });
});
