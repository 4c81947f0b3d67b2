/**
 * An in-memory transport: a front end's client wired straight to a main-side
 * dispatcher, every message round-tripped through JSON as on the wire (the
 * preload bridge or the WebSocket of `bootcard serve`).
 */
import type { Transport } from '../../electron/ipc/client.js';
import type { WireFromMain, WireToMain } from '../../electron/ipc/define.js';
import { createDispatcher, type Handlers } from '../../electron/ipc/dispatcher.js';

export function wireTransport(handlers: Handlers): Transport & { readonly sent: WireToMain[] } {
  const dispatcher = createDispatcher(handlers);
  const listeners = new Set<(m: WireFromMain) => void>();
  const sent: WireToMain[] = [];
  return {
    sent,
    send(message) {
      sent.push(message);
      void dispatcher.receive(JSON.parse(JSON.stringify(message)), (reply) => {
        for (const l of listeners) l(JSON.parse(JSON.stringify(reply)) as WireFromMain);
      });
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
