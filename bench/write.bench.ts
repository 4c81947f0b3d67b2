/**
 * Card writing on loop devices, side by side with `dd oflag=direct` in one run:
 *   1. a 256 MiB card image (FAT32, a few MiB of files): bytes bootcard writes vs dd's (goal <= 5%)
 *   2. a full 256 MiB raw image of random data: time vs dd (goal: no slower)
 *   3. the card image with verify to 4 cards at once vs 1 (goal: under 1.5x)
 * Rows 1-2 run the writer engine in-process; the 4-vs-1 goal row runs the real
 * privileged writer child, fresh for each write as `bootcard flash` does, and
 * times it from the request to its answer (process start-up not counted, but
 * its first-request warm-up is); a warm in-process row follows for information.
 * Skips with the reason where loop devices are not available (not root, no losetup).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { composeRecoveryCard } from '../electron/core/card/recovery-card.js';
import { composeFat32Image } from '../electron/core/fat32/compose.js';
import { dataBytes } from '../electron/core/image/sparse-image.js';
import { saveSparseImage } from '../electron/core/image/sparse-image.io.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { runWrite } from '../electron/core/writer/engine.io.js';
import { ioThreadsFor } from '../electron/core/writer/privilege.js';
import { childMessageSchema, encodeMessage, imageToWire } from '../electron/core/writer/protocol.js';
import type { WriteResult, WriteSource } from '../electron/core/writer/types.js';
import { writerChildEntry } from '../electron/core/writer/writer.io.js';

export const title = 'writing cards (loop devices)';

const MiB = 1024 * 1024;
const CARD = 256 * MiB;
const RUNS = 5;

function loopProblem(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root for loop devices';
  try {
    execFileSync('losetup', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'losetup is not installed';
  }
  return null;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Flushes dirty pages left by the previous step first, so no measurement pays for another's writeback. */
async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  execFileSync('sync');
  const start = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value };
}

function row(label: string, a: string, b: string, ratio: string, goal: string): string {
  return `${label.padEnd(44)} ${a.padStart(14)} ${b.padStart(14)} ${ratio.padStart(8)}  ${goal}`;
}

/** Starts the writer child as `writeImageToDrives` does, then times one request from sending it to the child's `done`. */
async function timeThroughChild(image: WriteSource, targets: string[]): Promise<{ ms: number; value: WriteResult[] }> {
  execFileSync('sync');
  const entry = writerChildEntry();
  const child = spawn(entry.nodePath, entry.nodeArgs, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, ...entry.env, UV_THREADPOOL_SIZE: String(ioThreadsFor(targets.length)) },
  });
  const lines = createInterface({ input: child.stdout });
  let start = 0n;
  try {
    for await (const line of lines) {
      const msg = childMessageSchema.parse(JSON.parse(line));
      if (msg.type === 'ready') {
        start = process.hrtime.bigint();
        child.stdin.write(encodeMessage({ type: 'write', image: imageToWire(image), targets, verify: true, includeLoop: true, allowNonCard: false, lockAfterVerify: false }));
      } else if (msg.type === 'done') {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        return { ms, value: msg.results as WriteResult[] };
      } else if (msg.type === 'fatal') {
        throw new Error(msg.error.message);
      }
    }
    throw new Error('the writer child ended without an answer');
  } finally {
    child.stdin.end();
  }
}

function ensureOk(results: WriteResult[]): void {
  for (const r of results) if (!r.ok) throw new Error(`${r.target}: ${r.error?.message}`);
}

