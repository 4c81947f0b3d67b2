/**
 * Per-Pi batch speed. End to end (the goal, 500 a second): the whole CLI
 * command, 1,000 Pi 4 rows from a CSV to pieeprom.bin + pieeprom.sig files on
 * disk, all or nothing (statfs check, every file written under a temporary
 * name, one parallel sync, every file renamed). Beside it, in memory
 * (planning/validating every row, building and hashing, no disk) for a Pi 4
 * (512 KiB) and a Pi 5 (2 MiB) base, and a signed batch (one RSA-2048
 * signature per row). rpi-eeprom-config in a loop makes about 7 images a
 * second. Uses the real images from ../shared/fixtures/rpi-eeprom.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { runCli } from '../electron/cli/program.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeSha256Factory } from '../electron/cli/commands/eeprom.js';
import { createBatchBuilder, parseEepromImage, planBatch, pureSha256Factory } from '../electron/core/eeprom/index.js';
import { makeSignedSig, pubkeyBinFor } from '../electron/core/eeprom/signing.io.js';
import { generateKeyPairSync } from 'node:crypto';

export const title = 'EEPROM per-Pi batch images per second (goal: 500/s end to end, CSV to files on disk)';

const GOAL_PER_SECOND = 500;
const END_TO_END_ROWS = 1000;
const ROWS = 2000;
const here = path.dirname(fileURLToPath(import.meta.url));
const shared = process.env.BOOTCARD_SHARED ?? path.resolve(here, '..', '..', 'shared');

function csv(rows: number): string {
  const lines = ['name,CLIENT_IP,TFTP_PREFIX_STR,TFTP_PREFIX'];
  for (let i = 0; i < rows; i++) lines.push(`pi-${String(i).padStart(4, '0')},10.${(i >> 8) & 255}.${i & 255}.20,"rack/${i}",1`);
  return `${lines.join('\n')}\n`;
}

function measure(label: string, baseFile: string, rows: number, hash: 'node' | 'pure'): void {
  const base = new Uint8Array(readFileSync(baseFile));
  const parsed = parseEepromImage(base);
  const t0 = performance.now();
  const plan = planBatch({ base, csv: csv(rows) }, parsed);
  const t1 = performance.now();
  let bytes = 0;
  const build = createBatchBuilder(base, parsed, { timestamp: 1_790_000_000, sha256: hash === 'node' ? nodeSha256Factory : pureSha256Factory });
  for (const row of plan.rows) {
    const built = build(row);
    bytes += built.image.length + built.sig.length;
  }
  const t2 = performance.now();
  const perSecond = rows / ((t2 - t0) / 1000);
  console.log(
    `${label.padEnd(34)} ${String(rows).padStart(5)} rows  plan ${(t1 - t0).toFixed(0).padStart(5)} ms  build+sig ${(t2 - t1).toFixed(0).padStart(6)} ms  ` +
      `${perSecond.toFixed(0).padStart(6)} images/s  = ${(perSecond / GOAL_PER_SECOND).toFixed(2)}x goal  (${(bytes / 1e6).toFixed(0)} MB)`,
  );
}

export async function run(): Promise<void> {
  const dir = path.join(shared, 'fixtures', 'rpi-eeprom');
  if (!existsSync(dir)) {
    console.log(`skipped: ${dir} is missing (the benchmark uses the real rpi-eeprom images)`);
    return;
  }
  measure('Pi 4 base, Node SHA-256 (CLI)', path.join(dir, 'pieeprom-2711-2026-05-17.bin'), ROWS, 'node');
  measure('Pi 5 base, Node SHA-256 (CLI)', path.join(dir, 'pieeprom-2712-2026-05-26.bin'), ROWS, 'node');
  measure('Pi 4 base, pure SHA-256 (renderer)', path.join(dir, 'pieeprom-2711-2026-05-17.bin'), ROWS / 4, 'pure');
  measureSigned(path.join(dir, 'pieeprom-2711-2026-05-17.bin'), ROWS / 4);
  for (let run = 1; run <= 3; run++) await endToEnd(path.join(dir, 'pieeprom-2711-2026-05-17.bin'), END_TO_END_ROWS, run);
}

function measureSigned(baseFile: string, rows: number): void {
  const base = new Uint8Array(readFileSync(baseFile));
  const parsed = parseEepromImage(base);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const t0 = performance.now();
  const plan = planBatch({ base, csv: csv(rows), signed: true }, parsed);
  const build = createBatchBuilder(base, parsed, {
    timestamp: 1_790_000_000,
    sha256: nodeSha256Factory,
    sign: { pubkeyBin: pubkeyBinFor(privateKey), bootconfSig: (c) => new TextEncoder().encode(makeSignedSig(c, privateKey, { timestamp: 1_790_000_000 })) },
  });
  for (const row of plan.rows) build(row);
  const perSecond = rows / ((performance.now() - t0) / 1000);
  console.log(`${'Pi 4 base, signed (RSA-2048 per row)'.padEnd(34)} ${String(rows).padStart(5)} rows  in memory  ${perSecond.toFixed(0).padStart(6)} images/s  = ${(perSecond / GOAL_PER_SECOND).toFixed(2)}x goal`);
}

/** The whole CLI command, CSV to files on disk, all or nothing (one sync for the batch). */
async function endToEnd(baseFile: string, rows: number, run: number): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'bootcard-bench-'));
  try {
    writeFileSync(path.join(work, 'pis.csv'), csv(rows));
    let stderr = '';
    const t0 = performance.now();
    const code = await runCli(['eeprom', 'build', '--base', baseFile, '--batch', path.join(work, 'pis.csv'), '--out-dir', path.join(work, 'out'), '--timestamp', '1790000000'], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (stderr += s) },
      stdin: Readable.from([]),
      interactive: false,
      env: process.env,
      cwd: work,
    });
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`bootcard eeprom build --batch failed: ${stderr}`);
    console.log(`${`CLI --batch to disk, end to end #${run}`.padEnd(34)} ${String(rows).padStart(5)} rows  ${(seconds * 1000).toFixed(0).padStart(6)} ms total  ${(rows / seconds).toFixed(0).padStart(6)} images/s  = ${(rows / seconds / GOAL_PER_SECOND).toFixed(2)}x goal  (${tmpdir()}, all or nothing, one sync)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
