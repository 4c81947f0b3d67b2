import { describe, expect, it, vi } from 'vitest';
import { createDispatcher, type Handlers } from '../../electron/ipc/dispatcher.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { createClient } from '../../electron/ipc/client.js';
import type { WireFromMain } from '../../electron/ipc/define.js';
import { BootcardError } from '../../electron/core/errors.js';
import { wireTransport } from '../helpers/wire.js';

describe('IPC contract', () => {
  it('answers a valid request through the typed client', async () => {
    const client = createClient(wireTransport(createHandlers({ frontEnd: 'serve' })));
    const info = await client.call('app.info', {});
    expect(info.name).toBe('bootcard');
    expect(info.frontEnd).toBe('serve');
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects a malformed request with a clear error and runs no handler', async () => {
    const handler = vi.fn(async () => ({ name: 'bootcard' as const, version: '1', platform: 'x', arch: 'y', frontEnd: 'serve' as const }));
    const handlers = { ...createHandlers({ frontEnd: 'serve' }), 'app.info': handler };
    const dispatcher = createDispatcher(handlers);
    const replies: WireFromMain[] = [];
    await dispatcher.receive({ type: 'request', id: 'r1', channel: 'app.info', payload: { unexpected: true } }, (r) => replies.push(r));
    expect(handler).not.toHaveBeenCalled();
    expect(replies).toHaveLength(1);
    const reply = replies[0]!;
    expect(reply.type === 'result' && !reply.ok && reply.error.code).toBe('INVALID_REQUEST');
    expect(reply.type === 'result' && !reply.ok && reply.error.message).toMatch(/Invalid "app.info" request/);
  });

  it('rejects unknown channels and messages without an id', async () => {
    const dispatcher = createDispatcher(createHandlers({ frontEnd: 'serve' }));
    const replies: WireFromMain[] = [];
    await dispatcher.receive({ type: 'request', id: 'r2', channel: 'fs.deleteEverything', payload: {} }, (r) => replies.push(r));
    await dispatcher.receive({ type: 'request', channel: 'app.info', payload: {} }, (r) => replies.push(r));
    await dispatcher.receive('not an object', (r) => replies.push(r));
    const codes = replies.map((r) => (r.type === 'result' && !r.ok ? r.error.code : 'ok'));
    expect(codes).toEqual(['UNKNOWN_CHANNEL', 'INVALID_REQUEST', 'INVALID_REQUEST']);
  });

  it('carries a handler failure to the client as the same BootcardError', async () => {
    const handlers: Handlers = {
      ...createHandlers({ frontEnd: 'serve' }),
      'app.info': async () => {
        throw new BootcardError('DRIVE_VANISHED', '/dev/sdz is gone: plug the card back in and try again.', { device: '/dev/sdz' });
      },
    };
    const client = createClient(wireTransport(handlers));
    const error = await client.call('app.info', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootcardError);
    expect((error as BootcardError).code).toBe('DRIVE_VANISHED');
    expect((error as BootcardError).details).toEqual({ device: '/dev/sdz' });
  });

  it('cancels a running request through its AbortSignal', async () => {
    let sawAbort = false;
    const handlers: Handlers = {
      ...createHandlers({ frontEnd: 'serve' }),
      'app.info': (_req, ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(new BootcardError('CANCELLED', 'Cancelled.'));
          });
        }),
    };
    const client = createClient(wireTransport(handlers));
    const controller = new AbortController();
    const pending = client.call('app.info', {}, { signal: controller.signal }).catch((e: BootcardError) => e.code);
    await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    expect(await pending).toBe('CANCELLED');
    expect(sawAbort).toBe(true);
  });
});
