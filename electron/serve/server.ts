/**
 * `bootcard serve`: the wizard in a browser. One HTTP server serves the built
 * renderer (dist/renderer) and, at /api, a WebSocket carrying the same IPC
 * contract the Electron window uses, through the same dispatcher and handler
 * table. Every request needs the random token printed with the URL and must
 * come from the server's own origin (see access.ts); the page is served with
 * the desktop app's strict Content-Security-Policy.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { BootcardError } from '../core/errors.js';
import { createDispatcher } from '../ipc/dispatcher.js';
import type { Handlers } from '../ipc/dispatcher.js';
import { CONTENT_SECURITY_POLICY } from '../main/security.js';
import { SERVE_API_PATH, SERVE_TOKEN_COOKIE, ServeErrorCode, checkAccess, isLoopbackHost, loopbackHosts, tokenFromUrl } from './access.js';

export interface ServeOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The built renderer: a folder holding index.html and assets/. */
  readonly rendererDir: string;
  readonly handlers: Handlers;
  /** For tests; otherwise 32 random bytes. */
  readonly token?: string;
  /** Called with one line for each refused request (for the operator's log). */
  readonly onRefused?: (reason: string) => void;
}

export interface RunningServer {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly port: number;
  close(): Promise<void>;
}

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

/** A wizard message is small JSON (config text, paths): anything bigger is refused. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

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
  const refuse = (reason: string) => options.onRefused?.(reason);

  const server = http.createServer((req, res) => {
    void serveStatic(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, SECURITY_HEADERS);
      res.end();
    });
  });

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const decision = checkAccess(
      { url: req.url ?? '/', host: req.headers.host, origin: req.headers.origin, cookie: req.headers.cookie },
      { token, allowedHosts },
    );
    if (!decision.ok) {
      refuse(`HTTP ${req.method} ${redact(req.url)}: ${decision.reason}`);
      res.writeHead(403, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Forbidden: open the URL bootcard serve printed (it carries the access token).\n');
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
    // The page was opened with ?token=: give its assets and socket the token as a strict cookie.
    if (tokenFromUrl(req.url ?? '/') !== null) {
      headers['Set-Cookie'] = `${SERVE_TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else res.end(await readFile(file));
  }

  const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const decision =
      pathname === SERVE_API_PATH
        ? checkAccess({ url: req.url ?? '/', host: req.headers.host, origin: req.headers.origin, cookie: req.headers.cookie }, { token, allowedHosts })
        : ({ ok: false, reason: `no socket at ${pathname}` } as const);
    if (!decision.ok) {
      refuse(`WebSocket ${redact(req.url)}: ${decision.reason}`);
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => attach(ws));
  });

  function attach(ws: WebSocket): void {
    // One dispatcher per connection: closing a tab cancels that tab's writes only.
    const dispatcher = createDispatcher(options.handlers);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        ws.close(1003, 'text only');
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse(data.toString());
      } catch {
        message = null;
      }
      void dispatcher.receive(message, (reply) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
      });
    });
    ws.on('close', () => dispatcher.cancelAll());
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
  const port = (server.address() as AddressInfo).port;
  const urlHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  allowedHosts = isLoopbackHost(options.host) ? loopbackHosts(urlHost, port) : [];
  const origin = `http://${urlHost === '0.0.0.0' || urlHost === '[::]' ? '127.0.0.1' : urlHost}:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
