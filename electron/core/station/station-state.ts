/**
 * The flashing station's pure rules: what identifies a card, which card is new,
 * which batch row a card gets, what one log line says, and the counters. The
 * runner (station.io.ts) feeds it drives and writer results; the CLI and the
 * wizard show its snapshots.
 */
import type { BootcardErrorJSON } from '../errors.js';
import type { Drive } from '../drives/types.js';

export const StationErrorCode = {
  /** The same card (by its identity) already succeeded; put in another card or pass --rewrite. */
  ALREADY_WRITTEN: 'STATION_ALREADY_WRITTEN',
  /** Every row of the batch file has its card. */
  NO_ROW_LEFT: 'STATION_NO_ROW_LEFT',
  /** The card was pulled out (or its reader unplugged) while it was written. */
  CARD_REMOVED: 'STATION_CARD_REMOVED',
  /** The log file cannot be read or appended to. */
  LOG_FAILED: 'STATION_LOG_FAILED',
  /** A station is already running (one per server). */
  ALREADY_RUNNING: 'STATION_ALREADY_RUNNING',
  NOT_RUNNING: 'STATION_NOT_RUNNING',
} as const;

/** One row of a batch file (one Pi): the card that gets it is made for that Pi. */
export interface StationRow {
  /** 0-based position in the batch file. */
  readonly index: number;
  readonly name: string;
  /** 1-based line in the batch file. */
  readonly line: number;
  /** A short fact shown under the name (e.g. the MAC). */
  readonly detail?: string;
}

export type SlotState = 'present' | 'empty' | 'refused' | 'writing' | 'verifying' | 'verified' | 'locked' | 'failed' | 'skipped';

/** One reader slot (one whole-disk device) as the station shows it. */
export interface StationSlot {
  readonly device: string;
  readonly description: string;
  readonly state: SlotState;
  /** 0..100 while writing or verifying. */
  readonly percent?: number;
  readonly bytesPerSecond?: number;
  readonly row?: StationRow;
  /** Why the card failed, was refused or skipped. */
  readonly reason?: string;
  /** A refused card's drive constraints (code and the CLI's message), so the wizard can say them in its own words. */
  readonly problems?: readonly { readonly code: string; readonly message: string }[];
  readonly serial?: string;
}

export interface StationCounters {
  readonly written: number;
  readonly failed: number;
  readonly skipped: number;
  /** Cards written per hour since the station started. */
  readonly cardsPerHour: number;
}

export interface StationSnapshot {
  readonly running: boolean;
  readonly startedAt: string;
  readonly slots: readonly StationSlot[];
  readonly counters: StationCounters;
  /** The batch rows not yet used, when there is a batch. */
  readonly rowsLeft?: number;
  readonly rowsTotal?: number;
  /** The newest log lines, oldest first. */
  readonly recent: readonly StationLogLine[];
}

/** One line of the station log (JSON Lines), written and synced as each card ends. */
export interface StationLogLine {
  readonly time: string;
  readonly device: string;
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  /** SHA-256 of what was verified on the card. */
  readonly sha256?: string;
  readonly bytesWritten: number;
  /** The card's CID serial (PSN), when the card sits on an MMC host. */
  readonly serial?: string;
  /** What the station knows the card by: `cid:SERIAL`, or for a loop device (tests) `loop:BACKING_FILE:SIZE`. */
  readonly identity?: string;
  readonly row?: { readonly index: number; readonly name: string; readonly line: number };
  readonly verified?: boolean;
  readonly locked?: boolean;
  /** Cancelled (Ctrl-C, Stop) while it was written: the card must be written again. */
  readonly incomplete?: boolean;
  /** Not written because the same card already succeeded. */
  readonly skipped?: boolean;
  readonly durationMs?: number;
}

/**
 * What tells one card from another: its CID serial on an MMC host. A USB
 * reader hides the CID, so such a card has no identity and is never taken for
 * one written before. Loop devices (tests only) have no CID either: the backing
 * file and size stand for it.
 */
export function cardIdentity(drive: Drive): string | undefined {
  if (drive.sd?.serial) return `cid:${drive.sd.serial}${drive.sd.manufacturerId !== undefined ? `:${drive.sd.manufacturerId}` : ''}`;
  if (drive.isLoop && drive.loopBackingFile) return `loop:${drive.loopBackingFile}:${drive.size}`;
  return undefined;
}

/**
 * The card in a slot, as far as "is this a new card" goes: a size (0 is an
 * empty slot) and the identity. A slot whose partitions or mounts change
 * (the writer's own doing) holds the same card.
 */
