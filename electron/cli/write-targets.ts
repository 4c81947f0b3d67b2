/**
 * The `--to DEV` options shared by every command that writes cards (`bootcard
 * flash`, `bootcard card uefi|recovery`), and the one flow behind them: check
 * each target, show it, ask (unless --yes), write them all at once through the
 * privileged writer with per-card progress, and report each card.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { describeTarget, enumerationPaths, type TargetKind } from '../core/drives/enumerate.io.js';
import { driveConstraints, fileTargetConstraints, type Constraint } from '../core/drives/constraints.js';
import { DriveErrorCode } from '../core/drives/types.js';
import { BootcardError } from '../core/errors.js';
import type { SparseImage } from '../core/image/sparse-image.js';
import { prepareFlashImage, type FlashImage } from '../core/image/flash-image.io.js';
import { formatBytes } from '../core/units.js';
import type { WriteProgress } from '../core/writer/progress.js';
import { isSparseSource, WriteErrorCode, type WriteResult } from '../core/writer/types.js';
import { writeImageToDrives } from '../core/writer/writer.io.js';
import type { CliContext } from './context.js';
import { usageError } from './program.js';
import { assertOutputFolder } from './outputs.js';

export interface WriteTargetOptions {
  readonly to?: string[];
  readonly yes?: boolean;
  /** commander's --no-verify sets verify false. */
  readonly verify?: boolean;
  readonly includeLoop?: boolean;
  readonly allowNonCard?: boolean;
  readonly lock?: boolean;
  readonly json?: boolean;
}

export const WriteTargetErrorCode = {
  NOT_CONFIRMED: 'WRITE_NOT_CONFIRMED',
  DECLINED: 'WRITE_DECLINED',
  FAILED: 'WRITE_FAILED',
} as const;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addWriteTargetOptions(cmd: Command): Command {
  return cmd
    .option('--to <device>', 'write to this card (repeat for several cards written at once); a file path writes an image file', collect, [])
    .option('-y, --yes', 'do not ask before erasing the cards')
    .option('--no-verify', 'skip reading the cards back')
    .option('--include-loop', 'allow loop devices as targets (tests, image builders)')
    .option('--allow-non-card', 'allow disks that do not look like SD cards (USB sticks, eMMC)')
    .option('--lock', 'after a successful verify, write-protect each card (SD cards on an MMC host)');
}

interface CheckedTarget {
  readonly target: string;
  readonly found: TargetKind;
  readonly line: string;
}

function describeForPrompt(found: TargetKind, target: string): string {
  if (found.kind === 'file') return `${target}  (${found.exists ? 'image file, replaced' : 'new image file'})`;
  if (found.kind !== 'drive') return target;
  const d = found.drive;
  const parts = [d.device, d.description || 'unknown disk', formatBytes(d.size)];
  if (d.sd?.serial) parts.push(`serial ${d.sd.serial}`);
  if (d.mountpoints.length) parts.push(`mounted on ${d.mountpoints.join(', ')}: will be unmounted`);
  return parts.join('  ');
}

function problemsOf(found: TargetKind, target: string, image: { size: number; sourcePath?: string }, options: WriteTargetOptions): Constraint[] {
  switch (found.kind) {
    case 'drive':
      return driveConstraints(found.drive, image, { includeLoop: options.includeLoop ?? false, allowNonCard: options.allowNonCard ?? false }).filter(
        (c) => c.code !== DriveErrorCode.MOUNTED,
      );
    case 'file':
      return fileTargetConstraints(found.path, found.exists, image.sourcePath);
    case 'partition':
      return [{ code: DriveErrorCode.PARTITION, message: `${target} is a partition; write to the whole card (${found.disk}) instead.` }];
    case 'missing':
      return [{ code: DriveErrorCode.VANISHED, message: `${target} does not exist.` }];
    default:
      return [{ code: DriveErrorCode.NOT_A_DRIVE, message: found.reason ?? `${target} is neither a disk nor an image file.` }];
  }
}

function progressLine(p: WriteProgress): string {
  const pct = p.total > 0 ? Math.floor((p.bytes / p.total) * 100) : 100;
  const speed = p.speed > 0 ? `  ${formatBytes(p.speed)}/s` : '';
  const eta = p.etaSeconds !== undefined && p.bytes < p.total ? `  ETA ${p.etaSeconds}s` : '';
  return `${p.target}: ${p.phase === 'write' ? 'writing  ' : 'verifying'} ${String(pct).padStart(3)}%  ${formatBytes(p.bytes)} of ${formatBytes(p.total)}${speed}${eta}`;
}

