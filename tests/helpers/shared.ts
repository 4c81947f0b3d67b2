/**
 * Locates ../shared (real Raspberry Pi and UEFI fixtures). Tests that need it
 * use `describeShared`, which skips with a printed reason where it is missing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_ROOT = process.env.BOOTCARD_SHARED ?? path.resolve(REPO_ROOT, '..', 'shared');
export const hasShared = existsSync(path.join(SHARED_ROOT, 'fixtures'));

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_ROOT, ...parts);
}

export const eepromFixture = (name: string) => sharedPath('fixtures', 'rpi-eeprom', name);
export const uefiFixture = (name: string) => sharedPath('fixtures', 'uefi', name);
export const referencePath = (name: string) => sharedPath('reference', name);

let warned = false;
/** `describe` that skips, saying why, when ../shared is not beside the repo. */
export const describeShared: typeof describe = ((name: string, fn: () => void) => {
  if (!hasShared && !warned) {
    warned = true;
    console.warn(`[skip] ${SHARED_ROOT} is missing: tests that need the shared fixtures are skipped.`);
  }
  return hasShared ? describe(name, fn) : describe.skip(`${name} (skipped: ../shared missing)`, fn);
}) as typeof describe;
