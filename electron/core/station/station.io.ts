/**
 * The flashing station: the recipe is prepared once; then every card that
 * appears after the start (a card put into a reader, a reader plugged in) is
 * checked with the drive constraints, written and verified (and locked) through
 * `writeImageToDrives`, one call per card, and logged. Cards there at the start
 * are never written. A card pulled out fails alone; stop() cancels the cards in
 * flight (logged incomplete) and resolves when their writers have ended.
 */
import path from 'node:path';
import { driveConstraints } from '../drives/constraints.js';
import { enumerationPaths, listDrives, watchDrives, type DriveEvent } from '../drives/enumerate.io.js';
import { DriveErrorCode, type Drive } from '../drives/types.js';
import { BootcardError, toBootcardError } from '../errors.js';
import { WriteErrorCode, type WriteResult, type WriteSource } from '../writer/types.js';
import { writeImageToDrives } from '../writer/writer.io.js';
import { readStationLog, StationLog } from './station-log.io.js';
import {
  cardIdentity,
  cardKey,
  cardsPerHour,
  doneFromLog,
  logLine,
  RowAllocator,
  StationErrorCode,
  type CardOutcome,
  type SlotState,
  type StationLogLine,
  type StationRow,
  type StationSlot,
  type StationSnapshot,
} from './station-state.js';

/** What the station writes: prepared once, an image per card (per batch row when there are rows). */
export interface StationRecipe {
  /** Bytes a card must hold. */
  readonly size: number;
  /** The image file, when the recipe is one (a card holding it is refused). */
  readonly sourcePath?: string;
  readonly rows?: readonly StationRow[];
  readonly imageFor: (row: StationRow | undefined) => WriteSource | Promise<WriteSource>;
}

export interface StationOptions {
  readonly recipe: StationRecipe;
  readonly verify: boolean;
  readonly lock?: boolean;
  readonly includeLoop?: boolean;
  /** With includeLoop: only loop devices whose backing file lies in this folder (so a test never takes another's loop device). */
  readonly loopDir?: string;
  readonly allowNonCard?: boolean;
  /** Write a card again even when the log says it succeeded. */
  readonly rewrite?: boolean;
  readonly logFile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** How often /sys/block is looked at; a card is seen within about this plus a listing. */
  readonly pollMs?: number;
  readonly onChange?: (snapshot: StationSnapshot) => void;
  readonly onLog?: (line: StationLogLine) => void;
  readonly onWarning?: (message: string) => void;
}

/** How long a pulled card's writer gets to notice by itself before it is cancelled. */
const REMOVED_GRACE_MS = 3000;
const RECENT_LINES = 50;

interface Job {
  readonly key: string;
  readonly controller: AbortController;
  removed: boolean;
  removedTimer?: NodeJS.Timeout;
  done?: Promise<void>;
}

interface Slot {
  device: string;
  drive: Drive;
  key: string;
  state: SlotState;
  percent?: number;
  bytesPerSecond?: number;
  row?: StationRow;
  reason?: string;
  problems?: StationSlot['problems'];
  job?: Job;
  detached: boolean;
}

