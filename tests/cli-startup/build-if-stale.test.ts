/**
 * npm's prepare script (tools/build-if-stale.mjs) in a project folder of the
 * test's own: it builds when the outputs are missing or older than a source,
 * and not again when nothing changed (what made the first `npx bootcard` of a
 * fresh clone rebuild everything npm install had just built).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const project = mkdtempSync(path.join(os.tmpdir(), 'bootcard-prepare-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

const builds = () => readFileSync(path.join(project, 'builds.log'), 'utf8').trim().split('\n').filter(Boolean).length;
const prepare = () => spawnSync(process.execPath, [path.join(project, 'tools', 'build-if-stale.mjs'), 'app'], { cwd: project, encoding: 'utf8', timeout: 60_000 });

describe('prepare builds only what changed', () => {
  it('builds a project with no outputs, skips it when nothing changed, and builds again after a source changes', () => {
    mkdirSync(path.join(project, 'tools'));
    copyFileSync(path.join(REPO_ROOT, 'tools', 'build-if-stale.mjs'), path.join(project, 'tools', 'build-if-stale.mjs'));
    mkdirSync(path.join(project, 'electron', 'cli'), { recursive: true });
    writeFileSync(path.join(project, 'electron', 'cli', 'main.ts'), 'export {};\n');
    // A stand-in `npm run build` that writes both outputs and counts its runs.
    const build = "const fs=require('fs');fs.mkdirSync('dist/electron/cli',{recursive:true});fs.mkdirSync('dist/renderer',{recursive:true});fs.writeFileSync('dist/electron/cli/main.js','');fs.writeFileSync('dist/renderer/index.html','');fs.appendFileSync('builds.log','built\\n')";
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'prepare-probe', private: true, scripts: { build: `node -e "${build}"` } }));
    writeFileSync(path.join(project, 'builds.log'), '');
    // Sources a minute in the past, so the outputs written now are plainly newer.
    const past = new Date(Date.now() - 60_000);
    for (const file of ['package.json', 'electron/cli/main.ts']) utimesSync(path.join(project, file), past, past);

    const first = prepare();
    expect(first.status, first.stderr).toBe(0);
    expect(builds()).toBe(1);

    const second = prepare();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/app is up to date .* not rebuilt/);
    expect(builds()).toBe(1);

    const later = new Date(Date.now() + 60_000);
    utimesSync(path.join(project, 'electron', 'cli', 'main.ts'), later, later);
    const third = prepare();
    expect(third.status, third.stderr).toBe(0);
    expect(builds()).toBe(2);
  }, 120_000);
});
