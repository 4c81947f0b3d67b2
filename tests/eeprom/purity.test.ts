/**
 * The wizard imports the EEPROM core in the renderer: its pure modules must not
 * import any Node module at all (not even node:crypto), only each other,
 * ../errors.js, @noble/hashes and other pure core modules (no .io).
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
    const allowed = (spec: string) =>
      (spec.startsWith('./') && !spec.endsWith('.io.js')) || spec === '../errors.js' || spec.startsWith('@noble/hashes/') || /^\.\.\/(fat32|image)\/[a-z0-9-]+\.js$/.test(spec) && !spec.endsWith('.io.js');
    for (const spec of specs) expect([f, spec, allowed(spec)]).toEqual([f, spec, true]);
  }
  expect(readFileSync(path.join(dir, 'index.ts'), 'utf8')).not.toMatch(/\.io\.js/);
});