export function cardKey(drive: Drive): string {
  return `${drive.size}|${cardIdentity(drive) ?? ''}`;
}

/** Batch rows handed out in file order: the lowest row neither done nor held by a card being written. */
export class RowAllocator {
  private readonly done = new Set<number>();
  private readonly held = new Set<number>();

  constructor(readonly rows: readonly StationRow[]) {}

  /** Rows a previous run already wrote (by name, from its log). */
  markDoneByName(names: Iterable<string>): void {
    const wanted = new Set(names);
    for (const r of this.rows) if (wanted.has(r.name)) this.done.add(r.index);
  }

  take(): StationRow | undefined {
    const row = this.rows.find((r) => !this.done.has(r.index) && !this.held.has(r.index));
    if (row) this.held.add(row.index);
    return row;
  }

  /** The card with this row ended: done when it succeeded, free again for the next card when it did not. */
  release(row: StationRow, succeeded: boolean): void {
    this.held.delete(row.index);
    if (succeeded) this.done.add(row.index);
  }

  get left(): number {
    return this.rows.length - this.done.size;
  }
}

export function cardsPerHour(written: number, startedMs: number, nowMs: number): number {
  const hours = (nowMs - startedMs) / 3_600_000;
  // The first minutes would show absurd rates; until a minute has passed the rate is per the first minute.
  return Math.round(written / Math.max(hours, 1 / 60));
}

export interface CardOutcome {
  readonly device: string;
  readonly ok: boolean;
  readonly error?: BootcardErrorJSON | { readonly code: string; readonly message: string };
  readonly sha256?: string;
  readonly bytesWritten?: number;
  readonly serial?: string;
  readonly identity?: string;
  readonly row?: StationRow;
  readonly verified?: boolean;
  readonly locked?: boolean;
  readonly incomplete?: boolean;
  readonly skipped?: boolean;
  readonly durationMs?: number;
}

export function logLine(outcome: CardOutcome, now: Date): StationLogLine {
  return {
    time: now.toISOString(),
    device: outcome.device,
    ok: outcome.ok,
    ...(outcome.error ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
    ...(outcome.sha256 ? { sha256: outcome.sha256 } : {}),
    bytesWritten: outcome.bytesWritten ?? 0,
    ...(outcome.serial ? { serial: outcome.serial } : {}),
    ...(outcome.identity ? { identity: outcome.identity } : {}),
    ...(outcome.row ? { row: { index: outcome.row.index, name: outcome.row.name, line: outcome.row.line } } : {}),
    ...(outcome.verified !== undefined ? { verified: outcome.verified } : {}),
    ...(outcome.locked !== undefined ? { locked: outcome.locked } : {}),
    ...(outcome.incomplete ? { incomplete: true } : {}),
    ...(outcome.skipped ? { skipped: true } : {}),
    ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
  };
}

/** What an earlier log says was done: identities of cards that succeeded and the batch rows they took. */
export function doneFromLog(lines: readonly StationLogLine[]): { identities: Set<string>; rowNames: Set<string> } {
  const identities = new Set<string>();
  const rowNames = new Set<string>();
  for (const l of lines) {
    if (!l.ok) continue;
    if (l.identity) identities.add(l.identity);
    if (l.row) rowNames.add(l.row.name);
  }
  return { identities, rowNames };
}

/** One slot's terminal line: device, state, row name, progress or reason. */
export function slotLine(slot: StationSlot): string {
  const row = slot.row ? `  [${slot.row.name}]` : '';
  switch (slot.state) {
    case 'writing':
    case 'verifying':
      return `${slot.device}${row}  ${slot.state === 'writing' ? 'writing  ' : 'verifying'} ${String(slot.percent ?? 0).padStart(3)}%`;
    case 'failed':
    case 'refused':
    case 'skipped':
      return `${slot.device}${row}  ${slot.state.toUpperCase()}: ${slot.reason ?? ''}`;
    case 'present':
      return `${slot.device}  there at start: not written`;
    case 'empty':
      return `${slot.device}  waiting for a card`;
    default:
      return `${slot.device}${row}  ${slot.state}`;
  }
}

export function countersLine(c: StationCounters, rows?: { left: number; total: number }): string {
  const parts = [`written ${c.written}`, `failed ${c.failed}`, `skipped ${c.skipped}`, `${c.cardsPerHour} cards/hour`];
  if (rows) parts.push(`rows left ${rows.left} of ${rows.total}`);
  return parts.join('  ');
}