function resultLine(r: WriteResult): string {
  if (!r.ok) return `FAILED  ${r.target}: ${r.error?.message ?? 'unknown error'}`;
  const what = r.verified ? 'written and verified' : 'written (not verified)';
  const facts = [`${formatBytes(r.bytesWritten)} in ${(r.durationMs / 1000).toFixed(1)} s`];
  if (r.sha256) facts.push(`sha256 ${r.sha256}`);
  if (r.cidSerial) facts.push(`serial ${r.cidSerial}`);
  let line = `ok      ${r.target}: ${what} (${facts.join(', ')})`;
  if (r.lock) line += r.lock.ok ? `; locked (${r.lock.state})` : `; NOT locked: ${r.lock.error?.message ?? 'unknown error'}`;
  return line;
}

/** What the CLI writes: a composed card image, or an image file (opened with the user's rights when the write starts). */
export type CliImage = SparseImage | { readonly path: string };

/**
 * Ctrl-C (or SIGTERM) while cards are being checked, confirmed or written. The
 * first cancels: before writing, nothing is written; while writing, the
 * privileged writer ends every card (each reported incomplete) and exits. A
 * second stops waiting for it at once: its input is closed, which cancels it
 * too, and it exits by itself within seconds (a user cannot signal a root
 * process, so closing its input is how it is told).
 */
class Interruption {
  readonly cancel = new AbortController();
  readonly stop = new AbortController();
  writing = false;
  private readonly onSignal = () => {
    if (!this.cancel.signal.aborted) {
      if (this.writing) this.ctx.warn('cancelling: the cards being written will be incomplete (press Ctrl-C again to stop waiting)');
      this.cancel.abort();
    } else if (!this.stop.signal.aborted) {
      if (this.writing) this.ctx.warn('stopping now: the privileged writer cancels and exits by itself within seconds');
      this.stop.abort();
    }
  };

  constructor(private readonly ctx: CliContext) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  throwIfCancelled(): void {
    if (this.cancel.signal.aborted) throw new BootcardError(WriteErrorCode.CANCELLED, 'Cancelled: nothing was written.');
  }

  dispose(): void {
    process.removeListener('SIGINT', this.onSignal);
    process.removeListener('SIGTERM', this.onSignal);
  }
}

/** Checks, confirms, writes and reports; throws (exit 1) when any card failed. Returns the per-card results. */
export async function writeToTargets(source: CliImage, options: WriteTargetOptions, ctx: CliContext): Promise<WriteResult[]> {
  const targets = (options.to ?? []).map((t) => path.resolve(ctx.io.cwd, t));
  if (targets.length === 0) throw usageError('Name at least one card with --to DEV (see `bootcard drives`).');
  if (options.lock && options.verify === false) throw usageError('--lock write-protects cards only after they verified; drop --no-verify.');
  const interruption = new Interruption(ctx);
  try {
    return await checkConfirmWrite(source, targets, options, ctx, interruption);
  } finally {
    interruption.dispose();
  }
}

/** The result of a card that was checked and refused: it is skipped, and the others are written. */
function skippedResult(target: string, found: TargetKind, problems: readonly Constraint[]): WriteResult {
  const message = problems.length === 1 ? problems[0]!.message : `${target} cannot be written: ${problems.map((p) => p.message).join(' ')}`;
  return {
    target,
    ok: false,
    kind: found.kind === 'file' ? 'file' : 'device',
    ...(found.kind === 'drive' ? { device: found.drive.device, description: found.drive.description } : {}),
    error: new BootcardError(problems[0]?.code ?? WriteErrorCode.REFUSED, `Skipped, nothing written: ${message}`, { target, constraints: problems.map((p) => ({ code: p.code, message: p.message })) }).toJSON(),
    bytesWritten: 0,
    durationMs: 0,
    verified: false,
  };
}

