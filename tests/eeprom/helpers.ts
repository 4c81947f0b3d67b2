/** Shared bits of the EEPROM tests: the real rpi-eeprom fixtures, read once. */
import { readFileSync } from 'node:fs';
import { eepromFixture } from '../helpers/shared.js';

export const IMAGES = {
  pi4Old: 'pieeprom-2711-2020-07-16.bin',
  pi4: 'pieeprom-2711-2026-05-17.bin',
  pi4Netboot: 'pieeprom-2711-2026-05-17+bootconf-netboot.bin',
  pi5: 'pieeprom-2712-2026-05-26.bin',
} as const;

export const ALL_IMAGES = Object.values(IMAGES);

const cache = new Map<string, Uint8Array>();
export function fixtureBytes(name: string): Uint8Array {
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(eepromFixture(name)));
    cache.set(name, bytes);
  }
  return bytes.slice();
}

export function fixtureText(name: string): string {
  return readFileSync(eepromFixture(name), 'utf8');
}

export const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** A config of exactly `size` bytes: a real [all] section padded with a comment. */
export function configOfSize(size: number): string {
  const head = '[all]\nBOOT_UART=0\nBOOT_ORDER=0xf142\n';
  let body = '';
  while (head.length + body.length < size) {
    const remaining = size - head.length - body.length;
    const line = `# ${'x'.repeat(Math.max(0, Math.min(80, remaining - 3)))}\n`;
    body += line.length <= remaining ? line : '\n'.repeat(remaining);
  }
  return head + body;
}
