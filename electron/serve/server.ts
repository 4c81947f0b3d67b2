/**
 * `bootcard serve`: the wizard in a browser. One HTTP server serves the built
 * renderer (dist/renderer) and, at /api, a WebSocket carrying the same IPC
 * contract the Electron window uses, through the same dispatcher and handler
 * table. Every request and upgrade must be addressed to the server's own Host
 * and come from its own Origin; a socket must then send the random token as
 * its first message (see access.ts). The page is served with the desktop
 * app's strict Content-Security-Policy.
 *
 * One bad client never stops the server: every socket (the raw one before
 * the upgrade too) has an error listener, and a malformed frame (oversized,
 * unmasked, RSV bits, invalid UTF-8) closes that client only.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { BootcardError } from '../core/errors.js';
import { createDispatcher, type Dispatcher } from '../ipc/dispatcher.js';
import type { Handlers } from '../ipc/dispatcher.js';
import { CONTENT_SECURITY_POLICY } from '../main/security.js';
import {
  AUTH_DEADLINE_MS,
  CLOSE_UNAUTHENTICATED,
  LEGACY_TOKEN_COOKIE,
  SERVE_API_PATH,
  ServeErrorCode,
  checkAccess,
  checkAuthMessage,
  isLoopbackHost,
  loopbackHosts,
  MAX_MESSAGE_BYTES,
} from './access.js';

export interface ServeOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The built renderer: a folder holding index.html and assets/. */
  readonly rendererDir: string;
  readonly handlers: Handlers;
  /** For tests; otherwise 32 random bytes. */
  readonly token?: string;
  /** Called with one line for each refused request or dropped client (for the operator's log). */
  readonly onRefused?: (reason: string) => void;
  /** Services that outlive a connection (the flashing station): cancelled on close, within the same grace as the requests. */
  readonly onClose?: () => Promise<void>;
}

export interface CloseOptions {
  /**
   * How long to wait for cancelled requests to end (a write to end its child
   * and report its cards) before the sockets are cut anyway.
   */
  readonly graceMs?: number;
}

export interface CloseOutcome {
  /** Requests that were running when the server was asked to stop. */
  readonly cancelled: number;
  /** False when some had not ended within the grace period. */
  readonly ended: boolean;
}

export interface RunningServer {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly port: number;
  /** Stops listening, cancels every running request, waits for them (bounded), then closes every socket. */
  close(options?: CloseOptions): Promise<CloseOutcome>;
}

export const DEFAULT_CLOSE_GRACE_MS = 10_000;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

