/**
 * Main's side of the contract, for any transport: validates each request
 * against its channel's schema before a handler runs, runs it with a progress
 * callback and a cancel signal, and turns every outcome into one wire result.
 */
import { BootcardError, CommonErrorCode, toBootcardError } from '../core/errors.js';
import { contract, isChannel } from './contract.js';
import type { Channel, ParsedRequestOf, ProgressOf, ResponseOf } from './contract.js';
import type { WireFromMain, WireToMain } from './define.js';

export interface HandlerContext<C extends Channel> {
  readonly progress: (event: ProgressOf<C>) => void;
  readonly signal: AbortSignal;
}

export type Handler<C extends Channel> = (request: ParsedRequestOf<C>, ctx: HandlerContext<C>) => Promise<ResponseOf<C>>;

export type Handlers = { readonly [C in Channel]: Handler<C> };

export interface Dispatcher {
  /** Handles one message from a front end; `send` receives every reply for it. */
  receive(message: unknown, send: (reply: WireFromMain) => void): Promise<void>;
  /** Cancels everything still running (the window closed, the socket dropped). */
  cancelAll(): void;
  /** How many requests are running now. */
  readonly runningCount: number;
  /**
   * Resolves once no request is running (each has sent its result), so a
   * front end that stops can first let cancelled writes end their child and
   * report their cards as incomplete.
   */
  whenIdle(): Promise<void>;
}

const MAX_ID_LENGTH = 64;

export function createDispatcher(handlers: Handlers): Dispatcher {
  const running = new Map<string, AbortController>();
  const idleWaiters: (() => void)[] = [];

  async function receive(message: unknown, send: (reply: WireFromMain) => void): Promise<void> {
    const parsed = parseWireMessage(message);
    if (parsed instanceof BootcardError) {
      const id = idOf(message);
      send({ type: 'result', id, ok: false, error: parsed.toJSON() });
      return;
    }
    if (parsed.type === 'cancel') {
      running.get(parsed.id)?.abort();
      return;
    }
    const { id, channel, payload } = parsed;
    const fail = (error: unknown) => send({ type: 'result', id, ok: false, error: toBootcardError(error).toJSON() });
    if (running.has(id)) {
      fail(new BootcardError(CommonErrorCode.INVALID_REQUEST, `A request with id ${id} is already running.`));
      return;
    }
    if (!isChannel(channel)) {
      fail(new BootcardError(CommonErrorCode.UNKNOWN_CHANNEL, `Unknown request "${channel}".`, { channel }));
      return;
    }
    const validation = contract[channel].request.safeParse(payload);
    if (!validation.success) {
      const issues = validation.error.issues.map((i) => `${i.path.join('.') || '(request)'}: ${i.message}`);
      fail(new BootcardError(CommonErrorCode.INVALID_REQUEST, `Invalid "${channel}" request: ${issues.join('; ')}`, { channel, issues }));
      return;
    }
    const controller = new AbortController();
    running.set(id, controller);
    try {
      const handler = handlers[channel] as Handler<Channel>;
      const value = await handler(validation.data as ParsedRequestOf<Channel>, {
        progress: (event) => {
          if (!controller.signal.aborted) send({ type: 'progress', id, event });
        },
        signal: controller.signal,
      });
      send({ type: 'result', id, ok: true, value });
    } catch (error) {
      fail(error);
    } finally {
      running.delete(id);
      if (running.size === 0) for (const resolve of idleWaiters.splice(0)) resolve();
    }
  }

  return {
    receive,
    cancelAll() {
      for (const controller of running.values()) controller.abort();
    },
    get runningCount() {
      return running.size;
    },
    whenIdle() {
      if (running.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}

function parseWireMessage(message: unknown): WireToMain | BootcardError {
  if (typeof message !== 'object' || message === null) {
    return new BootcardError(CommonErrorCode.INVALID_REQUEST, 'A request must be an object.');
  }
  const m = message as Record<string, unknown>;
  if (typeof m.id !== 'string' || m.id.length === 0 || m.id.length > MAX_ID_LENGTH) {
    return new BootcardError(CommonErrorCode.INVALID_REQUEST, 'A request needs a string id of 1 to 64 characters.');
  }
  if (m.type === 'cancel') return { type: 'cancel', id: m.id };
  if (m.type !== 'request' || typeof m.channel !== 'string') {
    return new BootcardError(CommonErrorCode.INVALID_REQUEST, 'A request needs type "request" and a channel name.');
  }
  return { type: 'request', id: m.id, channel: m.channel, payload: m.payload };
}

function idOf(message: unknown): string {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.slice(0, MAX_ID_LENGTH) : '';
}
