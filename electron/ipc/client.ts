/**
 * The front ends' side of the contract: a typed client over any transport
 * (Electron's preload bridge, or the WebSocket of `bootcard serve`).
 * Imports nothing from Node or Electron: it is bundled into the renderer.
 */
import { BootcardError, CommonErrorCode } from '../core/errors.js';
import type { Channel, ProgressOf, RequestOf, ResponseOf } from './contract.js';
import type { WireFromMain, WireToMain } from './define.js';

export interface Transport {
  send(message: WireToMain): void;
  /** Subscribes to every message from main; returns the unsubscribe function. */
  onMessage(listener: (message: WireFromMain) => void): () => void;
  /** For transports that can drop (the WebSocket of `bootcard serve`): called once when no more replies can come. */
  onDisconnect?(listener: () => void): void;
}

export const ClientErrorCode = {
  /** The transport closed: no reply will come for anything still pending. */
  DISCONNECTED: 'IPC_DISCONNECTED',
} as const;

function disconnectedError(): BootcardError {
  return new BootcardError(
    ClientErrorCode.DISCONNECTED,
    'The connection to bootcard was lost (bootcard serve stopped, or the network dropped); anything it was doing was cancelled, and cards it was writing are incomplete. Start bootcard serve again, open its URL, and write those cards again.',
  );
}

export interface CallOptions<C extends Channel> {
  readonly onProgress?: (event: ProgressOf<C>) => void;
  readonly signal?: AbortSignal;
}

export interface BootcardClient {
  call<C extends Channel>(channel: C, request: RequestOf<C>, options?: CallOptions<C>): Promise<ResponseOf<C>>;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: BootcardError): void;
  onProgress?: (event: never) => void;
}

export function createClient(transport: Transport): BootcardClient {
  const pending = new Map<string, Pending>();
  let counter = 0;
  const prefix = Math.random().toString(36).slice(2, 10);
  let disconnected = false;

  transport.onDisconnect?.(() => {
    disconnected = true;
    const waiting = [...pending.values()];
    pending.clear();
    for (const entry of waiting) entry.reject(disconnectedError());
  });

  transport.onMessage((message) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    if (message.type === 'progress') {
      entry.onProgress?.(message.event as never);
      return;
    }
    pending.delete(message.id);
    if (message.ok) entry.resolve(message.value);
    else entry.reject(BootcardError.fromJSON(message.error));
  });

  return {
    call(channel, request, options) {
      const id = `${prefix}-${++counter}`;
      return new Promise((resolve, reject) => {
        if (options?.signal?.aborted) {
          reject(new BootcardError(CommonErrorCode.CANCELLED, 'Cancelled.'));
          return;
        }
        if (disconnected) {
          reject(disconnectedError());
          return;
        }
        pending.set(id, {
          resolve: resolve as (value: unknown) => void,
          reject,
          ...(options?.onProgress ? { onProgress: options.onProgress as (event: never) => void } : {}),
        });
        options?.signal?.addEventListener('abort', () => transport.send({ type: 'cancel', id }), { once: true });
        transport.send({ type: 'request', id, channel, payload: request });
      });
    },
  };
}
