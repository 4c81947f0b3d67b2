/**
 * Start-up: `bootcard --help` and `bootcard eeprom explain --boot-order
 * 0xf142` as a user starts them (node on bin/bootcard.js and the compiled
 * CLI), beside `node -e 0`. The sources are compiled first into a folder of
 * this bench's own (node_modules/.cache), so the rows measure this tree, not
 * whatever dist/ was last built from. Warm: the median of repeated runs (files
 * in the page cache). Cold: the first run after dropping the page cache (root
 * only, `echo 3 > /proc/sys/vm/drop_caches`); where that is not permitted the
 * row says so and shows a fresh process with the files cached. Goal: a
 * command starts in well under half a second.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const title = 'Start-up of the CLI, cold and warm, beside node -e 0 (goal: well under 500 ms)';

const GOAL_MS = 500;
const WARM_RUNS = 9;
const COLD_RUNS = 3;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const build = path.join(root, 'node_modules', '.cache', 'bootcard-bench-startup');

function compile(): string {
  rmSync(build, { recursive: true, force: true });
  // tsc emits even when a type error elsewhere in the tree makes it exit 1; only a missing CLI stops the bench.
  spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(build, 'dist')], {
    cwd: root,
    stdio: 'ignore',
  });
  if (!existsSync(path.join(build, 'dist', 'electron', 'cli', 'main.js'))) throw new Error('tsc did not produce the CLI; run `npx tsc -p tsconfig.build.json --noEmit` to see why');
  mkdirSync(path.join(build, 'bin'), { recursive: true });
  copyFileSync(path.join(root, 'bin', 'bootcard.js'), path.join(build, 'bin', 'bootcard.js'));
  // The copy's ../dist is the compiled tree beside it; package.json makes its .js files ES modules as in the repository.
  writeFileSync(path.join(build, 'package.json'), JSON.stringify({ type: 'module' }));
  return path.join(build, 'bin', 'bootcard.js');
}

function once(args: readonly string[]): number {
  const t = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr.toString()}`);
  return ms;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function dropPageCache(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** Every module the command resolved, counted with the test's loader hook. */
function modulesResolved(args: readonly string[]): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-bench-startup-'));
  try {
    const record = path.join(dir, 'imports.txt');
    const run = spawnSync(process.execPath, ['--import', path.join(root, 'tests', 'cli-startup', 'record-imports.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, BOOTCARD_RECORD_IMPORTS: record },
      stdio: 'ignore',
    });
    return run.status === 0 ? readFileSync(record, 'utf8').split('\n').filter(Boolean).length : Number.NaN;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const t = performance.now();
  const bin = compile();
  console.log(`compiled this tree with tsc in ${((performance.now() - t) / 1000).toFixed(1)} s (not part of any row)`);
  const rows: { label: string; args: string[]; cli: boolean }[] = [
    { label: 'node -e 0', args: ['-e', '0'], cli: false },
    { label: 'bootcard --help', args: [bin, '--help'], cli: true },
    { label: 'bootcard eeprom explain --boot-order 0xf142', args: [bin, 'eeprom', 'explain', '--boot-order', '0xf142'], cli: true },
  ];
  const canDrop = dropPageCache();
  console.log(
    canDrop
      ? `cold: first run after dropping the page cache (echo 3 > /proc/sys/vm/drop_caches), median of ${COLD_RUNS}; warm: median of ${WARM_RUNS} runs`
      : `cold: dropping the page cache is not permitted here, so "cold" is a fresh process with files cached (first run of ${COLD_RUNS}); warm: median of ${WARM_RUNS} runs`,
  );
  for (const row of rows) {
    const cold: number[] = [];
    for (let i = 0; i < COLD_RUNS; i++) {
      if (canDrop) dropPageCache();
      cold.push(once(row.args));
      if (!canDrop) break;
    }
    const warm: number[] = [];
    for (let i = 0; i < WARM_RUNS; i++) warm.push(once(row.args));
    const warmMs = median(warm);
    const modules = row.cli ? `  ${String(modulesResolved(row.args)).padStart(4)} modules` : '';
    console.log(
      `${row.label.padEnd(46)} cold ${median(cold).toFixed(0).padStart(5)} ms   warm ${warmMs.toFixed(0).padStart(4)} ms` +
        (row.cli ? `   (${(GOAL_MS / warmMs).toFixed(1)}x under the ${GOAL_MS} ms goal)${modules}` : ''),
    );
  }
  rmSync(build, { recursive: true, force: true });
}
