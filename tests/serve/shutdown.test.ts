/**
 * Stopping `bootcard serve` in the middle of a write: a real serve process
 * (the CLI entry, test mode) writes a real loop device through its privileged
 * child; SIGTERM (what systemd sends) or Ctrl+C arrives while the card is
 * being written. Serve cancels the write, reports the card as incomplete to
 * the page, and exits, and no writer child is left behind.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { SHARED_ROOT, describeShared } from '../helpers/shared.js';
import { startServeChild, type ServeChild } from '../e2e/setup.js';

const recipe = {
  kind: 'eeprom-recovery',
  board: '2711',
  firmwarePath: `${SHARED_ROOT}/fixtures/rpi-eeprom`,
  config: '[all]\nBOOT_ORDER=0xf142\n',
} as const;

/**
 * Slows the loop device to a slow card's speed (cgroup v1 blkio throttling of this one device), so the
 * signal surely lands mid-write: on a RAM-backed loop the card's 10 MB are written and verified in a blink.
 * Returns the undo, or why it cannot.
 */
function throttle(device: string): (() => void) | string {
  const majMin = readFileSync(`/sys/block/${path.basename(device)}/dev`, 'utf8').trim();
  const files = ['/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device', '/sys/fs/cgroup/blkio/blkio.throttle.read_bps_device'];
  try {
    for (const f of files) writeFileSync(f, `${majMin} ${2 * 1024 * 1024}`);
  } catch (error) {
    return `blkio throttling is not available here (${(error as Error).message.split('\n')[0]})`;
  }
  return () => {
    for (const f of files) {
      try {
        writeFileSync(f, `${majMin} 0`);
      } catch {
        // the device is gone already
      }
    }
  };
}