export class Station {
  private readonly slots = new Map<string, Slot>();
  private readonly jobs = new Set<Job>();
  private readonly recent: StationLogLine[] = [];
  private readonly hardStop = new AbortController();
  private readonly rows: RowAllocator | undefined;
  private readonly doneIdentities: Set<string>;
  private stopWatching: (() => void) | undefined;
  private stopping = false;
  private running = false;
  private startedMs = Date.now();
  private counters = { written: 0, failed: 0, skipped: 0 };
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly options: StationOptions,
    private readonly log: StationLog | undefined,
    earlier: readonly StationLogLine[],
  ) {
    const done = doneFromLog(earlier);
    this.doneIdentities = done.identities;
    if (options.recipe.rows) {
      this.rows = new RowAllocator(options.recipe.rows);
      this.rows.markDoneByName(done.rowNames);
    }
  }

  /** Reads the earlier log (its successful cards are skipped, its rows used) and checks the log can be appended to. Nothing is watched yet. */
  static async prepare(options: StationOptions): Promise<Station> {
    // Opened first: that refuses a link, FIFO or device before anything reads it.
    const log = options.logFile ? await StationLog.open(options.logFile) : undefined;
    const earlier = options.logFile ? await readStationLog(options.logFile) : [];
    return new Station(options, log, earlier);
  }

  /** Lists the cards there now (never written), then writes every card that appears. Returns the cards that were there. */
  async start(): Promise<Drive[]> {
    const paths = enumerationPaths(this.options.env ?? process.env);
    const present = (await listDrives({ includeLoop: this.options.includeLoop ?? false, paths })).filter((d) => this.watched(d));
    // stop() came while the cards were being listed (serve stopping, the page's Stop): watching now would outlive it.
    if (this.stopping) return [];
    this.startedMs = Date.now();
    this.running = true;
    for (const d of present) this.slots.set(d.device, { device: d.device, drive: d, key: cardKey(d), state: d.size > 0 ? 'present' : 'empty', detached: false });
    this.stopWatching = watchDrives((event) => this.onDriveEvent(event), {
      includeLoop: this.options.includeLoop ?? false,
      paths,
      intervalMs: this.options.pollMs ?? 250,
      onError: (error) => this.options.onWarning?.(`looking for cards failed: ${toBootcardError(error).message}`),
    });
    this.changed();
    return present.filter((d) => d.size > 0);
  }

  /** Cancels the cards being written (logged incomplete), stops watching, and resolves when every writer has ended. `stopSignal` stops waiting for them. */
  stop(stopSignal?: AbortSignal): Promise<void> {
    if (!this.stopped) {
      this.stopping = true;
      this.stopWatching?.();
      for (const job of this.jobs) job.controller.abort();
      this.stopped = (async () => {
        const abandon = () => this.hardStop.abort();
        stopSignal?.addEventListener('abort', abandon, { once: true });
        if (stopSignal?.aborted) abandon();
        try {
          while (this.jobs.size > 0) await Promise.all([...this.jobs].map((j) => j.done));
          await this.log?.flush().catch(() => undefined);
        } finally {
          stopSignal?.removeEventListener('abort', abandon);
          this.running = false;
          this.changed();
        }
      })();
    }
    return this.stopped;
  }

  get busy(): number {
    return this.jobs.size;
  }

  snapshot(): StationSnapshot {
    const slots: StationSlot[] = [...this.slots.values()]
      .sort((a, b) => a.device.localeCompare(b.device, undefined, { numeric: true }))
      .map((s) => ({
        device: s.device,
        description: s.drive.description,
        state: s.state,
        ...(s.percent !== undefined ? { percent: s.percent } : {}),
        ...(s.bytesPerSecond !== undefined ? { bytesPerSecond: s.bytesPerSecond } : {}),
        ...(s.row ? { row: s.row } : {}),
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.problems ? { problems: s.problems } : {}),
        ...(s.drive.sd?.serial ? { serial: s.drive.sd.serial } : {}),
      }));
    return {
      running: this.running,
      startedAt: new Date(this.startedMs).toISOString(),
      slots,
      counters: { ...this.counters, cardsPerHour: cardsPerHour(this.counters.written, this.startedMs, Date.now()) },
      ...(this.rows ? { rowsLeft: this.rows.left, rowsTotal: this.rows.rows.length } : {}),
      recent: [...this.recent],
    };
  }

  private watched(drive: Drive): boolean {
    if (drive.isSystem) return false;
    if (drive.isLoop) {
      if (!this.options.includeLoop) return false;
      const dir = this.options.loopDir;
      if (dir && !(drive.loopBackingFile && drive.loopBackingFile.startsWith(`${path.resolve(dir)}/`))) return false;
    }
    return true;
  }

  private changed(): void {
    this.options.onChange?.(this.snapshot());
  }

  private onDriveEvent(event: DriveEvent): void {
    if (this.stopping) return;
    if (event.type === 'detach') {
      const slot = this.slots.get(event.device);
      if (!slot) return;
      slot.detached = true;
      if (slot.job) this.cardRemoved(slot.job);
      else this.slots.delete(event.device);
      this.changed();
      return;
    }
    const drive = event.drive;
    if (!this.watched(drive)) return;
    const key = cardKey(drive);
    const slot = this.slots.get(drive.device);
    if (!slot) {
      const fresh: Slot = { device: drive.device, drive, key, state: 'empty', detached: false };
      this.slots.set(drive.device, fresh);
      if (drive.size > 0) this.begin(fresh);
      this.changed();
      return;
    }
    slot.drive = drive;
    slot.detached = false;
    if (slot.job) {
      if (key !== slot.job.key) this.cardRemoved(slot.job);
      return;
    }
    if (key === slot.key) return;
    slot.key = key;
    if (drive.size > 0) this.begin(slot);
    else this.setState(slot, 'empty');
    this.changed();
  }

  /** The card being written left its slot: the writer usually fails it at once; if it does not, it is cancelled. */
  private cardRemoved(job: Job): void {
    if (job.removed) return;
    job.removed = true;
    job.removedTimer = setTimeout(() => job.controller.abort(), REMOVED_GRACE_MS);
  }

  private setState(slot: Slot, state: SlotState, facts: { reason?: string; problems?: StationSlot['problems']; row?: StationRow } = {}): void {
    slot.state = state;
    delete slot.percent;
    delete slot.bytesPerSecond;
    if (facts.reason !== undefined) slot.reason = facts.reason;
    else delete slot.reason;
    if (facts.problems !== undefined) slot.problems = facts.problems;
    else delete slot.problems;
    if (facts.row !== undefined) slot.row = facts.row;
    else if (state !== 'writing' && state !== 'verifying' && state !== 'verified' && state !== 'locked' && state !== 'failed') delete slot.row;
  }

  private begin(slot: Slot): void {
    const drive = slot.drive;
    const identity = cardIdentity(drive);
    const base = { device: drive.device, ...(drive.sd?.serial ? { serial: drive.sd.serial } : {}), ...(identity ? { identity } : {}) };
    if (identity && this.doneIdentities.has(identity) && !this.options.rewrite) {
      const message = `${drive.device}: this card was written already (${identity}); put in another card, or pass --rewrite to write it again.`;
      this.setState(slot, 'skipped', { reason: 'written already' });
      this.counters.skipped++;
      this.record({ ...base, ok: false, skipped: true, error: { code: StationErrorCode.ALREADY_WRITTEN, message } });
      return;
    }
    const problems = driveConstraints(drive, { size: this.options.recipe.size, ...(this.options.recipe.sourcePath ? { sourcePath: this.options.recipe.sourcePath } : {}) }, {
      includeLoop: this.options.includeLoop ?? false,
      allowNonCard: this.options.allowNonCard ?? false,
    }).filter((c) => c.code !== DriveErrorCode.MOUNTED);
    if (problems.length > 0) {
      this.setState(slot, 'refused', { reason: problems.map((p) => p.message).join(' '), problems: problems.map(({ code, message }) => ({ code, message })) });
      this.counters.failed++;
      this.record({ ...base, ok: false, error: { code: problems[0]!.code, message: `Not written: ${problems.map((p) => p.message).join(' ')}` } });
      return;
    }
    let row: StationRow | undefined;
    if (this.rows) {
      row = this.rows.take();
      if (!row) {
        const message = `Not written: every row of the batch file has its card (${this.rows.rows.length}); take the card out.`;
        this.setState(slot, 'refused', { reason: 'every row has its card' });
        this.counters.failed++;
        this.record({ ...base, ok: false, error: { code: StationErrorCode.NO_ROW_LEFT, message } });
        return;
      }
    }
    const job: Job = { key: slot.key, controller: new AbortController(), removed: false };
    slot.job = job;
    this.jobs.add(job);
    this.setState(slot, 'writing', row ? { row } : {});
    slot.percent = 0;
    job.done = this.write(slot, job, row, base).finally(() => {
      if (job.removedTimer) clearTimeout(job.removedTimer);
      this.jobs.delete(job);
      delete slot.job;
      if (slot.detached) this.slots.delete(slot.device);
      else if (!this.stopping && cardKey(slot.drive) !== job.key) {
        // Another card went in while this one was ending.
        slot.key = cardKey(slot.drive);
        if (slot.drive.size > 0) this.begin(slot);
        else this.setState(slot, 'empty');
      }
      this.changed();
    });
  }

  private async write(slot: Slot, job: Job, row: StationRow | undefined, base: Pick<CardOutcome, 'device' | 'serial' | 'identity'>): Promise<void> {
    const started = Date.now();
    let result: WriteResult;
    try {
      const image = await this.options.recipe.imageFor(row);
      if (job.controller.signal.aborted) throw new BootcardError(WriteErrorCode.CANCELLED, `Cancelled before writing: nothing was written to ${slot.device}.`);
      [result] = (await writeImageToDrives({
        image,
        targets: [slot.device],
        verify: this.options.verify,
        includeLoop: this.options.includeLoop ?? false,
        allowNonCard: this.options.allowNonCard ?? false,
        lockAfterVerify: this.options.lock ?? false,
        signal: job.controller.signal,
        stopSignal: this.hardStop.signal,
        ...(this.options.env ? { env: this.options.env } : {}),
        onProgress: (p) => {
          if (slot.job !== job) return;
          slot.state = p.phase === 'write' ? 'writing' : 'verifying';
          slot.percent = p.total > 0 ? Math.min(100, Math.floor((p.bytes / p.total) * 100)) : 100;
          slot.bytesPerSecond = p.speed;
          this.changed();
        },
      })) as [WriteResult];
    } catch (error) {
      const e = toBootcardError(error);
      result = { target: slot.device, ok: false, kind: 'device', error: e.toJSON(), bytesWritten: 0, durationMs: Date.now() - started, verified: false };
    }
    const locked = result.lock ? result.lock.ok : undefined;
    const ok = result.ok && locked !== false;
    let error: { code: string; message: string } | undefined = result.ok ? result.lock?.error : result.error;
    let incomplete = false;
    if (!result.ok && job.removed) {
      error = { code: StationErrorCode.CARD_REMOVED, message: `${slot.device}: the card was taken out (or its reader unplugged) while it was written; write it again before using it.` };
    } else if (!result.ok && job.controller.signal.aborted) {
      incomplete = true;
      error = { code: WriteErrorCode.CANCELLED, message: result.error?.message ?? `Cancelled: ${slot.device} is incomplete; write it again before using it.` };
    }
    if (row) this.rows?.release(row, ok);
    if (ok) {
      this.counters.written++;
      if (base.identity) this.doneIdentities.add(base.identity);
      this.setState(slot, locked ? 'locked' : 'verified', row ? { row } : {});
    } else {
      this.counters.failed++;
      this.setState(slot, 'failed', { reason: error?.message ?? 'failed', ...(row ? { row } : {}) });
    }
    this.record({
      ...base,
      ok,
      ...(error ? { error } : {}),
      ...(result.sha256 ? { sha256: result.sha256 } : {}),
      bytesWritten: result.bytesWritten,
      ...(result.cidSerial ? { serial: result.cidSerial } : {}),
      ...(row ? { row } : {}),
      verified: result.verified,
      ...(locked !== undefined ? { locked } : {}),
      ...(incomplete ? { incomplete } : {}),
      durationMs: Date.now() - started,
    });
    await this.log?.flush().catch(() => undefined);
  }

  private record(outcome: CardOutcome): void {
    const line = logLine(outcome, new Date());
    this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.shift();
    this.options.onLog?.(line);
    this.log?.append(line).catch((error: unknown) => this.options.onWarning?.(`the station log ${this.log!.file} could not be appended to: ${toBootcardError(error).message}`));
    this.changed();
  }
}
