/**
 * A real `bootcard ... --station` process over real loop devices: the station
 * sees only loop devices backed by files in its own folder (--loop-dir), so
 * teammates' loop devices are never touched. Every loop device a test attaches
 * is detached in `cleanup`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { attachLoop, attachLoopFile, type LoopDevice } from '../helpers/loop.js';
import { exitWithin, startCli, stillRunningAfter, type CliProcess } from '../writer/cli-process.js';

export interface LogLine {
  time: string;
  device: string;
  ok: boolean;
  error?: { code: string; message: string };
  sha256?: string;
  bytesWritten: number;
  serial?: string;
  identity?: string;
  row?: { index: number; name: string; line: number };
  incomplete?: boolean;
  skipped?: boolean;
  verified?: boolean;
}

export function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogLine);
}

export async function until<T>(what: string, probe: () => T | undefined | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const sha256Of = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export class StationRun {
  readonly loops: LoopDevice[] = [];
  cli: CliProcess | undefined;
  stderr = '';

  constructor(readonly dir: string) {}

  start(args: readonly string[]): CliProcess {
    this.cli = startCli(args);
    this.cli.process.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    return this.cli;
  }

  async running(): Promise<void> {
    await until('the station to start', () => /Station running/.test(this.stderr));
  }

  attach(sizeBytes: number): LoopDevice {
    const loop = attachLoop(sizeBytes, this.dir);
    this.loops.push(loop);
    return loop;
  }

  /** Attaches an existing backing file again (the same card put back in). */
  reattach(backingFile: string): LoopDevice {
    const loop = attachLoopFile(backingFile);
    this.loops.push(loop);
    return loop;
  }

  /** Ctrl-C to the station's process group; resolves with its exit and checks no writer child is left. */
  async interrupt(): Promise<{ code: number | null; stdout: string; stderr: string; left: number[] }> {
    const cli = this.cli!;
    cli.interruptGroup('SIGINT');
    const end = await exitWithin(cli, 30_000);
    if (end === 'timeout') throw new Error('the station did not exit within 30 s of Ctrl-C');
    const left = await stillRunningAfter(cli.writerChildren, 10_000);
    return { code: end.code, stdout: end.stdout, stderr: end.stderr, left };
  }

  async cleanup(): Promise<void> {
    if (this.cli) {
      this.cli.interruptGroup('SIGINT');
      await exitWithin(this.cli, 30_000);
    }
    for (const l of this.loops) l.detach();
  }
}
