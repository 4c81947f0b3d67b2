/**
 * Picks the transport the page runs over: the preload bridge inside Electron,
 * or the WebSocket of `bootcard serve` in a browser.
 */
import type { Transport } from '../../electron/ipc/client.js';
import type { WireFromMain, WireToMain } from '../../electron/ipc/define.js';

interface PreloadBridge {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): () => void;
  /** A dropped file's path (the desktop app's preload; absent in a browser). */
  pathForFile?(file: File): string;
}

declare global {
  interface Window {
    bootcardTransport?: PreloadBridge;
  }
}

export function electronTransport(bridge: PreloadBridge): Transport {
  return {
    send: (message: WireToMain) => bridge.send(message),
    onMessage: (listener) => bridge.onMessage((m) => listener(m as WireFromMain)),
  };
}

/**
 * A WebSocket transport: authenticates with `token` as its first message (the
 * server closes a socket that does not), queues messages until the socket
 * opens, and reports when it closes.
 */
export function webSocketTransport(url: string, token: string): Transport {
  const socket = new WebSocket(url);
  const queue: string[] = [JSON.stringify({ type: 'auth', token })];
  const listeners = new Set<(message: WireFromMain) => void>();
  const disconnectListeners: (() => void)[] = [];
  // Refused (no or a stale token), the server stopped, or the network dropped: nothing pending will be answered.
  socket.addEventListener('close', () => {
    queue.length = 0;
    for (const l of disconnectListeners.splice(0)) l();
  });
  socket.addEventListener('open', () => {
    for (const m of queue.splice(0)) socket.send(m);
  });
  socket.addEventListener('message', (event) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(event.data));
    } catch {
      return;
    }
    for (const l of listeners) l(parsed as WireFromMain);
  });
  return {
    send(message) {
      const text = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else if (socket.readyState === WebSocket.CONNECTING) queue.push(text);
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onDisconnect(listener) {
      if (socket.readyState === WebSocket.CLOSED) listener();
      else disconnectListeners.push(listener);
    },
  };
}

const TOKEN_KEY = 'bootcard-serve-token';

/**
 * The token of `bootcard serve`'s URL: it comes in the fragment (#token=...),
 * which a browser never sends to a server nor in a Referer. It is moved to
 * this tab's sessionStorage (readable by this origin only, port included) and
 * taken out of the address bar and history, so a reload still works but the
 * token is not left on screen or in the browser's history.
 */
function serveToken(): string {
  const fromUrl = new URLSearchParams(window.location.hash.replace(/^#/, '')).get('token');
  if (fromUrl) {
    window.sessionStorage.setItem(TOKEN_KEY, fromUrl);
    window.history.replaceState(null, '', `${window.location.pathname}${window.location.search}`);
    return fromUrl;
  }
  return window.sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function detectTransport(): Transport {
  if (window.bootcardTransport) return electronTransport(window.bootcardTransport);
  const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return webSocketTransport(`${protocol}//${window.location.host}/api`, serveToken());
}
