/**
 * The simulated SD card (tests/sdlock/emulator/sdcard-emu.c) and a way to run
 * bootcard against it: the shim is compiled with gcc into a temp folder and
 * LD_PRELOADed into a child `node --import tsx` running the real CLI (or a
 * small script), which loads the real addon from native/build.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SYSFS = path.join(ROOT, 'tests/fixtures/sdlock/sys');
const SHIM_SOURCE = path.join(ROOT, 'tests/sdlock/emulator/sdcard-emu.c');
const ADDON = path.join(ROOT, 'native/build/Release/sdlock.node');

function unavailable(): string | null {
  if (process.platform !== 'linux') return 'the card emulator needs Linux (LD_PRELOAD, MMC_IOC_CMD)';
  if (!existsSync(ADDON)) return `the addon is not built (${ADDON}); run npm install`;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'gcc is not installed';
  }
  return null;
}

export const emulatorUnavailableReason = unavailable();

/** Each card has its own state and log files, so the child processes run side by side. */
export const describeEmulator: typeof describe = ((name: string, fn: () => void) =>
  emulatorUnavailableReason ? describe.skip(`${name} (skipped: ${emulatorUnavailableReason})`, fn) : describe.concurrent(name, fn)) as typeof describe;

/** Compiles the shim; returns its path and a cleanup. */
export function buildEmulator(): { shim: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-sdemu-'));
  const shim = path.join(dir, 'sdcard-emu.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-Wall', '-Werror', '-o', shim, SHIM_SOURCE, '-ldl']);
  return { shim, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CardSetup {
  /** Initial CSD, 32 hex digits. */
  readonly csd: string;
  readonly device?: string;
  readonly rca?: number;
  readonly fault?: 'eacces' | 'nomedium' | 'enotty' | 'eperm' | 'crc' | 'timeout' | 'ignore-csd' | 'no-cmd13' | 'no-multi' | 'multi-noop';
  readonly delayMs?: number;
  /** A file to show bootcard in place of /proc/self/mounts. */
  readonly mounts?: string;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One simulated card: its state file and command log persist across runs. */
export class EmulatedCard {
  private static count = 0;
  readonly stateFile: string;
  readonly logFile: string;
  fault: CardSetup['fault'] | undefined;
  delayMs: number | undefined;

  constructor(
    private readonly shim: string,
    dir: string,
    private readonly setup: CardSetup,
  ) {
    const n = EmulatedCard.count++;
    this.stateFile = path.join(dir, `card-${n}.state`);
    this.logFile = path.join(dir, `card-${n}.log`);
    this.fault = setup.fault;
    this.delayMs = setup.delayMs;
  }

  get device(): string {
    return this.setup.device ?? '/dev/mmcblk0';
  }

  env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      LD_PRELOAD: this.shim,
      BOOTCARD_SYSFS: SYSFS,
      SDEMU_DEVICE: this.device,
      SDEMU_STATE: this.stateFile,
      SDEMU_LOG: this.logFile,
      SDEMU_CSD: this.setup.csd,
      SDEMU_RCA: `0x${(this.setup.rca ?? 0xaaaa).toString(16)}`,
      SDEMU_FAULT: this.fault ?? '',
      SDEMU_DELAY_MS: this.delayMs === undefined ? '' : String(this.delayMs),
      SDEMU_MOUNTS: this.setup.mounts ?? '',
    };
  }

  /** Runs `bootcard sd ...args` in a child process against this card. */
  sd(...args: string[]): Promise<Run> {
    return runNode([path.join(ROOT, 'electron/cli/main.ts'), 'sd', ...args], this.env());
  }

  /** Runs a script under tests/sdlock/scripts against this card. */
  script(name: string, ...args: string[]): Promise<Run> {
    return runNode([path.join(ROOT, 'tests/sdlock/scripts', name), ...args], this.env());
  }

  /** The card's CSD and state as the emulator holds them (null before the first command). */
  card(): { csd: string; state: number } | null {
    if (!existsSync(this.stateFile)) return null;
    const m = /csd=([0-9a-f]{32}) state=(\d+)/.exec(readFileSync(this.stateFile, 'utf8'));
    return m ? { csd: m[1]!, state: Number(m[2]) } : null;
  }

  /** The commands the card received, one line each. */
  log(): string[] {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').trim().split('\n').filter(Boolean) : [];
  }
}

function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
