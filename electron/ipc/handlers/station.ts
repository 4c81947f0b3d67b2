/**
 * The server-wide station service behind station.start/watch/stop: one station
 * for the whole server (Electron window or every `bootcard serve` tab), so it
 * outlives any one tab; `close()` (the server stopping) cancels it and waits.
 */
import { BootcardError, CommonErrorCode } from '../../core/errors.js';
import { Station } from '../../core/station/station.io.js';
import { StationErrorCode, type StationSnapshot } from '../../core/station/station-state.js';
import type { Handler } from '../dispatcher.js';
import { composeRecipe } from './card.js';

export interface StationServiceOptions {
  readonly cwd: string;
  /** Loop devices may be written: only for tests (`bootcard serve --include-loop`). */
  readonly includeLoop: boolean;
  /** With includeLoop: only loop devices backed by files in this folder (serve --loop-dir, tests). */
  readonly loopDir?: string;
  /** Where the station log goes (one JSON line per card); none when undefined. */
  readonly logFile?: string;
}

type Listener = (snapshot: StationSnapshot) => void;

export class StationService {
  private station: Station | undefined;
  private last: StationSnapshot | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly endListeners = new Set<() => void>();
  private closing: Promise<void> | undefined;
  /** A start is composing its card: a second start in that time would make a station the first cannot see. */
  private starting = false;

  constructor(private readonly options: StationServiceOptions) {}

  readonly start: Handler<'station.start'> = async ({ recipe, verify, lock, timestamp }, ctx) => {
    if (this.station || this.starting) throw new BootcardError(StationErrorCode.ALREADY_RUNNING, 'A station is already running on this server; open its page, or stop it first.');
    if (lock && !verify) throw new BootcardError(CommonErrorCode.INVALID_REQUEST, 'Cards are locked only after they verified; keep verify on to lock.');
    this.starting = true;
    let station: Station;
    try {
      const { image } = await composeRecipe(recipe, this.options.cwd, timestamp ?? Math.floor(Date.now() / 1000), ctx.signal);
      station = await Station.prepare({
        recipe: { size: image.size, imageFor: () => image },
        verify,
        lock,
        includeLoop: this.options.includeLoop,
        ...(this.options.loopDir !== undefined ? { loopDir: this.options.loopDir } : {}),
        ...(this.options.logFile ? { logFile: this.options.logFile } : {}),
        onChange: (s) => this.publish(s),
      });
      // The server began stopping while the card was composed: close() found no station to stop, so none may start now.
      if (this.closing) throw new BootcardError(CommonErrorCode.CANCELLED, 'The server is stopping: the station did not start and no card was written.');
      this.station = station;
    } finally {
      this.starting = false;
    }
    await station.start();
    return station.snapshot();
  };

  readonly watch: Handler<'station.watch'> = (_request, ctx) =>
    new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let pending: StationSnapshot | undefined;
      // At most a few updates a second per tab: progress arrives far more often.
      const listener: Listener = (s) => {
        pending = s;
        timer ??= setTimeout(() => {
          timer = undefined;
          if (pending) ctx.progress(pending);
        }, 200);
      };
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        this.listeners.delete(listener);
        this.endListeners.delete(end);
        if (timer) clearTimeout(timer);
        if (pending && !ctx.signal.aborted) ctx.progress(pending);
        resolve({ stopped: true, ...(this.last ? { snapshot: this.last } : {}) });
      };
      this.listeners.add(listener);
      this.endListeners.add(end);
      // Cancelled because the server is stopping: the answer waits for the station's cards to end, so the page hears how.
      ctx.signal.addEventListener('abort', () => (this.closing ? void this.closing.then(end, end) : end()), { once: true });
      const now = this.station?.snapshot() ?? this.last;
      if (now) ctx.progress(now);
    });

  readonly stop: Handler<'station.stop'> = async () => {
    const station = this.station;
    if (!station) {
      if (this.last) return this.last;
      throw new BootcardError(StationErrorCode.NOT_RUNNING, 'No station is running.');
    }
    await this.end(station);
    return this.last ?? station.snapshot();
  };

  /** The server is stopping: cancel the cards in flight and wait for their writers. */
  close(): Promise<void> {
    this.closing ??= this.station ? this.end(this.station) : Promise.resolve();
    return this.closing;
  }

  private async end(station: Station): Promise<void> {
    await station.stop();
    if (this.station === station) this.station = undefined;
    this.last = station.snapshot();
    for (const end of [...this.endListeners]) end();
  }

  private publish(snapshot: StationSnapshot): void {
    this.last = snapshot;
    for (const l of this.listeners) l(snapshot);
  }
}