export async function run(): Promise<void> {
  const problem = loopProblem();
  if (problem) {
    console.log(`skipped: ${problem}`);
    return;
  }
  // Loop devices backed by RAM (tmpfs) when there is room: every card then has its own
  // fast "medium", as separate card readers do, instead of all sharing this machine's disk.
  const base = existsSync('/dev/shm') && statfsSync('/dev/shm').bavail * statfsSync('/dev/shm').bsize > 3 * 1024 * MiB ? '/dev/shm' : os.tmpdir();
  const dir = mkdtempSync(path.join(base, 'bootcard-bench-'));
  console.log(`loop devices backed by files in ${base}`);
  const loops: string[] = [];
  const attach = () => {
    const file = path.join(dir, `card-${loops.length}.img`);
    const fd = openSync(file, 'w');
    ftruncateSync(fd, CARD);
    closeSync(fd);
    const dev = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
    loops.push(dev);
    return dev;
  };
  try {
    const cards = [attach(), attach(), attach(), attach()];
    const card0 = cards[0]!;

    // A realistic card: one FAT32 partition filling 256 MiB with the UEFI firmware's file sizes (4.4 MiB).
    const image = composeFat32Image({
      files: [
        // The sizes of the pftf RPi4 UEFI firmware's files.
        { path: 'RPI_EFI.fd', data: randomBytes(2 * MiB) },
        { path: 'start4.elf', data: randomBytes(2.2 * MiB) },
        { path: 'fixup4.dat', data: randomBytes(5 * 1024) },
        { path: 'bcm2711-rpi-4-b.dtb', data: randomBytes(52 * 1024) },
        { path: 'bcm2711-rpi-400.dtb', data: randomBytes(52 * 1024) },
        { path: 'bcm2711-rpi-cm4.dtb', data: randomBytes(52 * 1024) },
        { path: 'config.txt', data: new TextEncoder().encode('arm_64bit=1\narmstub=RPI_EFI.fd\n') },
        { path: 'overlays/miniuart-bt.dtbo', data: randomBytes(1500) },
        { path: 'overlays/upstream-pi4.dtbo', data: randomBytes(2500) },
      ],
      partitionSize: CARD - 4 * MiB,
      partitionType: 0x0c,
      imageSize: CARD,
    });
    const cardFile = path.join(dir, 'card-image.img');
    await saveSparseImage(image, cardFile);
    const rawFile = path.join(dir, 'raw.img');
    writeFileSync(rawFile, randomBytes(CARD));

    const dd = async (input: string, target: string) =>
      time(() => execFileSync('dd', [`if=${input}`, `of=${target}`, 'bs=4M', 'oflag=direct', 'conv=fsync', 'status=none']));

    console.log(`card image: ${(CARD / MiB).toFixed(0)} MiB with ${(dataBytes(image) / MiB).toFixed(1)} MiB of data in ${image.ranges.length} ranges; ${RUNS} runs each, medians`);
    console.log(row('', 'bootcard', 'dd', 'ratio', 'goal'));

    // 1. The sparse card image, no verify, one card: bytes and time.
    const sparseTimes: number[] = [];
    let sparseBytes = 0;
    const ddCardTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const b = await time(() => runWrite({ image, targets: [card0], verify: false, includeLoop: true }));
      ensureOk(b.value);
      sparseTimes.push(b.ms);
      sparseBytes = b.value[0]!.bytesWritten;
      ddCardTimes.push((await dd(cardFile, card0)).ms);
    }
    const byteRatio = sparseBytes / CARD;
    console.log(`bootcard's bytes = data ranges (${(dataBytes(image) / MiB).toFixed(1)} MiB) + clearing the first 4 MiB and the last 1 MiB`);
    console.log(row('UEFI-card-shaped image: bytes written', `${(sparseBytes / MiB).toFixed(1)} MiB`, `${(CARD / MiB).toFixed(1)} MiB`, `${(byteRatio * 100).toFixed(1)}%`, `<= 5% ${byteRatio <= 0.05 ? 'MET' : 'MISSED'}`));
    const cardTimeRatio = median(sparseTimes) / median(ddCardTimes);
    console.log(row('UEFI-card-shaped image: time', `${median(sparseTimes).toFixed(0)} ms`, `${median(ddCardTimes).toFixed(0)} ms`, `${cardTimeRatio.toFixed(2)}x`, '(for information)'));

    // 1b. A real EEPROM recovery card (Raspberry Pi's files from ../shared), when the fixtures are there.
    const shared = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'shared', 'fixtures', 'rpi-eeprom');
    if (existsSync(path.join(shared, 'recovery-2711.bin'))) {
      const recoveryCard = composeRecoveryCard({
        board: '2711',
        pieeprom: readFileSync(path.join(shared, 'pieeprom-2711-2026-05-17.bin')),
        recovery: readFileSync(path.join(shared, 'recovery-2711.bin')),
        vl805: readFileSync(path.join(shared, 'vl805-000138c0.bin')),
        preset: 'network',
        timestamp: 1_700_000_000,
        size: CARD - 4 * MiB,
        imageSize: CARD,
      });
      const [r] = await runWrite({ image: recoveryCard, targets: [card0], verify: false, includeLoop: true });
      ensureOk([r!]);
      const ratio = r!.bytesWritten / recoveryCard.size;
      console.log(
        row(`EEPROM recovery card (${(dataBytes(recoveryCard) / MiB).toFixed(1)} MiB data): bytes`, `${(r!.bytesWritten / MiB).toFixed(1)} MiB`, `${(recoveryCard.size / MiB).toFixed(1)} MiB`, `${(ratio * 100).toFixed(1)}%`, `<= 5% ${ratio <= 0.05 ? 'MET' : 'MISSED'}`),
      );
    } else {
      console.log('EEPROM recovery card: skipped (../shared/fixtures/rpi-eeprom is missing)');
    }

    // 2. A full raw image: bootcard writes every byte, like dd.
    const rawTimes: number[] = [];
    const ddRawTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const b = await time(() => runWrite({ image: { path: rawFile }, targets: [card0], verify: false, includeLoop: true }));
      ensureOk(b.value);
      rawTimes.push(b.ms);
      ddRawTimes.push((await dd(rawFile, card0)).ms);
    }
    const rawRatio = median(rawTimes) / median(ddRawTimes);
    console.log(row('full raw image (256 MiB random): time', `${median(rawTimes).toFixed(0)} ms`, `${median(ddRawTimes).toFixed(0)} ms`, `${rawRatio.toFixed(2)}x`, `<= 1.0x ${rawRatio <= 1.0 ? 'MET' : 'MISSED'}`));

    // 3. Many cards at once, through the privileged writer child: the card image with verify, four cards vs one.
    const oneTimes: number[] = [];
    const fourTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const one = await timeThroughChild(image, [card0]);
      ensureOk(one.value);
      oneTimes.push(one.ms);
      const four = await timeThroughChild(image, cards);
      ensureOk(four.value);
      fourTimes.push(four.ms);
    }
    const parallelRatio = median(fourTimes) / median(oneTimes);
    console.log(row('card image + verify, writer child: 4 cards vs 1', `${median(fourTimes).toFixed(0)} ms`, `${median(oneTimes).toFixed(0)} ms`, `${parallelRatio.toFixed(2)}x`, `< 1.5x ${parallelRatio < 1.5 ? 'MET' : 'MISSED'}`));

    // The same in-process with a warm engine (no fresh child): only the per-card work is left.
    const warmOne: number[] = [];
    const warmFour: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const one = await time(() => runWrite({ image, targets: [card0], verify: true, includeLoop: true }));
      ensureOk(one.value);
      warmOne.push(one.ms);
      const four = await time(() => runWrite({ image, targets: cards, verify: true, includeLoop: true }));
      ensureOk(four.value);
      warmFour.push(four.ms);
    }
    console.log(
      row('card image + verify, warm in-process: 4 vs 1', `${median(warmFour).toFixed(0)} ms`, `${median(warmOne).toFixed(0)} ms`, `${(median(warmFour) / median(warmOne)).toFixed(2)}x`, '(for information: 4 thread-pool threads)'),
    );

    // The same with the full raw image: on loop devices this measures memory copies and SHA-256 on this machine's cores.
    const rawOne = await timeThroughChild({ path: rawFile }, [card0]);
    ensureOk(rawOne.value);
    const rawFour = await timeThroughChild({ path: rawFile }, cards);
    ensureOk(rawFour.value);
    console.log(
      row(`raw image + verify: 4 cards vs 1 (${os.cpus().length} cores)`, `${rawFour.ms.toFixed(0)} ms`, `${rawOne.ms.toFixed(0)} ms`, `${(rawFour.ms / rawOne.ms).toFixed(2)}x`, '(for information: CPU-bound on loop devices)'),
    );
  } finally {
    for (const l of loops) {
      try {
        execFileSync('losetup', ['-d', l]);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
