/**
 * `--station` on `bootcard flash`, `card uefi` and `card recovery`: asks once,
 * then writes every card put into a reader until Ctrl-C, one line per slot with
 * live progress and the counters (or, with --json, the log lines).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { BootcardError } from '../core/errors.js';
import { Station, type StationRecipe } from '../core/station/station.io.js';
import { countersLine, slotLine, type StationLogLine, type StationSnapshot } from '../core/station/station-state.js';
import { formatBytes } from '../core/units.js';
import { startsAsRoot } from '../core/writer/spawn-child.io.js';
import type { CliContext } from './context.js';
import { usageError } from './program.js';
import { WriteTargetErrorCode, type WriteTargetOptions } from './write-targets.js';

export interface StationCliOptions extends WriteTargetOptions {
  readonly station?: boolean;
  readonly log?: string;
  readonly rewrite?: boolean;
  readonly loopDir?: string;
}

export const StationCliErrorCode = {
  CARDS_FAILED: 'STATION_CARDS_FAILED',
} as const;

export function addStationOptions(cmd: Command): Command {
  return cmd
    .option('--station', 'instead of --to: keep running and write every SD card put into a reader from now on (Ctrl-C stops)')
    .option('--log <file>', 'with --station: append one JSON line per card (synced as each card ends)')
    .option('--rewrite', 'with --station: write a card again even when the log says it was written (by its CID serial)')
    .option('--loop-dir <dir>', 'with --station --include-loop: only loop devices whose backing file is in this folder');
}

export function isStation(options: StationCliOptions): boolean {
  return options.station === true;
}

/** The options only a station takes, refused without --station (and --to with it). */
export function checkStationOptions(options: StationCliOptions): void {
  if (!options.station) {
    const stray = (['log', 'rewrite', 'loopDir'] as const).filter((k) => options[k] !== undefined);
    if (stray.length) throw usageError(`--${stray.map((k) => (k === 'loopDir' ? 'loop-dir' : k)).join(', --')} ${stray.length === 1 ? 'is' : 'are'} for --station.`);
    return;
  }
  if ((options.to ?? []).length) throw usageError('--station writes every card put in; do not name cards with --to.');
  if (options.lock && options.verify === false) throw usageError('--lock write-protects cards only after they verified; drop --no-verify.');
  if (options.loopDir && !options.includeLoop) throw usageError('--loop-dir is for --include-loop.');
}

/** What one finished card says on stdout. */
function resultLine(l: StationLogLine): string {
  const row = l.row ? ` [${l.row.name}]` : '';
  if (l.ok) {
    const facts = [`${formatBytes(l.bytesWritten)}`];
    if (l.sha256) facts.push(`sha256 ${l.sha256}`);
    if (l.serial) facts.push(`serial ${l.serial}`);
    const line = `ok      ${l.device}${row}: written and verified${l.locked ? ', locked' : ''} (${facts.join(', ')})`;
    // The name to write on the card's label, on a line of its own so it is found at a glance.
    return l.row ? `${line}\n        >>> label this card: ${l.row.name} <<<` : line;
  }
  if (l.skipped) return `skipped ${l.device}: ${l.error?.message ?? ''}`;
  return `FAILED  ${l.device}${row}: ${l.error?.message ?? 'unknown error'}${l.incomplete ? ' (incomplete)' : ''}`;
}

/** The live view: on a terminal, the slot lines redrawn in place; elsewhere, a line when a slot's state (or tenth of progress) changes. */
class StationScreen {
  private drawnLines = 0;
  private lastDraw = 0;
  private pending: StationSnapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly shown = new Map<string, string>();
  private readonly tty: boolean;
  private disposed = false;

  constructor(private readonly ctx: CliContext) {
    this.tty = (ctx.io.stderr as { isTTY?: boolean }).isTTY === true && ctx.io.env.TERM !== 'dumb';
  }

  update(snapshot: StationSnapshot): void {
    if (this.disposed) return;
    if (!this.tty) {
      for (const slot of snapshot.slots) {
        const step = slot.state === 'writing' || slot.state === 'verifying' ? `${slot.state}:${Math.floor((slot.percent ?? 0) / 10)}` : `${slot.state}:${slot.row?.name ?? ''}`;
        if (this.shown.get(slot.device) === step) continue;
        this.shown.set(slot.device, step);
        this.ctx.info(slotLine(slot));
      }
      return;
    }
    this.pending = snapshot;
    const wait = 250 - (Date.now() - this.lastDraw);
    if (wait <= 0) this.draw();
    else this.timer ??= setTimeout(() => this.draw(), wait);
  }

  /** Prints `print`'s lines above the live block (which is then drawn again from `now`), so the redraw never erases them. */
  say(print: () => void, now?: StationSnapshot): void {
    if (this.tty && this.drawnLines > 0) {
      this.ctx.io.stderr.write(`\x1b[${this.drawnLines}A\x1b[J`);
      this.drawnLines = 0;
    }
    print();
    if (this.disposed) return;
    if (now) this.pending = now;
    if (this.tty && this.pending) this.draw();
  }

  counters(snapshot: StationSnapshot): void {
    if (!this.tty) this.ctx.info(countersLine(snapshot.counters, rowsOf(snapshot)));
  }

