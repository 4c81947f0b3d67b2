/**
 * The station lives in `bootcard serve`, not in one socket: a real serve
 * process, raw WebSocket clients, real loop devices. A socket that closes
 * leaves the station running; SIGTERM (serve's shutdown) cancels the card in
 * flight, tells the watching page it is incomplete, and leaves no writer child.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { StationSnapshot } from '../../electron/core/station/station-state.js';
import { startServeChild, type ServeChild } from '../e2e/setup.js';
import { describeLoop, sectorsWritten } from '../helpers/loop.js';
import { describeShared, SHARED_ROOT } from '../helpers/shared.js';
import { descendantsOf, isWriterChild, stillRunningAfter, throttle } from '../writer/cli-process.js';
import { StationRun, until } from './station-helpers.js';

const MiB = 1024 * 1024;
const recipe = { kind: 'eeprom-recovery', board: '2711', firmwarePath: `${SHARED_ROOT}/fixtures/rpi-eeprom`, config: '[all]\nBOOT_ORDER=0xf21\n' } as const;

interface Reply {
  readonly type: 'progress' | 'result';
  readonly id: string;
  readonly ok?: boolean;
  readonly value?: unknown;
  readonly error?: { code: string; message: string };
  readonly event?: StationSnapshot;
}

/** A page's socket: sends requests, keeps every reply and the newest station snapshot. */
async function connect(serve: ServeChild) {
  const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/api`);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'auth', token: serve.token }));
  const replies = new Map<string, Reply>();
  let latest: StationSnapshot | undefined;
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as Reply;
    if (m.type === 'result') {
      replies.set(m.id, m);
      // A watch ends with the station's last state when the server stopped it.
      const last = (m.value as { snapshot?: StationSnapshot } | undefined)?.snapshot;
      if (last) latest = last;
    } else if (m.event && 'slots' in m.event) latest = m.event;
  });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return {
    ws,
    closed,
    latest: () => latest,
    request(id: string, channel: string, payload: unknown) {
      ws.send(JSON.stringify({ type: 'request', id, channel, payload }));
      return until(`the ${channel} reply`, () => replies.get(id));
    },
  };
}

describeShared('the station in bootcard serve', () => {
  describeLoop('with loop devices', () => {
    let dir: string;
    let serve: ServeChild | undefined;
    let cards: StationRun;
    const undo: (() => void)[] = [];

    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-serve-station-'));
      writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bootcard</title>');
      cards = new StationRun(dir);
    });
    afterEach(async () => {
      await serve?.stop();
      serve = undefined;
      for (const u of undo.splice(0)) u();
      await cards.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('keeps writing after the page that started it closes; another page watches and stops it', async () => {
      serve = await startServeChild(['--include-loop', '--loop-dir', dir, '--renderer-dir', dir, '--output-dir', dir]);
      const first = await connect(serve);
      const started = await first.request('s1', 'station.start', { recipe });
      expect(started, started.error?.message).toMatchObject({ ok: true, value: { running: true } });
      // One station per server.
      const again = await first.request('s2', 'station.start', { recipe });
      expect(again).toMatchObject({ ok: false, error: { code: 'STATION_ALREADY_RUNNING' } });
      first.ws.close();
      await first.closed;

      const card = cards.attach(300 * MiB);
      const second = await connect(serve);
      void second.request('w1', 'station.watch', {});
      const done = await until('the card written with no page open', () => second.latest()?.slots.find((s) => s.device === card.device && s.state === 'verified'));
      expect(done.state).toBe('verified');
      expect(second.latest()!.counters.written).toBe(1);

      const stopped = await second.request('x1', 'station.stop', {});
      expect(stopped).toMatchObject({ ok: true, value: { running: false, counters: { written: 1 } } });
      // The watch ends with the station.
      await until('the watch to end', () => (second.latest()?.running === false ? true : undefined));
      const late = cards.attach(301 * MiB);
      const lateSectors = sectorsWritten(late.device);
      await new Promise((r) => setTimeout(r, 1500));
      expect(sectorsWritten(late.device)).toBe(lateSectors);
      second.ws.close();
    }, 120_000);

    it("serve's shutdown cancels the card in flight: the page hears it is incomplete, serve exits, no writer child is left", async () => {
      serve = await startServeChild(['--include-loop', '--loop-dir', dir, '--renderer-dir', dir, '--output-dir', dir]);
      const page = await connect(serve);
      expect(await page.request('s1', 'station.start', { recipe })).toMatchObject({ ok: true });
      void page.request('w1', 'station.watch', {});
      const card = cards.attach(300 * MiB);
      const slow = throttle(card.device, { write: 256 * 1024, read: 256 * 1024 });
      if (slow) undo.push(slow);
      else console.warn('[note] blkio throttling is not available: the card may be written before serve stops');
      await until('the card to be written', () => page.latest()?.slots.find((s) => s.device === card.device && s.state === 'writing'));
      const writers = await until('the writer child', () => {
        const found = descendantsOf(serve!.pid).filter(isWriterChild);
        return found.length ? found : undefined;
      });
      process.kill(serve.pid, 'SIGTERM');
      const exit = await Promise.race([serve.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 30_000))]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(await stillRunningAfter(writers, 10_000)).toEqual([]);
      if (slow) {
        const last = page.latest()!;
        expect(last.running).toBe(false);
        expect(last.recent.find((l) => l.device === card.device)).toMatchObject({ ok: false, incomplete: true, error: { code: 'WRITE_CANCELLED' } });
      }
    }, 120_000);
  });
});
