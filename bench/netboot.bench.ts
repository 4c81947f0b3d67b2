/**
 * The netboot tree's NFS root extraction against debugfs's own `rdump` (the
 * bytes-only copy it is built on): what bootcard's listing, owners/modes,
 * links, device nodes and xattrs pass costs on top, for a root of about
 * 10,000 files, and what each further Pi costs (a `cp -a` of the extracted
 * root; the last Pi takes the extracted root itself). Goal: bootcard within
 * 2x of a bare rdump; a further Pi no slower than the first. Needs root and e2fsprogs, attr, libcap2-bin, dosfstools,
 * mtools, fdisk; skipped (saying why) otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parsePiId } from '../electron/core/netboot/pi-id.js';
import { buildNetbootTree } from '../electron/core/netboot/tree.io.js';
import { buildOsImage, toolsMissing } from '../tests/netboot/os-image.js';

export const title = 'Netboot tree: NFS root extraction vs debugfs rdump, and per-Pi cost (goal: within 2x of rdump)';

const FILES = 10_000;
/** Rounds, interleaved, best kept: file creation speed swings with what else the machine does. */
const ROUNDS = 3;
const GOAL_RATIO = 2;

function seconds(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

async function secondsAsync(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export async function run(): Promise<void> {
  const missing = toolsMissing();
  if (missing) {
    console.log(`skipped: ${missing}`);
    return;
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'bootcard-bench-netboot-'));
  try {
    const image = buildOsImage(dir, {
      compress: false,
      rootMiB: 160,
      changeRoot: (root) => {
        for (let d = 0; d < FILES / 100; d++) {
          const folder = path.join(root, 'usr/share/bench', String(d));
          mkdirSync(folder, { recursive: true });
          for (let f = 0; f < 100; f++) writeFileSync(path.join(folder, `file-${f}.txt`), `bench file ${d}/${f}\n`.repeat(1 + (f % 40)));
        }
      },
    });
    const offset = Number(execFileSync('sfdisk', ['--json', image.img], { encoding: 'utf8' }).match(/"start":\s*(\d+)[^}]*"type":\s*"83"/)![1]) * 512;
    const pis = (n: number) => Array.from({ length: n }, (_, i) => ({ id: parsePiId(`dc:a6:32:00:00:${(i + 1).toString(16).padStart(2, '0')}`) }));
    let rdump = Number.POSITIVE_INFINITY;
    let one = Number.POSITIVE_INFINITY;
    for (let round = 0; round < ROUNDS; round++) {
      const rdumpDir = path.join(dir, 'rdump');
      mkdirSync(rdumpDir);
      rdump = Math.min(rdump, seconds(() => execFileSync('debugfs', ['-R', `rdump / ${rdumpDir}`, `${image.img}?offset=${offset}`], { stdio: 'ignore' })));
      rmSync(rdumpDir, { recursive: true, force: true });
      const tftpRoot = path.join(dir, 't1');
      const nfsRoot = path.join(dir, 'n1');
      one = Math.min(one, await secondsAsync(() => buildNetbootTree({ image: image.img, tftpRoot, nfsRoot, server: '10.0.0.1', pis: pis(1) })));
      rmSync(tftpRoot, { recursive: true, force: true });
      rmSync(nfsRoot, { recursive: true, force: true });
    }
    const four = await secondsAsync(() => buildNetbootTree({ image: image.img, tftpRoot: path.join(dir, 't4'), nfsRoot: path.join(dir, 'n4'), server: '10.0.0.1', pis: pis(4) }));
    const ratio = one / rdump;
    console.log(`root of ~${FILES} files, best of ${ROUNDS}: debugfs rdump ${rdump.toFixed(2)} s, bootcard (1 Pi) ${one.toFixed(2)} s = ${ratio.toFixed(2)}x rdump (goal <= ${GOAL_RATIO}x) ${ratio <= GOAL_RATIO ? 'ok' : 'OVER'}`);
    const further = (four - one) / 3;
    console.log(`4 Pis ${four.toFixed(2)} s: each further Pi ${further.toFixed(2)} s vs the first ${one.toFixed(2)} s ${further <= one ? 'ok' : 'OVER'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
