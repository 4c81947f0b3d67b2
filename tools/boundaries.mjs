/**
 * Architecture rules, checked by `npm run lint` and by tests/architecture.test.ts:
 *  1. Nothing outside electron/main and electron/preload imports 'electron'.
 *  2. Core modules are pure unless their file name ends in `.io.ts`: a pure
 *     module imports no file system, process, network or device module, and no
 *     `.io` module.
 *  3. The renderer imports no Node built-in, no `.io` module, and from electron/
 *     only the IPC contract side (electron/ipc/{client,contract,define,channels})
 *     and pure core modules.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const IMPORT_RE = /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g;

const IMPURE_MODULES = new Set([
  'fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'tls', 'worker_threads', 'cluster', 'readline', 'readline/promises',
  'os', 'module', 'process',
  'drivelist', 'etcher-sdk', 'unzipper', 'ws', 'electron',
]);

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.(c|m)?tsx?$/.test(name)) out.push(full);
  }
  return out;
}

function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const specs = [];
  for (const m of text.matchAll(IMPORT_RE)) specs.push(m[1] ?? m[2] ?? m[3]);
  return specs;
}

const bare = (spec) => spec.replace(/^node:/, '');
const isIoFile = (file) => /\.io\.tsx?$/.test(file);

export function checkBoundaries(root) {
  const problems = [];
  const rel = (f) => path.relative(root, f).split(path.sep).join('/');

  for (const file of walk(path.join(root, 'electron'))) {
    const r = rel(file);
    const electronAllowed = r.startsWith('electron/main/') || r.startsWith('electron/preload/');
    const pureCore = r.startsWith('electron/core/') && !isIoFile(file);
    for (const spec of importsOf(file)) {
      if (spec === 'electron' && !electronAllowed) problems.push(`${r}: imports 'electron'; only electron/main and electron/preload may.`);
      if (pureCore) {
        if (IMPURE_MODULES.has(bare(spec)) && spec !== 'electron') {
          problems.push(`${r}: a pure core module imports '${spec}'; move the I/O into a *.io.ts module.`);
        }
        if (/\.io(\.js)?$/.test(spec)) problems.push(`${r}: a pure core module imports the I/O module '${spec}'.`);
        if (spec.includes('native/')) problems.push(`${r}: a pure core module imports the native addon.`);
      }
    }
  }

  for (const file of walk(path.join(root, 'renderer'))) {
    const r = rel(file);
    if (r === 'renderer/vite.config.ts') continue;
    if (/\.test\.tsx?$/.test(r)) continue;
    for (const spec of importsOf(file)) {
      if (spec.startsWith('node:') || IMPURE_MODULES.has(spec)) problems.push(`${r}: the renderer imports '${spec}'; it may reach the system only through the IPC client.`);
      if (spec.startsWith('.')) {
        const target = rel(path.resolve(path.dirname(file), spec));
        if (target.startsWith('electron/')) {
          const allowed =
            /^electron\/ipc\/(client|contract|define)(\.js)?$/.test(target) ||
            target.startsWith('electron/ipc/channels/') ||
            (target.startsWith('electron/core/') && !/\.io(\.js)?$/.test(target));
          if (!allowed) problems.push(`${r}: the renderer imports '${spec}'; only the IPC contract and pure core modules are allowed.`);
        }
      }
    }
  }
  return problems;
}
