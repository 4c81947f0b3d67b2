/**
 * Real block devices for tests: loop devices over sparse files. Where losetup
 * is not permitted, `describeLoop` skips with the reason printed.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, ftruncateSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe } from 'vitest';

function probeLoop(): string | null {
  if (process.platform !== 'linux') return 'loop devices need Linux';
  if (process.getuid?.() !== 0) return 'loop devices need root';
  let dir: string | null = null;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-loop-probe-'));
    const file = path.join(dir, 'probe.img');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 1024 * 1024);
    closeSync(fd);
    const dev = execFileSync('losetup', ['-f', '--show', file], { encoding: 'utf8' }).trim();
    execFileSync('losetup', ['-d', dev]);
    return null;
  } catch (error) {
    return `losetup is not allowed here (${(error as Error).message.split('\n')[0]})`;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

export const loopUnavailableReason: string | null = probeLoop();

let warned = false;
export const describeLoop: typeof describe = ((name: string, fn: () => void) => {
  if (loopUnavailableReason && !warned) {
    warned = true;
    console.warn(`[skip] loop-device tests: ${loopUnavailableReason}`);
  }
  return loopUnavailableReason ? describe.skip(`${name} (skipped: ${loopUnavailableReason})`, fn) : describe(name, fn);
}) as typeof describe;

export interface LoopDevice {
  readonly device: string;
  readonly backingFile: string;
  detach(): void;
}

/** Attaches a fresh sparse file of `sizeBytes` as a loop device. Call detach() in afterEach/afterAll. */
export function attachLoop(sizeBytes: number, dir: string): LoopDevice {
  const backingFile = path.join(dir, `loop-${process.pid}-${Math.random().toString(36).slice(2)}.img`);
  const fd = openSync(backingFile, 'w');
  ftruncateSync(fd, sizeBytes);
  closeSync(fd);
  return attachLoopFile(backingFile);
}

/** Attaches an existing backing file (a card put back in); detach() detaches it once, never another test's. */
export function attachLoopFile(backingFile: string): LoopDevice {
  const device = execFileSync('losetup', ['-f', '--show', backingFile], { encoding: 'utf8' }).trim();
  let attached = true;
  return {
    device,
    backingFile,
    detach() {
      if (!attached) return;
      attached = false;
      try {
        execFileSync('losetup', ['-d', device]);
      } catch {
        // already detached by the test itself
      }
    },
  };
}

/**
 * Sectors (512 bytes) the kernel has written to a block device since it was
 * set up: field 7 of /sys/block/NAME/stat. Independent of bootcard's own count.
 */
export function sectorsWritten(device: string): number {
  const fields = readFileSync(`/sys/block/${path.basename(device)}/stat`, 'utf8').trim().split(/\s+/);
  return Number(fields[6]);
}
