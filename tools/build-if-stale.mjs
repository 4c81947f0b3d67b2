#!/usr/bin/env node
// npm's `install` and `prepare` scripts: builds the native addon (`native`) or the CLI and renderer (`app`) only
// when its sources changed since the last build. npm runs both scripts whenever the package is installed,
// including when `npx bootcard` links this folder into its cache: rebuilding there took most of the 16.6 s the
// first `npx bootcard --help` of a fresh clone spent. `npm run build` still always builds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The newest modification time among these files and the files below these folders (0 when none is there). */
function newestInput(entries) {
  let newest = 0;
  const visit = (p) => {
    let facts;
    try {
      facts = statSync(p);
    } catch {
      return;
    }
    if (facts.isDirectory()) {
      for (const name of readdirSync(p)) if (name !== 'node_modules' && name !== 'build') visit(path.join(p, name));
    } else newest = Math.max(newest, facts.mtimeMs);
  };
  for (const entry of entries) visit(path.join(root, entry));
  return newest;
}

/** The oldest modification time among these outputs, or -1 if one is missing. */
function oldestOutput(outputs) {
  let oldest = Number.POSITIVE_INFINITY;
  for (const output of outputs) {
    const p = path.join(root, output);
    if (!existsSync(p)) return -1;
    oldest = Math.min(oldest, statSync(p).mtimeMs);
  }
  return oldest;
}

function run(command, args) {
  const done = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (done.error) throw done.error;
  if (done.status !== 0) process.exit(done.status ?? 1);
}

const targets = {
  app: {
    inputs: ['electron', 'renderer', 'tsconfig.base.json', 'tsconfig.build.json', 'package.json'],
    outputs: ['dist/electron/cli/main.js', 'dist/renderer/index.html'],
    build: () => run(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build']),
    force: '`npm run build` always builds',
  },
  native: {
    inputs: ['native/src', 'native/binding.gyp'],
    outputs: ['native/build/Release/sdlock.node'],
    // An addon built for another Node.js (another ABI) will not load, however new it is.
    stamp: 'native/build/node-abi',
    stampValue: `${process.versions.modules} ${process.platform} ${process.arch}\n`,
    force: '`rm -r native/build` to build it again',
    // npm names its own node-gyp for scripts; outside npm, the one on PATH.
    build: () =>
      process.env.npm_config_node_gyp
        ? run(process.execPath, [process.env.npm_config_node_gyp, 'rebuild', '--directory', 'native'])
        : run('node-gyp', ['rebuild', '--directory', 'native']),
  },
};

const name = process.argv[2];
const target = targets[name];
if (!target) {
  console.error(`usage: node tools/build-if-stale.mjs ${Object.keys(targets).join('|')}`);
  process.exit(2);
}
const stampMatches = !target.stamp || (existsSync(path.join(root, target.stamp)) && readFileSync(path.join(root, target.stamp), 'utf8') === target.stampValue);
const built = oldestOutput(target.outputs);
if (stampMatches && built >= 0 && newestInput(target.inputs) <= built) {
  console.log(`bootcard: ${name} is up to date (${target.outputs.join(', ')} newer than the sources); not rebuilt (${target.force}).`);
} else {
  target.build();
  if (target.stamp) writeFileSync(path.join(root, target.stamp), target.stampValue);
}