async function checkConfirmWrite(source: CliImage, targets: readonly string[], options: WriteTargetOptions, ctx: CliContext, interruption: Interruption): Promise<WriteResult[]> {
  const paths = enumerationPaths(ctx.io.env);
  const image: CliImage = isSparseSource(source) ? source : { path: path.resolve(ctx.io.cwd, source.path) };
  const size = isSparseSource(image) ? image.size : (await stat(image.path)).size;
  const facts = { size, ...(!isSparseSource(image) ? { sourcePath: image.path } : {}) };

  // A card that fails a check is skipped, with its reason; it never stops the others.
  const checked: CheckedTarget[] = [];
  const skipped = new Map<string, WriteResult>();
  for (const target of targets) {
    const found = await describeTarget(target, { paths });
    const problems = problemsOf(found, target, facts, options);
    // A new image file in a folder that does not exist: the same refusal, naming the folder, as every other output.
    if (found.kind === 'missing') {
      const folderProblem = await assertOutputFolder(path.dirname(target), '--to', target).then(() => null, (error: unknown) => (error instanceof BootcardError ? error.message : null));
      if (folderProblem) problems.splice(0, problems.length, { code: DriveErrorCode.VANISHED, message: folderProblem });
    }
    if (problems.length) skipped.set(target, skippedResult(target, found, problems));
    else checked.push({ target, found, line: describeForPrompt(found, target) });
    interruption.throwIfCancelled();
  }
  if (checked.length === 0) {
    const reasons = [...skipped.values()].map((r) => `  ${r.error!.message.replace(/^Skipped, nothing written: /, '')}`);
    throw new BootcardError(WriteErrorCode.REFUSED, `Nothing was written:\n${reasons.join('\n')}`, options.json ? { results: [...skipped.values()] } : {});
  }

  if (!options.yes) {
    ctx.info(`About to ERASE and write ${formatBytes(size)} to:`);
    for (const c of checked) ctx.info(`  ${c.line}`);
    if (skipped.size) {
      ctx.info(`Skipped (not written):`);
      for (const r of skipped.values()) ctx.info(`  ${r.target}: ${r.error!.message.replace(/^Skipped, nothing written: /, '')}`);
    }
    if (!ctx.io.interactive) {
      throw new BootcardError(WriteTargetErrorCode.NOT_CONFIRMED, 'Nothing was written: bootcard asks before erasing cards and nobody can answer here. Pass --yes to write without asking.');
    }
    const yes = await ctx.confirm(`Erase ${checked.length === 1 ? 'this card' : `these ${checked.length} cards`}?`, interruption.cancel.signal).catch((error: unknown) => {
      interruption.throwIfCancelled();
      throw error;
    });
    interruption.throwIfCancelled();
    if (!yes) throw new BootcardError(WriteTargetErrorCode.DECLINED, 'Nothing was written.');
  } else if (skipped.size) {
    for (const r of skipped.values()) ctx.warn(`skipping ${r.target}: ${r.error!.message.replace(/^Skipped, nothing written: /, '')}`);
  }

  const lastShown = new Map<string, number>();
  interruption.throwIfCancelled();
  interruption.writing = true;
  const written = await writeImageToDrives({
    signal: interruption.cancel.signal,
    stopSignal: interruption.stop.signal,
    image,
    targets: checked.map((c) => c.target),
    verify: options.verify !== false,
    includeLoop: options.includeLoop ?? false,
    allowNonCard: options.allowNonCard ?? false,
    lockAfterVerify: options.lock ?? false,
    env: ctx.io.env,
    onProgress: (p) => {
      const key = `${p.target}:${p.phase}`;
      const now = Date.now();
      const finished = p.bytes >= p.total;
      const last = lastShown.get(key) ?? 0;
      if (last === Infinity || (!finished && now - last < 1000)) return;
      lastShown.set(key, finished ? Infinity : now);
      ctx.info(progressLine(p));
    },
  });
  const byTarget = new Map([...written.map((r) => [r.target, r] as const), ...skipped]);
  const results = targets.map((t) => byTarget.get(t)!);

  const failed = results.filter((r) => !r.ok || (r.lock && !r.lock.ok));
  // Under --json a failure is the one object on stdout, so it carries every card's result.
  if (options.json && failed.length === 0) ctx.printJson({ results });
  else if (!options.json) for (const r of results) ctx.print(resultLine(r));
  if (failed.length) {
    throw new BootcardError(WriteTargetErrorCode.FAILED, `${failed.length} of ${results.length} target${results.length === 1 ? '' : 's'} failed: ${failed.map((r) => r.target).join(', ')}.`, {
      failed: failed.map((r) => r.target),
      ...(options.json ? { results } : {}),
    });
  }
  return results;
}

/**
 * `bootcard flash`'s image: a compressed one (recognised by its first bytes) is
 * decompressed once, before any card is checked (the cards must fit what it
 * unpacks to), showing the compressed bytes read; `use` then gets the raw image,
 * which is removed afterwards whatever happens. Ctrl-C while decompressing
 * stops it and writes nothing.
 */
export async function withFlashImage<T>(file: string, size: number, ctx: CliContext, use: (image: FlashImage) => Promise<T>): Promise<T> {
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let image: FlashImage;
  try {
    let lastShown = 0;
    image = await prepareFlashImage(file, size, {
      signal: cancel.signal,
      onProgress: (p) => {
        const now = Date.now();
        const done = p.read >= p.total;
        if (lastShown === Infinity || (!done && now - lastShown < 1000)) return;
        lastShown = done ? Infinity : now;
        const pct = p.total > 0 ? Math.floor((p.read / p.total) * 100) : 100;
        ctx.info(`decompressing ${path.basename(file)} (${p.compression}): ${String(pct).padStart(3)}%  ${formatBytes(p.read)} of ${formatBytes(p.total)} read`);
      },
    });
  } catch (error) {
    if (cancel.signal.aborted) throw new BootcardError(WriteErrorCode.CANCELLED, 'Cancelled while decompressing the image: nothing was written.');
    throw error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  try {
    if (image.compression !== 'none') ctx.info(`${path.basename(file)} is ${image.compression}-compressed: ${formatBytes(image.compressedSize)} unpacked once to ${formatBytes(image.size)} for every card.`);
    return await use(image);
  } finally {
    await image.dispose();
  }
}
