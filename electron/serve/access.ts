/**
 * Who may talk to `bootcard serve`: the pure access rules, kept apart from the
 * sockets so a plain unit test can hold them to account.
 *
 * The token authenticates, and only the token: nothing a browser attaches to a
 * request by itself (a cookie, HTTP auth, a Referer) counts, because cookies
 * are not bound to a port and any local user can run a server on another
 * 127.0.0.1 port that the operator's browser visits. The printed URL carries
 * the token in its fragment (`/#token=...`), which a browser never sends to a
 * server nor puts in a Referer; the page reads it and sends it as the first
 * WebSocket message. Static files hold no secrets and need no token.
 *
 * Every HTTP request and socket upgrade is let in only when
 *  - its Host is one the server answers to (defeats DNS rebinding when bound
 *    to loopback), and
 *  - its Origin header, when there is one, is the server's own origin (the
 *    Host it was addressed to), so no other web page the user has open can
 *    open the socket through the user's browser.
 * A socket then stays unauthenticated until its first message carries the
 * token (compared in constant time) within AUTH_DEADLINE_MS; anything else
 * closes it.
 */

export const SERVE_API_PATH = '/api';
/** The name an older bootcard serve gave its cookie; pages now tell the browser to drop it. */
export const LEGACY_TOKEN_COOKIE = 'bootcard_token';
/** How long a socket may stay open without authenticating. */
export const AUTH_DEADLINE_MS = 5_000;
/** The authentication message is `{"type":"auth","token":"..."}`: anything longer is not one. */
export const MAX_AUTH_MESSAGE_BYTES = 1024;
/**
 * The largest WebSocket message serve reads (ws's maxPayload): a wizard
 * request is small JSON (config text, paths). Every channel's request schema
 * keeps its largest valid request below it (tests/serve/request-size.test.ts),
 * so no valid request can be refused for its size.
 */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
/** WebSocket close codes (4000-4999 are the application's own). */
export const CLOSE_UNAUTHENTICATED = 4401;

export const ServeErrorCode = {
  RENDERER_MISSING: 'SERVE_RENDERER_MISSING',
  BAD_PORT: 'SERVE_BAD_PORT',
  LISTEN_FAILED: 'SERVE_LISTEN_FAILED',
  /** A request that came in after serve was told to stop (Ctrl+C, SIGTERM). */
  STOPPING: 'SERVE_STOPPING',
} as const;

export type AccessDecision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface AccessRequest {
  readonly host: string | undefined;
  readonly origin: string | undefined;
}

export interface AccessPolicy {
  /** `host:port` values the server answers to; empty means any (bound to all interfaces). */
  readonly allowedHosts: readonly string[];
}

/** The first message of a socket, from the page (see renderer/src/transport.ts). */
export interface AuthMessage {
  readonly type: 'auth';
  readonly token: string;
}

/** Equal-length constant-time comparison of two ASCII strings. */
export function tokensEqual(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The `host:port` spellings a loopback server answers to. */
export function loopbackHosts(host: string, port: number): string[] {
  const names = new Set([host, '127.0.0.1', 'localhost', '[::1]']);
  if (host === '::1') names.add('[::1]');
  return [...names].filter((n) => n !== '::1').map((n) => `${n}:${port}`);
}

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The Host and Origin rules, for every HTTP request and socket upgrade. */
export function checkAccess(request: AccessRequest, policy: AccessPolicy): AccessDecision {
  const host = request.host?.toLowerCase();
  if (!host) return { ok: false, reason: 'no Host header' };
  if (policy.allowedHosts.length > 0 && !policy.allowedHosts.includes(host)) {
    return { ok: false, reason: `unexpected Host ${host}` };
  }
  if (request.origin !== undefined && request.origin !== `http://${host}`) {
    return { ok: false, reason: `foreign Origin ${request.origin}` };
  }
  return { ok: true };
}

/** Whether a socket's first message is the authentication with the server's token. */
export function checkAuthMessage(text: string, token: string): AccessDecision {
  if (text.length > MAX_AUTH_MESSAGE_BYTES) return { ok: false, reason: 'first message is not an authentication' };
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'first message is not an authentication' };
  }
  const m = message as Partial<Record<keyof AuthMessage, unknown>> | null;
  if (typeof m !== 'object' || m === null || m.type !== 'auth') return { ok: false, reason: 'first message is not an authentication' };
  if (typeof m.token !== 'string' || !tokensEqual(m.token, token)) return { ok: false, reason: 'missing or wrong token' };
  return { ok: true };
}

/** Parses `--port`: 0 (any free port) to 65535. */
export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}
