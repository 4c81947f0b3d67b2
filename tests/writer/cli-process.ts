/**
 * The real `bootcard` CLI as a separate process (node + tsx on the sources),
 * started in its own process group so a signal reaches it as Ctrl-C in a
 * terminal does (the whole group: the CLI, pkexec, the privileged child), and
 * the processes it started, found in /proc while it runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI_MAIN = path.join(REPO_ROOT, 'electron/cli/main.ts');

export interface CliProcess {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every privileged-child pid seen below the CLI so far. */
  readonly writerChildren: Set<number>;
  /** Resolves when the CLI exits (stdout/stderr complete). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Signals the CLI's whole process group, as a terminal does for Ctrl-C. */
  interruptGroup(signal?: NodeJS.Signals): void;
}

/** `prefix` runs first (e.g. setpriv to drop to another user); the CLI's own arguments follow. */
export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; prefix?: readonly string[] } = {}): CliProcess {
  const command = [...(options.prefix ?? []), process.execPath, '--import', 'tsx', CLI_MAIN, ...args];
  const child = spawn(command[0]!, command.slice(1), { cwd: REPO_ROOT, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  const writerChildren = new Set<number>();
  const watch = setInterval(() => {
    for (const p of descendantsOf(pid)) if (isWriterChild(p)) writerChildren.add(p);
  }, 25);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(watch);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    process: child,
    pid,
    writerChildren,
    exited,
    interruptGroup: (signal = 'SIGINT') => {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is gone already
      }
    },
  };
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 4 (ppid) comes after the command name in parentheses, which may hold spaces.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

export function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentOf(Number(name));
    if (ppid !== undefined) parents.set(Number(name), ppid);
  }
  const out: number[] = [];
  const wanted = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parents) {
      if (wanted.has(ppid) && !wanted.has(pid)) {
        wanted.add(pid);
        out.push(pid);
        grew = true;
      }
    }
  }
  return out;
}

/** A live privileged writer child (its pid not reused by another program). */
export function isWriterChild(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('child-main.io');
  } catch {
    return false;
  }
}

/** Waits up to `ms` for every one of `pids` to be gone; returns those still running. */
export async function stillRunningAfter(pids: Iterable<number>, ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let alive = [...pids].filter(isWriterChild);
  while (alive.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    alive = alive.filter(isWriterChild);
  }
  return alive;
}

/** Resolves with the exit, or with 'timeout' after `ms` (the process is then SIGKILLed with its group, so no test leaves it behind). */
export async function exitWithin(cli: CliProcess, ms: number): Promise<Awaited<CliProcess['exited']> | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const outcome = await Promise.race([cli.exited, timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    cli.interruptGroup('SIGKILL');
    for (const p of cli.writerChildren) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  return outcome;
}

/**
 * Limits a block device's writes and reads (cgroup v1 blkio), so a small write
 * and its verify last seconds, as on a real SD card; returns the undo, or null
 * where it cannot.
 */
export function throttle(device: string, bytesPerSecond: { readonly write: number; readonly read: number }): (() => void) | null {
  const files = { write: '/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device', read: '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device' };
  if (!existsSync(files.write) || !existsSync(files.read)) return null;
  const majMin = readFileSync(`/sys/block/${path.basename(device)}/dev`, 'utf8').trim();
  const undo = () => {
    for (const file of Object.values(files)) {
      try {
        writeFileSync(file, `${majMin} 0`);
      } catch {
        // the device is gone already
      }
    }
  };
  try {
    writeFileSync(files.write, `${majMin} ${bytesPerSecond.write}`);
    writeFileSync(files.read, `${majMin} ${bytesPerSecond.read}`);
  } catch {
    undo();
    return null;
  }
  return undo;
}
