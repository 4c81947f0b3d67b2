/**
 * Hostile and honest firmware zips: how long the reader takes and the longest
 * the event loop waited meanwhile (what a second `bootcard serve` client
 * would wait for an answer). Goal (issue 11, item 7): no gap above ~100 ms,
 * and hostile archives refused in well under a second. Zips are built in a
 * temporary folder with the test helpers (deflate of zeros for the bomb,
 * pseudo-random data for honest files).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFirmwareZip } from '../electron/core/card/firmware-zip.io.js';
import { BootcardError } from '../electron/core/errors.js';
import { pseudoRandomBytes } from '../tests/helpers/pseudo-random.js';
import { buildZip, deflatedEntry, deflatedZeros, storedEntry, type RawZipEntry } from '../tests/card/hostile-zip.js';

export const title = 'Firmware zips: read/refuse time and longest event-loop gap (goal: gap <= 100 ms, hostile zips refused at once)';

const MIB = 1024 * 1024;
const PARTITION = 256 * MIB;
const GAP_GOAL_MS = 100;

const required = (): RawZipEntry[] => [storedEntry('start4.elf', pseudoRandomBytes(2_253_088, 5)), storedEntry('config.txt', new TextEncoder().encode('arm_64bit=1\n'))];

async function measure(label: string, zip: string): Promise<void> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const started = performance.now();
  let outcome: string;
  try {
    const files = await readFirmwareZip(zip, { partitionSize: PARTITION });
    outcome = `read ${files.length} files`;
  } catch (error) {
    outcome = BootcardError.is(error) ? `refused ${error.code}` : `threw ${String(error)}`;
  }
  const ms = performance.now() - started;
  histogram.disable();
  const gapMs = histogram.max / 1e6;
  console.log(`${label.padEnd(48)} ${ms.toFixed(0).padStart(6)} ms  longest gap ${gapMs.toFixed(1).padStart(6)} ms  ${gapMs <= GAP_GOAL_MS ? 'ok' : 'OVER GOAL'}  (${outcome})`);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-bench-inputs-'));
  try {
    const file = (name: string, bytes: Uint8Array) => {
      const p = path.join(dir, name);
      writeFileSync(p, bytes);
      return p;
    };
    await measure('pftf-shaped zip (3 MiB, deflated)', file('pftf.zip', buildZip([deflatedEntry('RPI_EFI.fd', pseudoRandomBytes(0x1f0000, 1)), ...required()])));
    const big = pseudoRandomBytes(200 * MIB, 2);
    await measure('one honest 200 MiB stored entry', file('big-stored.zip', buildZip([storedEntry('RPI_EFI.fd', big), ...required()])));
    await measure('one honest 200 MiB deflated entry', file('big-deflated.zip', buildZip([deflatedEntry('RPI_EFI.fd', big), ...required()])));
    const zeros = await deflatedZeros(1536 * MIB);
    await measure('bomb: 1.5 GiB of zeros declaring 1 MiB', file('bomb.zip', buildZip([{ name: 'RPI_EFI.fd', method: 8, stored: zeros, declaredSize: MIB, crc32: 0 }, ...required()])));
    await measure('bomb: 1.5 GiB of zeros declaring 200 MiB', file('bomb-200.zip', buildZip([{ name: 'RPI_EFI.fd', method: 8, stored: zeros, declaredSize: 200 * MIB, crc32: 0 }, ...required()])));
    const ones = (n: number) => Array.from({ length: n }, (_, i) => storedEntry(`f/${i}`, new Uint8Array([i & 0xff])));
    await measure('200,000 one-byte entries', file('many.zip', buildZip([storedEntry('RPI_EFI.fd', new Uint8Array(16)), ...required(), ...ones(200_000)])));
    await measure('4,000 one-byte entries (under the cap)', file('4000.zip', buildZip([storedEntry('RPI_EFI.fd', new Uint8Array(16)), ...required(), ...ones(4_000)])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