/** Processes whose parent is `parentPid` and that run the privileged writer (child-main). */
function writerChildrenOf(parentPid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      if (ppid === parentPid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('child-main')) pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Whether `pid` is still a live (not zombie) writer child. */
function stillRunsTheWriter(pid: number): boolean {
  try {
    const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('child-main');
  } catch {
    return false;
  }
}

/** Sends `signal` again as soon as serve has logged that it is stopping; resolves whether it was still there to get it. */
async function sendOnceStopping(serve: ServeChild, signal: NodeJS.Signals): Promise<boolean> {
  for (let i = 0; i < 2000 && !serve.log().includes(`${signal}: stopping`); i++) await new Promise((r) => setTimeout(r, 5));
  try {
    process.kill(serve.pid, signal);
    return true;
  } catch {
    return false;
  }
}

interface WireMessage {
  readonly type: 'progress' | 'result';
  readonly id: string;
  readonly ok?: boolean;
  readonly value?: { readonly results: readonly { readonly ok: boolean; readonly error?: { readonly code: string; readonly message: string } }[] };
  readonly error?: { readonly code: string; readonly message: string };
  readonly event?: { readonly type: string; readonly phase?: string; readonly bytes?: number; readonly total?: number };
}

describeShared('stopping bootcard serve mid-write', () => {
  describeLoop('with a loop device', () => {
    let dir: string;
    let loop: LoopDevice;
    let server: ServeChild | undefined;
    let unthrottle: () => void = () => undefined;

    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-serve-stop-'));
      writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bootcard</title>');
      loop = attachLoop(300 * 1024 * 1024, dir);
      const undo = throttle(loop.device);
      if (typeof undo === 'string') console.warn(`[note] ${undo}: the signal may land after the write ended`);
      else unthrottle = undo;
    });

    afterEach(async () => {
      await server?.stop();
      server = undefined;
      unthrottle();
      unthrottle = () => undefined;
      loop?.detach();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const [signal, twice] of [['SIGTERM', false], ['SIGINT', true]] as const) {
      it(`${signal}${twice ? ' (twice)' : ''} during a write cancels it, says the card is incomplete, exits, and leaves no writer child`, async () => {
        const serve = await startServeChild(['--include-loop', '--renderer-dir', dir, '--output-dir', dir]);
        server = serve;
        const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/api`);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        ws.send(JSON.stringify({ type: 'auth', token: serve.token }));
        const writers = new Set<number>();
        let signalled = false;
        let secondSignal: Promise<boolean> = Promise.resolve(false);
        const result = new Promise<WireMessage>((resolve) => {
          ws.on('message', (data) => {
            const message = JSON.parse(data.toString()) as WireMessage;
            if (message.type === 'result') resolve(message);
            // Mid-write: the child has written some of the card, not all of it.
            const e = message.event;
            if (!signalled && e?.type === 'progress' && e.phase === 'write' && (e.bytes ?? 0) > 0 && (e.bytes ?? 0) < (e.total ?? 0)) {
              for (const pid of writerChildrenOf(serve.pid)) writers.add(pid);
              signalled = true;
              process.kill(serve.pid, signal);
              // An impatient operator presses Ctrl+C twice: the second one must not cut the cancel short.
              // (Sent once serve said it is stopping: two signals pending at once are delivered as one.)
              if (twice) secondSignal = sendOnceStopping(serve, signal);
            }
          });
        });
        const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
        ws.send(JSON.stringify({ type: 'request', id: 'w1', channel: 'card.write', payload: { recipe, targets: [loop.device], verify: true } }));

        // An old serve cut the socket without answering: then there is no reply at all.
        const reply = await Promise.race([result, closed.then(() => null)]);
        expect(signalled).toBe(true);
        expect(reply).not.toBeNull();
        expect(writers.size).toBeGreaterThan(0);
        // The page hears about the card before the socket goes: not written, write it again.
        expect(reply).toMatchObject({ ok: true, value: { results: [{ ok: false }] } });
        expect(reply!.value!.results[0]!.error?.message).toMatch(/again/i);
        expect(await closed).toBe(1001);

        const exit = await Promise.race([serve.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
        expect(exit).toEqual({ code: 0, signal: null });
        expect([...writers].filter(stillRunsTheWriter)).toEqual([]);
        expect(serve.log()).toMatch(new RegExp(`${signal}: stopping; cancelling what is running`));
        expect(serve.log()).toMatch(/cancelled 1 running request; cards being written are incomplete: write them again/);
        if (twice) {
          expect(await secondSignal).toBe(true);
          expect(serve.log()).toMatch(new RegExp(`${signal}: already stopping`));
        }
        expect(existsSync(loop.device)).toBe(true);
      }, 120_000);
    }

    it('Cancel in the wizard mid-write ends the writer child, says the card is incomplete, and serve goes on', async () => {
      const serve = await startServeChild(['--include-loop', '--renderer-dir', dir, '--output-dir', dir]);
      server = serve;
      const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/api`);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      ws.send(JSON.stringify({ type: 'auth', token: serve.token }));
      const writers = new Set<number>();
      let cancelled = false;
      const replies = new Map<string, WireMessage>();
      const result = (id: string) =>
        new Promise<WireMessage>((resolve) => {
          const check = () => (replies.has(id) ? resolve(replies.get(id)!) : setTimeout(check, 20));
          check();
        });
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString()) as WireMessage;
        if (message.type === 'result') replies.set(message.id, message);
        const e = message.event;
        if (!cancelled && e?.type === 'progress' && e.phase === 'write' && (e.bytes ?? 0) > 0 && (e.bytes ?? 0) < (e.total ?? 0)) {
          for (const pid of writerChildrenOf(serve.pid)) writers.add(pid);
          cancelled = true;
          ws.send(JSON.stringify({ type: 'cancel', id: 'w1' }));
        }
      });
      ws.send(JSON.stringify({ type: 'request', id: 'w1', channel: 'card.write', payload: { recipe, targets: [loop.device], verify: true } }));
      const reply = await result('w1');
      expect(cancelled).toBe(true);
      expect(writers.size).toBeGreaterThan(0);
      expect(reply).toMatchObject({ ok: true, value: { results: [{ ok: false, error: { code: 'WRITE_CANCELLED' } }] } });
      // The result is sent once the write has ended: its child is gone (allowing the kernel a moment to reap it).
      for (let i = 0; i < 100 && [...writers].some(stillRunsTheWriter); i++) await new Promise((r) => setTimeout(r, 100));
      expect([...writers].filter(stillRunsTheWriter)).toEqual([]);
      ws.send(JSON.stringify({ type: 'request', id: 'i1', channel: 'app.info', payload: {} }));
      expect(await result('i1')).toMatchObject({ ok: true, value: { frontEnd: 'serve' } });
      ws.close();
    }, 120_000);
  });
});
