/**
 * An in-memory transport: a front end's client wired straight to a main-side
 * dispatcher, every message round-tripped through JSON as on the wire (the
 * preload bridge or the WebSocket of `bootcard serve`).
 */
import type { Transport } from '../../electron/ipc/client.js';
import type { WireFromMain, WireToMain } from '../../electron/ipc/define.js';
import { createDispatcher, type Handlers } from '../../electron/ipc/dispatcher.js';
import type WebSocket from 'ws';

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

/** A transport over a `ws` client socket to a real `bootcard serve` (JSON text frames, as the page sends them). */
export function socketTransport(ws: WebSocket): Transport {
  return {
    send: (m) => ws.send(JSON.stringify(m)),
    onMessage(listener) {
      const l = (data: WebSocket.RawData) => listener(JSON.parse(data.toString()) as WireFromMain);
      ws.on('message', l);
      return () => ws.off('message', l);
    },
  };
}
