/**
 * The wizard imports the EEPROM core in the renderer: its pure modules must not
 * import any Node module at all (not even node:crypto), only each other,
 * ../errors.js and @noble/hashes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared.js';

const dir = path.join(REPO_ROOT, 'electron', 'core', 'eeprom');

it('pure EEPROM modules import nothing from Node', () => {
  const pure = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.io.ts'));
  expect(pure).toContain('index.ts');
  for (const f of pure) {
    const specs = [...readFileSync(path.join(dir, f), 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
    for (const spec of specs) expect([f, spec.startsWith('./') || spec === '../errors.js' || spec.startsWith('@noble/hashes/')]).toEqual([f, true]);
  }
  expect(readFileSync(path.join(dir, 'index.ts'), 'utf8')).not.toMatch(/\.io\.js/);
});