  private draw(): void {
    this.timer = undefined;
    const s = this.pending;
    if (!s) return;
    this.lastDraw = Date.now();
    const lines = [...s.slots.map(slotLine), countersLine(s.counters, rowsOf(s))];
    const up = this.drawnLines ? `\x1b[${this.drawnLines}A\x1b[J` : '';
    this.ctx.io.stderr.write(`${up}${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  /** The last block stays on screen as the final state; nothing is drawn after this. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.tty && this.pending && !this.disposed) this.draw();
    this.disposed = true;
    this.drawnLines = 0;
    this.pending = undefined;
  }
}

function rowsOf(s: StationSnapshot): { left: number; total: number } | undefined {
  return s.rowsTotal !== undefined ? { left: s.rowsLeft ?? 0, total: s.rowsTotal } : undefined;
}

/**
 * Runs the station until Ctrl-C (or SIGTERM): the first cancels the cards in
 * flight (each logged incomplete) and waits for their writers to end, a second
 * stops waiting. Exit 1 when any card failed.
 */
export async function runStation(recipe: StationRecipe, what: string, options: StationCliOptions, ctx: CliContext): Promise<void> {
  checkStationOptions(options);
  const logFile = options.log ? path.resolve(ctx.io.cwd, options.log) : undefined;
  const screen = new StationScreen(ctx);
  const failures: StationLogLine[] = [];
  const station = await Station.prepare({
    recipe,
    verify: options.verify !== false,
    lock: options.lock ?? false,
    includeLoop: options.includeLoop ?? false,
    ...(options.loopDir ? { loopDir: path.resolve(ctx.io.cwd, options.loopDir) } : {}),
    allowNonCard: options.allowNonCard ?? false,
    rewrite: options.rewrite ?? false,
    ...(logFile ? { logFile } : {}),
    env: ctx.io.env,
    onChange: (s) => {
      if (!options.json) screen.update(s);
    },
    onLog: (line) => {
      if (!line.ok && !line.skipped) failures.push(line);
      if (options.json) {
        ctx.write(`${JSON.stringify(line)}\n`);
        return;
      }
      const now = station.snapshot();
      screen.say(() => {
        ctx.print(resultLine(line));
        screen.counters(now);
      }, now);
    },
    onWarning: (m) => screen.say(() => ctx.warn(m)),
  });

  const cancel = new AbortController();
  const stopWaiting = new AbortController();
  let started = false;
  const onSignal = () => {
    if (!cancel.signal.aborted) {
      if (started) screen.say(() => ctx.warn(station.busy ? `stopping: the ${station.busy} card${station.busy === 1 ? '' : 's'} being written will be incomplete (Ctrl-C again to stop waiting)` : 'stopping the station'));
      cancel.abort();
    } else if (!stopWaiting.signal.aborted) {
      stopWaiting.abort();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    // Each card gets its own privileged writer: as a user that is a pkexec each time, and polkit keeps the password only minutes.
    if (!startsAsRoot({})) ctx.warn('running as a regular user: each card is written through pkexec, and polkit keeps the password five minutes, then asks again; for a hands-free station run it as root (sudo).');
    if (!options.yes) {
      ctx.info(`Flashing station: every SD card put into a reader from now on will be ERASED and written with ${what}${options.lock ? ', then write-protected' : ''}.`);
      if (recipe.rows) ctx.info(`Each card gets the next unused row of the batch file (${recipe.rows.length} rows).`);
      ctx.info('Cards already in a reader are left alone.');
      if (!ctx.io.interactive) {
        throw new BootcardError(WriteTargetErrorCode.NOT_CONFIRMED, 'The station did not start: it asks once before erasing cards and nobody can answer here. Pass --yes to start without asking.');
      }
      const yes = await ctx.confirm('Start the station?', cancel.signal).catch((error: unknown) => {
        if (cancel.signal.aborted) return false;
        throw error;
      });
      if (!yes) throw new BootcardError(WriteTargetErrorCode.DECLINED, 'The station did not start; nothing was written.');
    }
    if (cancel.signal.aborted) throw new BootcardError(WriteTargetErrorCode.DECLINED, 'The station did not start; nothing was written.');
    const present = await station.start();
    started = true;
    const note = (text: string) => screen.say(() => ctx.info(text));
    note(
      present.length
        ? `Left alone (there at the start): ${present.map((d) => `${d.device} (${d.description}, ${formatBytes(d.size)})`).join('; ')}.`
        : 'No card is in a reader now.',
    );
    note(`Station running${logFile ? `, logging to ${logFile}` : ''}: put cards in; Ctrl-C stops.`);
    if (!cancel.signal.aborted) await new Promise<void>((resolve) => cancel.signal.addEventListener('abort', () => resolve(), { once: true }));
    await station.stop(stopWaiting.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (started) await station.stop(stopWaiting.signal);
    screen.dispose();
  }
  const c = station.snapshot().counters;
  screen.say(() => ctx.info(`Station stopped: ${countersLine(c)}.`));
  if (failures.length) {
    throw new BootcardError(StationCliErrorCode.CARDS_FAILED, `${failures.length} card${failures.length === 1 ? '' : 's'} failed: ${failures.map((f) => f.device).join(', ')}.`, {
      failed: failures.map((f) => f.device),
    });
  }
}
