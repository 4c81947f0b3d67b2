/**
 * The flashing station end to end: the real CLI process, the real privileged
 * child, real loop devices attached while it runs (at most three at a time;
 * the station sees only those backed by files in this test's folder).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeLoop, sectorsWritten } from '../helpers/loop.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { eepromFixture, hasShared } from '../helpers/shared.js';
import { throttle } from '../writer/cli-process.js';
import { readFileRange } from '../writer/card-image.js';
import { readLog, sha256Of, StationRun, until } from './station-helpers.js';

const MiB = 1024 * 1024;
const IMAGE_BYTES = 8 * MiB;

describeLoop('bootcard flash --station (real CLI, real writer, loop devices attached while it runs)', () => {
  let dir: string;
  let imageFile: string;
  let image: Buffer;
  let run: StationRun | undefined;
  const undo: (() => void)[] = [];

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-station-'));
    imageFile = path.join(dir, 'raspios.img');
    image = Buffer.from(pseudoRandomBytes(IMAGE_BYTES, 14));
    writeFileSync(imageFile, image);
  });
  afterEach(async () => {
    for (const u of undo.splice(0)) u();
    await run?.cleanup();
    run = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const station = (log: string, extra: readonly string[] = []) => {
    run = new StationRun(dir);
    run.start(['flash', imageFile, '--station', '--yes', '--include-loop', '--loop-dir', dir, '--log', log, ...extra]);
    return run;
  };
  const lineFor = (log: string, device: string, from = 0) => readLog(log).slice(from).find((l) => l.device === device);
  const holdsImage = (backingFile: string) => readFileRange(backingFile, 0, IMAGE_BYTES).equals(image);
  const slow = (device: string) => {
    const u = throttle(device, { write: 2 * MiB, read: 8 * MiB });
    if (u) undo.push(u);
    return u !== null;
  };

  it('writes three cards put in one after another, never the one there before it started, and logs a too-small card without stopping', async () => {
    const log = path.join(dir, 'three.jsonl');
    const r = new StationRun(dir);
    run = r;
    const before = r.attach(20 * MiB);
    const beforeSectors = sectorsWritten(before.device);
    r.start(['flash', imageFile, '--station', '--yes', '--include-loop', '--loop-dir', dir, '--log', log, '--json']);
    await r.running();
    expect(r.stderr).toContain(`Left alone (there at the start): ${before.device}`);

    const written: { device: string; backingFile: string }[] = [];
    for (const [i, size] of [21, 22, 23].entries()) {
      if (i === 1) {
        const mark = readLog(log).length;
        const small = r.attach(4 * MiB);
        // The kernel's counters outlive a detached loop device: count from now.
        const smallSectors = sectorsWritten(small.device);
        const refused = await until('the small card to be logged', () => lineFor(log, small.device, mark));
        expect(refused).toMatchObject({ ok: false, error: { code: 'DRIVE_TOO_SMALL' }, bytesWritten: 0 });
        expect(refused.error!.message).toMatch(/use a larger card/);
        expect(sectorsWritten(small.device)).toBe(smallSectors);
        small.detach();
      }
      const from = readLog(log).length;
      const card = r.attach(size * MiB);
      const line = await until(`card ${i + 1} to be logged`, () => lineFor(log, card.device, from));
      expect(line, line.error?.message).toMatchObject({ ok: true, verified: true, sha256: sha256Of(image), identity: `loop:${card.backingFile}:${size * MiB}` });
      expect(line.bytesWritten).toBeGreaterThanOrEqual(IMAGE_BYTES);
      expect(Number.isNaN(Date.parse(line.time))).toBe(false);
      written.push({ device: card.device, backingFile: card.backingFile });
      // Taken out again, as an operator would, so the next card may get the same device name.
      card.detach();
    }
    for (const w of written) expect(holdsImage(w.backingFile)).toBe(true);
    expect(sectorsWritten(before.device)).toBe(beforeSectors);

    const end = await r.interrupt();
    expect(end.left).toEqual([]);
    // The too-small card failed, so the station's exit says so.
    expect(end.code).toBe(1);
    const lines = readLog(log);
    expect(lines.filter((l) => l.ok)).toHaveLength(3);
    expect(lines.some((l) => l.device === before.device && l.time)).toBe(false);
    // --json prints the log lines themselves, one a line (then the CLI's error as JSON, as every --json command ends a failure).
    expect(end.stdout.split('\n').filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l))).toEqual(lines);
    expect(end.stdout).toMatch(/"code": "STATION_CARDS_FAILED"/);
    expect(end.stderr).toMatch(/written 3 +failed 1/);
  });

  it('a card pulled out mid-write is logged as failed and the card beside it, and the next one, are written', async () => {
    const log = path.join(dir, 'pulled.jsonl');
    const r = station(log);
    await r.running();
    const [pulled, beside] = [r.attach(24 * MiB), r.attach(25 * MiB)];
    // Slow both to SD-card speed right away, so the write lasts seconds.
    const slowed = slow(pulled.device) && slow(beside.device);
    if (!slowed) console.warn('[note] blkio throttling is not available: the card may be written before it is pulled');
    await until('the card to be written', () => new RegExp(`${pulled.device} +writing`).test(r.stderr));
    // The way an emptied reader slot looks: no media, size 0 (`losetup -d` would wait for the writer's handle).
    truncateSync(pulled.backingFile, 0);
    execFileSync('losetup', ['-c', pulled.device]);
    const failed = await until('the pulled card to be logged', () => lineFor(log, pulled.device));
    if (slowed) {
      expect(failed.ok).toBe(false);
      expect(['STATION_CARD_REMOVED', 'WRITE_DEVICE_VANISHED']).toContain(failed.error!.code);
      expect(failed.error!.message).toMatch(/write it again/);
    }
    const ok = await until('the card beside it to be logged', () => lineFor(log, beside.device));
    expect(ok, ok.error?.message).toMatchObject({ ok: true, sha256: sha256Of(image) });
    expect(holdsImage(beside.backingFile)).toBe(true);

    beside.detach();
    const from = readLog(log).length;
    const next = r.attach(26 * MiB);
    const nextLine = await until('the next card to be logged', () => lineFor(log, next.device, from));
    expect(nextLine, nextLine.error?.message).toMatchObject({ ok: true, sha256: sha256Of(image) });
    const end = await r.interrupt();
    expect(end.left).toEqual([]);
    expect(end.stdout).toMatch(new RegExp(`FAILED  ${pulled.device}`));
    expect(end.stdout).toMatch(new RegExp(`ok {6}${next.device}: written and verified`));
  });

  it('skips a card it already wrote (by its identity) when it is put in again, and writes it with --rewrite', async () => {
    const log = path.join(dir, 'again.jsonl');
    let r = station(log);
    await r.running();
    const card = r.attach(27 * MiB);
    await until('the card to be logged', () => lineFor(log, card.device)?.ok);
    card.detach();
    // Long enough for the station to see the slot empty before the same card goes back in.
    await new Promise((res) => setTimeout(res, 1500));
    const from = readLog(log).length;
    const again = r.reattach(card.backingFile);
    const sectors = sectorsWritten(again.device);
    const skipped = await until('the card put in again to be logged', () => lineFor(log, again.device, from));
    expect(skipped).toMatchObject({ ok: false, skipped: true, error: { code: 'STATION_ALREADY_WRITTEN' }, identity: `loop:${card.backingFile}:${27 * MiB}` });
    expect(skipped.error!.message).toMatch(/--rewrite/);
    expect(sectorsWritten(again.device)).toBe(sectors);
    let end = await r.interrupt();
    // A skipped card is not a failure.
    expect(end.code).toBe(0);
    again.detach();

    // A new station reads the same log: the card is still known, and --rewrite writes it.
    r = station(log, ['--rewrite']);
    await r.running();
    const mark = readLog(log).length;
    const third = r.reattach(card.backingFile);
    const rewritten = await until('the rewritten card to be logged', () => lineFor(log, third.device, mark));
    expect(rewritten, rewritten.error?.message).toMatchObject({ ok: true, sha256: sha256Of(image) });
    end = await r.interrupt();
    expect(end.left).toEqual([]);
  });

  it('Ctrl-C while a card is written: the card is logged incomplete, the station exits within seconds and leaves no process', async () => {
    const log = path.join(dir, 'sigint.jsonl');
    const r = station(log);
    await r.running();
    const card = r.attach(28 * MiB);
    const slowed = slow(card.device);
    if (!slowed) console.warn('[note] blkio throttling is not available: Ctrl-C may land after the card is done');
    await until('the card to be written', () => new RegExp(`${card.device} +writing`).test(r.stderr));
    await until('the privileged writer to start', () => r.cli!.writerChildren.size > 0);
    const end = await r.interrupt();
    expect(end.left).toEqual([]);
    const line = lineFor(log, card.device);
    expect(line).toBeDefined();
    if (slowed) {
      expect(end.code).toBe(1);
      expect(line).toMatchObject({ ok: false, incomplete: true, error: { code: 'WRITE_CANCELLED' } });
      expect(end.stdout).toMatch(/FAILED .*\(incomplete\)/);
    }
  });
});

describeLoop('bootcard card recovery --batch --station: one card per Pi, rows in order', () => {
  let dir: string;
  let run: StationRun | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-station-rows-'));
  });
  afterEach(async () => {
    await run?.cleanup();
    run = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!hasShared)('each card gets the next unused row, also across a restart with the same log; a card beyond the last row is refused', async () => {
    const csv = path.join(dir, 'pis.csv');
    writeFileSync(csv, 'name,CLIENT_IP\npi-a,10.0.0.11\npi-b,10.0.0.12\npi-c,10.0.0.13\n');
    const log = path.join(dir, 'rows.jsonl');
    const args = [
      'card', 'recovery', '--board', '2711', '--preset', 'network',
      '--eeprom', eepromFixture('pieeprom-2711-2026-05-17.bin'), '--recovery', eepromFixture('recovery-2711.bin'),
      '--size', '64M', '--timestamp', '1700000000', '--batch', csv,
      '--station', '--yes', '--include-loop', '--loop-dir', dir, '--log', log,
    ];
    const writeOne = async (r: StationRun, sizeMiB: number) => {
      const from = readLog(log).length;
      const card = r.attach(sizeMiB * MiB);
      const line = await until(`the card on ${card.device} to be logged`, () => readLog(log).slice(from).find((l) => l.device === card.device));
      const bytes = readFileSync(card.backingFile);
      card.detach();
      return { line, bytes };
    };
    const clientIpOn = (bytes: Buffer) => /CLIENT_IP=(10\.0\.0\.\d+)/.exec(bytes.toString('latin1'))?.[1];

    run = new StationRun(dir);
    run.start(args);
    await run.running();
    const a = await writeOne(run, 70);
    const b = await writeOne(run, 71);
    expect(a.line, a.line.error?.message).toMatchObject({ ok: true, row: { index: 0, name: 'pi-a', line: 2 } });
    expect(b.line, b.line.error?.message).toMatchObject({ ok: true, row: { index: 1, name: 'pi-b', line: 3 } });
    // Each card holds its own Pi's bootloader config.
    expect(clientIpOn(a.bytes)).toBe('10.0.0.11');
    expect(clientIpOn(b.bytes)).toBe('10.0.0.12');
    expect(a.line.sha256).not.toBe(b.line.sha256);
    let end = await run.interrupt();
    expect(end.code).toBe(0);
    expect(end.stdout).toMatch(/ok {6}\S+ \[pi-a\]: written and verified.*\n +>>> label this card: pi-a <<</);

    run = new StationRun(dir);
    run.start(args);
    await run.running();
    const c = await writeOne(run, 72);
    expect(c.line, c.line.error?.message).toMatchObject({ ok: true, row: { name: 'pi-c' } });
    expect(clientIpOn(c.bytes)).toBe('10.0.0.13');
    const d = await writeOne(run, 73);
    expect(d.line).toMatchObject({ ok: false, error: { code: 'STATION_NO_ROW_LEFT' } });
    end = await run.interrupt();
    expect(end.left).toEqual([]);
    expect(end.stderr).toMatch(/rows left 0 of 3/);
  });
});
