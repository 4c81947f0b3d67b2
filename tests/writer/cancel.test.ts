/**
 * Cancel at every moment of `bootcard flash`, with the real CLI, the real
 * privileged child and a real loop device whose writes the kernel slows to SD
 * card speed (so a write lasts seconds, as on a station). Ctrl-C reaches the
 * whole process group, as from a terminal.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../electron/cli/program.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { attachLoop, describeLoop, sectorsWritten, type LoopDevice } from '../helpers/loop.js';
import { MiB, readFileRange } from './card-image.js';
import { exitWithin, startCli, stillRunningAfter, throttle, type CliProcess } from './cli-process.js';

const IMAGE_BYTES = 16 * MiB;
/** Slow enough that writing and verifying last over a second each, fast enough that the tests stay short. */
const CARD_SPEED = { write: 12 * MiB, read: 12 * MiB };
/** What "within a few seconds" means on a loaded 2-core machine; the bug this guards against hung for ten minutes. */
const EXIT_WITHIN_MS = 20_000;

describeLoop('cancelling `bootcard flash` (real CLI process, real child, real loop device)', () => {
  let dir: string;
  let imageFile: string;
  let image: Buffer;
  let loop: LoopDevice | undefined;
  let unthrottle: (() => void) | null = null;
  let throttled = false;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-cancel-'));
    imageFile = path.join(dir, 'card.img');
    image = Buffer.from(pseudoRandomBytes(IMAGE_BYTES, 11));
    writeFileSync(imageFile, image);
  });
  afterEach(() => {
    unthrottle?.();
    unthrottle = null;
    loop?.detach();
    loop = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Sectors written to the card since it was attached (the kernel's counters outlive a loop device's backing file). */
  const writtenSince = new Map<string, number>();
  const written = (card: LoopDevice) => sectorsWritten(card.device) - writtenSince.get(card.device)!;
  const slowCard = () => {
    loop = attachLoop(32 * MiB, dir);
    writtenSince.set(loop.device, sectorsWritten(loop.device));
    unthrottle = throttle(loop.device, CARD_SPEED);
    throttled = unthrottle !== null;
    if (!unthrottle) console.warn('[note] blkio throttling is not available: the loop device writes at memory speed, so fewer signals land mid-write');
    return loop;
  };
  const flash = (card: LoopDevice) => startCli(['flash', imageFile, '--to', card.device, '--include-loop', '--yes']);
  const cardHoldsImage = (card: LoopDevice) => readFileRange(card.backingFile, 0, IMAGE_BYTES).equals(image);

  /** What must hold after any interruption: the CLI ended soon, as a failure or with the card fully written, and no writer child is left. */
  async function expectCleanEnd(cli: CliProcess, card: LoopDevice, when: string) {
    const end = await exitWithin(cli, EXIT_WITHIN_MS);
    expect(end, `${when}: bootcard flash did not exit within ${EXIT_WITHIN_MS / 1000} s`).not.toBe('timeout');
    if (end === 'timeout') return;
    const left = await stillRunningAfter(cli.writerChildren, 10_000);
    expect(left, `${when}: the privileged child is still running`).toEqual([]);
    if (end.code === 0 || /^ok {6}.*written and verified/m.test(end.stdout)) {
      // The signal came after the last card was verified (exit 0, or 1 when it landed while bootcard was ending):
      // the card it calls written and verified must be complete.
      expect(end.stdout, when).toMatch(/ok {6}.*written and verified/);
      expect(cardHoldsImage(card), when).toBe(true);
      return 'completed';
    }
    if (end.signal === 'SIGINT' || end.signal === 'SIGTERM') {
      // Ctrl-C while node itself was still starting, before bootcard's first line ran: nothing had begun.
      expect(cli.writerChildren.size, `${when}: killed by the signal after the writer started`).toBe(0);
      expect(written(card), when).toBe(0);
      return 'before start';
    }
    expect(end.code, `${when}: ${end.stderr}`).toBe(1);
    const reached = /verifying/.test(end.stderr) ? 'while verifying' : /writing/.test(end.stderr) ? 'while writing' : 'before writing';
    if (cli.writerChildren.size > 0 && written(card) > 0) {
      // The card was touched: its own line says it was cancelled and is not to be used as it is, never that it was written.
      expect(end.stdout, when).toMatch(new RegExp(`^FAILED  ${card.device}: Cancelled.*(incomplete; write it again|written but not checked)`, 'm'));
      expect(end.stdout, when).not.toMatch(/^ok /m);
    } else {
      expect(end.stderr, when).toMatch(/nothing was written|incomplete|interrupted/i);
    }
    return `cancelled ${reached}`;
  }

  it('Ctrl-C (and SIGTERM) at many moments (startup, checks, handshake, checksums, writing, verifying): each run exits soon with exit 1 and leaves no child', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const card = slowCard();
      // 0 to 2.7 s: the throttled write and verify of 16 MiB take about 3 s, so most signals land inside them.
      const delay = i * 300;
      const signal = i % 3 === 2 ? 'SIGTERM' : 'SIGINT';
      const cli = flash(card);
      await new Promise((r) => setTimeout(r, delay));
      cli.interruptGroup(signal);
      outcomes.push(`${signal} ${delay} ms: ${await expectCleanEnd(cli, card, `${signal} after ${delay} ms`)}`);
      unthrottle?.();
      unthrottle = null;
      card.detach();
      loop = undefined;
    }
    console.log(`[cancel] ${outcomes.join('; ')}`);
    // Most signals must have reached a write in progress, or the test shows nothing (unthrottled, a write is over in moments).
    if (throttled) expect(outcomes.filter((o) => o.includes('cancelled')).length).toBeGreaterThanOrEqual(5);
  }, 300_000);

  it('a second Ctrl-C stops waiting at once, and the child still exits by itself', async () => {
    const card = slowCard();
    const cli = flash(card);
    // Once writing has started (the card has seen writes), interrupt twice.
    const until = Date.now() + 60_000;
    while (written(card) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(written(card)).toBeGreaterThan(0);
    cli.interruptGroup('SIGINT');
    await new Promise((r) => setTimeout(r, 100));
    cli.interruptGroup('SIGINT');
    expect(await expectCleanEnd(cli, card, 'two Ctrl-C')).toMatch(/^cancelled/);
    expect(cardHoldsImage(card)).toBe(false);
  }, 120_000);

  it('Ctrl-C at the "Erase this card?" prompt: the prompt is closed, nothing is written, exit 1', async () => {
    const card = slowCard();
    const before = written(card);
    const stdin = new PassThrough();
    let stderr = '';
    const run = runCli(['flash', imageFile, '--to', card.device, '--include-loop'], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (stderr += s) },
      stdin,
      interactive: true,
      env: process.env,
      cwd: dir,
    });
    const until = Date.now() + 30_000;
    while (!stderr.includes('Erase this card?') && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(stderr).toMatch(/Erase this card\? \[y\/N\]/);
    // What the terminal's Ctrl-C does to this process (in-process: the handlers bootcard installed, nothing else).
    process.emit('SIGINT', 'SIGINT');
    expect(await run).toBe(1);
    expect(stderr).toMatch(/Cancelled: nothing was written/);
    expect(written(card)).toBe(before);
    expect(stdin.listenerCount('data') + stdin.listenerCount('readable')).toBe(0);
  });

  it('the parent killed mid-write (SIGKILL): the child notices, cancels and exits by itself', async () => {
    const card = slowCard();
    const cli = flash(card);
    const until = Date.now() + 60_000;
    while (written(card) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(cli.writerChildren.size).toBeGreaterThan(0);
    process.kill(cli.pid, 'SIGKILL');
    const end = await exitWithin(cli, EXIT_WITHIN_MS);
    expect(end).not.toBe('timeout');
    expect(await stillRunningAfter(cli.writerChildren, 15_000)).toEqual([]);
    // It stopped writing when it noticed, well before the whole image was on the card.
    expect(cardHoldsImage(card)).toBe(false);
  }, 120_000);
});