/** An older bootcard serve authenticated by this cookie; it is worthless now, and the browser is told to forget it. */
const DROP_LEGACY_COOKIE = `${LEGACY_TOKEN_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict`;

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const rendererDir = path.resolve(options.rendererDir);
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    throw new BootcardError(
      ServeErrorCode.RENDERER_MISSING,
      `The wizard is not built (${path.join(rendererDir, 'index.html')} is missing). Run \`npm run build\` first.`,
      { rendererDir },
    );
  }
  const token = options.token ?? randomBytes(32).toString('base64url');
  let allowedHosts: string[] = [];
  let stopping = false;
  const refuse = (reason: string) => options.onRefused?.(reason);
  const dispatchers = new Set<Dispatcher>();

  const server = http.createServer((req, res) => {
    req.on('error', () => res.destroy());
    res.on('error', () => res.destroy());
    void serveStatic(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    });
  });
  // A request the HTTP parser cannot read, or a connection reset mid-request: that connection only.
  server.on('clientError', (_error, socket: Duplex) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });
  server.on('connection', (socket: Socket) => socket.on('error', () => socket.destroy()));

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const decision = checkAccess({ host: req.headers.host, origin: req.headers.origin }, { allowedHosts });
    if (!decision.ok) {
      refuse(`HTTP ${req.method} ${redact(req.url)}: ${decision.reason}`);
      res.writeHead(403, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Forbidden: bootcard serve answers only to its own address; open the URL it printed.\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const relative = pathname === '/' ? 'index.html' : pathname.replace(/^\/+/, '');
    const file = path.resolve(rendererDir, relative);
    if (!file.startsWith(rendererDir + path.sep)) {
      res.writeHead(404, SECURITY_HEADERS);
      res.end();
      return;
    }
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
      return;
    }
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': String(info.size),
    };
    if (path.extname(file) === '.html') headers['Set-Cookie'] = DROP_LEGACY_COOKIE;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else res.end(await readFile(file));
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands the raw socket over without its own error listener: a reset here would end the process.
    socket.on('error', () => socket.destroy());
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const decision = stopping
      ? ({ ok: false, reason: 'bootcard serve is stopping' } as const)
      : pathname === SERVE_API_PATH
        ? checkAccess({ host: req.headers.host, origin: req.headers.origin }, { allowedHosts })
        : ({ ok: false, reason: `no socket at ${pathname}` } as const);
    if (!decision.ok) {
      refuse(`WebSocket ${redact(req.url)}: ${decision.reason}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    let authenticated = false;
    let closing = false;
    // One dispatcher per connection: closing a tab cancels that tab's writes only.
    const dispatcher = createDispatcher(options.handlers);
    dispatchers.add(dispatcher);
    const drop = (code: number, reason: string) => {
      if (closing) return;
      closing = true;
      refuse(`WebSocket: ${reason}`);
      ws.close(code, reason.slice(0, 120));
      // A client that does not answer the close frame is cut off, not waited for (ws would wait 30 s).
      setTimeout(() => ws.terminate(), 1000).unref();
    };
    const deadline = setTimeout(() => drop(CLOSE_UNAUTHENTICATED, `no authentication within ${AUTH_DEADLINE_MS / 1000} s`), AUTH_DEADLINE_MS);
    deadline.unref();
    // A malformed frame (too large, unmasked, RSV bits, invalid UTF-8): ws has already sent the close frame; drop this client only.
    ws.on('error', (error) => {
      closing = true;
      refuse(`WebSocket: dropped a client that sent a malformed frame (${error.message})`);
      ws.terminate();
    });
    ws.on('message', (data, isBinary) => {
      if (closing) return;
      if (isBinary) {
        drop(1003, 'text messages only');
        return;
      }
      const text = data.toString();
      if (!authenticated) {
        const auth = checkAuthMessage(text, token);
        if (!auth.ok) {
          drop(CLOSE_UNAUTHENTICATED, auth.reason);
          return;
        }
        authenticated = true;
        clearTimeout(deadline);
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse(text);
      } catch {
        message = null;
      }
      if (stopping) {
        const id = (message as { id?: unknown } | null)?.id;
        if (typeof id === 'string' && ws.readyState === ws.OPEN) {
          ws.send(JSON.stringify({ type: 'result', id: id.slice(0, 64), ok: false, error: new BootcardError(ServeErrorCode.STOPPING, 'bootcard serve is stopping; start it again to go on.').toJSON() }));
        }
        return;
      }
      void dispatcher.receive(message, (reply) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
      });
    });
    ws.on('close', () => {
      clearTimeout(deadline);
      dispatcher.cancelAll();
      void dispatcher.whenIdle().then(() => dispatchers.delete(dispatcher));
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new BootcardError(
          ServeErrorCode.LISTEN_FAILED,
          `Cannot listen on ${options.host}:${options.port} (${error.code ?? error.message}). Pick another --port or --host.`,
          { host: options.host, port: options.port },
        ),
      );
    });
    server.listen(options.port, options.host, () => resolve());
  });
  server.on('error', (error) => refuse(`server error: ${error.message}`));
  const port = (server.address() as AddressInfo).port;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  allowedHosts = isLoopbackHost(options.host) ? loopbackHosts(urlHost, port) : [];
  const origin = `http://${urlHost === '0.0.0.0' || urlHost === '[::]' ? '127.0.0.1' : urlHost}:${port}`;

  let closed: Promise<CloseOutcome> | null = null;
  async function close(closeOptions: CloseOptions = {}): Promise<CloseOutcome> {
    stopping = true;
    const listening = new Promise<void>((resolve) => server.close(() => resolve()));
    const all = [...dispatchers];
    const cancelled = all.reduce((n, d) => n + d.runningCount, 0);
    // Services first: a page watching the station then hears how its cards ended before its watch is cancelled.
    const services = options.onClose?.().catch(() => undefined);
    for (const d of all) d.cancelAll();
    const grace = closeOptions.graceMs ?? DEFAULT_CLOSE_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      Promise.all([...all.map((d) => d.whenIdle()), services]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), grace))),
    ]);
    clearTimeout(timer);
    // The cancelled requests' results are written; now let each page know the server is gone.
    for (const client of sockets.clients) client.close(1001, 'bootcard serve stopped');
    await new Promise((resolve) => setTimeout(resolve, sockets.clients.size > 0 ? 200 : 0));
    for (const client of sockets.clients) client.terminate();
    sockets.close();
    server.closeAllConnections();
    await listening;
    return { cancelled, ended };
  }

  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    port,
    close: (closeOptions) => (closed ??= close(closeOptions)),
  };
}

function redact(url: string | undefined): string {
  return (url ?? '/').replace(/token=[^&]*/g, 'token=…');
}

/** dist/renderer of this checkout or installed package (next to package.json). */
export function defaultRendererDir(fromFile: string): string {
  let dir = path.dirname(fromFile);
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'electron'))) return path.join(dir, 'dist', 'renderer');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'dist', 'renderer'))) return path.join(dir, 'dist', 'renderer');
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('dist', 'renderer');
    dir = parent;
  }
}
