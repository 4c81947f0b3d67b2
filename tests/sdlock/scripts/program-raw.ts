/**
 * Sends a CSD to the card through the addon as it is, bypassing the checks of
 * sdlock.io.ts, to see what the card says (e.g. to a cleared PERM bit).
 * Usage: program-raw.ts DEVICE NEW_CSD_HEX
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Addon {
  readCsd(device: string, sysfs: string): Promise<{ before: Buffer }>;
  programCsd(device: string, sysfs: string, expected: Buffer, next: Buffer): Promise<{ after: Buffer }>;
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const addon = createRequire(import.meta.url)(path.join(root, 'native/build/Release/sdlock.node')) as Addon;
const [device, hex] = process.argv.slice(2) as [string, string];
const sysfs = process.env.BOOTCARD_SYSFS ?? '/sys';
try {
  const { before } = await addon.readCsd(device, sysfs);
  const { after } = await addon.programCsd(device, sysfs, before, Buffer.from(hex, 'hex'));
  process.stdout.write(`${JSON.stringify({ ok: true, after: after.toString('hex') })}\n`);
} catch (error) {
  const e = error as { code?: string; step?: string; cardStatus?: number; programmed?: boolean };
  process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, step: e.step, cardStatus: e.cardStatus, programmed: e.programmed })}\n`);
}
