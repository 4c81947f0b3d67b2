/** Independent checks of composed card images with dosfstools, mtools and sfdisk. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, openSync, closeSync, ftruncateSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { SparseImage } from '../../electron/core/image/sparse-image.js';
import { saveSparseImage } from '../../electron/core/image/sparse-image.io.js';

export const TOOL_ENV = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };

/** Writes only the partition (offset .. offset+size) of a sparse image to `file`, for fsck.fat. */
export function savePartition(image: SparseImage, offset: number, size: number, file: string): void {
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, size);
    for (const r of image.ranges) {
      const from = Math.max(r.offset, offset);
      const to = Math.min(r.offset + r.data.length, offset + size);
      if (from >= to) continue;
      writeSync(fd, r.data, from - r.offset, to - from, from - offset);
    }
  } finally {
    closeSync(fd);
  }
}

export interface FsckResult {
  readonly code: number;
  readonly output: string;
  /** Lines other than the banner and the summary: what fsck.fat found to report. */
  readonly findings: string[];
}

export function fsckFat(partitionFile: string): FsckResult {
  const run = spawnSync('fsck.fat', ['-n', partitionFile], { encoding: 'utf8', env: TOOL_ENV });
  const output = `${run.stdout}${run.stderr}`;
  const findings = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^fsck\.fat \d/.test(l) && !l.startsWith(`${partitionFile}:`));
  return { code: run.status ?? -1, output, findings };
}

/** Copies the whole file system out with mcopy -s and returns path -> bytes. */
export function mcopyAll(imageFile: string, offset: number, dest: string): Map<string, Buffer> {
  mkdirSync(dest, { recursive: true });
  execFileSync('mcopy', ['-s', '-n', '-m', '-i', `${imageFile}@@${offset}`, '::/*', dest], { env: TOOL_ENV, stdio: 'pipe' });
  const out = new Map<string, Buffer>();
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(full).isDirectory()) walk(full, r);
      else out.set(r, readFileSync(full));
    }
  };
  walk(dest, '');
  return out;
}

export function mtype(imageFile: string, offset: number, file: string): Buffer {
  return execFileSync('mtype', ['-i', `${imageFile}@@${offset}`, `::${file}`], { env: TOOL_ENV });
}

/** `mdir -/ -b`: every path on the volume, as mtools sees it. */
export function mdirAll(imageFile: string, offset: number): string[] {
  const text = execFileSync('mdir', ['-/', '-b', '-i', `${imageFile}@@${offset}`, '::/'], { env: TOOL_ENV, encoding: 'utf8' });
  return text.split('\n').filter(Boolean).map((l) => l.replace(/^::\//, '').replace(/\/$/, ''));
}

export function sfdiskDump(imageFile: string): string {
  return execFileSync('sfdisk', ['-d', imageFile], { env: TOOL_ENV, encoding: 'utf8' });
}

export async function saveImage(image: SparseImage, file: string): Promise<void> {
  await saveSparseImage(image, file);
}

export function writeText(file: string, text: string): void {
  writeFileSync(file, text);
}
