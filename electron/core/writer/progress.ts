/** Per-card progress: bytes, speed over a short window, and time left (pure; the caller supplies the clock). */

export type WritePhase = 'write' | 'verify';

export interface WriteProgress {
  readonly target: string;
  readonly phase: WritePhase;
  /** Bytes done in this phase. */
  readonly bytes: number;
  /** Bytes this phase will handle in all. */
  readonly total: number;
  /** Bytes per second over the last few seconds. */
  readonly speed: number;
  /** Seconds left in this phase; undefined until the speed is known. */
  readonly etaSeconds?: number;
}

const WINDOW_MS = 3000;

export class ProgressMeter {
  private samples: { t: number; bytes: number }[] = [];

  constructor(
    readonly target: string,
    readonly phase: WritePhase,
    readonly total: number,
  ) {}

  sample(bytes: number, nowMs: number): WriteProgress {
    this.samples.push({ t: nowMs, bytes });
    while (this.samples.length > 2 && nowMs - this.samples[0]!.t > WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const elapsed = (nowMs - first.t) / 1000;
    const speed = elapsed > 0 ? (bytes - first.bytes) / elapsed : 0;
    const left = Math.max(0, this.total - bytes);
    return {
      target: this.target,
      phase: this.phase,
      bytes,
      total: this.total,
      speed: Math.round(speed),
      ...(speed > 0 ? { etaSeconds: Math.ceil(left / speed) } : {}),
    };
  }
}
