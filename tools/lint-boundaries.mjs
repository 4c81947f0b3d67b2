#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { checkBoundaries } from './boundaries.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const problems = checkBoundaries(root);
for (const p of problems) process.stderr.write(`${p}\n`);
if (problems.length > 0) {
  process.stderr.write(`${problems.length} architecture problem(s).\n`);
  process.exit(1);
}
process.stdout.write('architecture boundaries: ok\n');
