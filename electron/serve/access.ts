/**
 * Who may talk to `bootcard serve`: the pure access rules, kept apart from the
 * sockets so a plain unit test can hold them to account.
 *
 * A request is let in only when
 *  - it carries the server's random token (the `token` query parameter of the
 *    URL the server printed, or the cookie the page got when it was opened
 *    with that URL), compared in constant time; and
 *  - its Origin header, when there is one, is the server's own origin (the
 *    Host it was addressed to), so no other web page the user has open can
 *    drive the station through the user's browser; and
 *  - its Host is one the server answers to (defeats DNS rebinding when bound
 *    to loopback).
 */

export const SERVE_TOKEN_COOKIE = 'bootcard_token';
export const SERVE_API_PATH = '/api';

export const ServeErrorCode = {
  RENDERER_MISSING: 'SERVE_RENDERER_MISSING',
  BAD_PORT: 'SERVE_BAD_PORT',
  LISTEN_FAILED: 'SERVE_LISTEN_FAILED',
} as const;

export type AccessDecision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface AccessRequest {
  /** The request target, e.g. `/api?token=...` or `/assets/index.js`. */
  readonly url: string;
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly cookie: string | undefined;
}

export interface AccessPolicy {
  readonly token: string;
  /** `host:port` values the server answers to; empty means any (bound to all interfaces). */
  readonly allowedHosts: readonly string[];
}

/** Equal-length constant-time comparison of two ASCII strings. */
export function tokensEqual(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function tokenFromUrl(url: string): string | null {
  try {
    return new URL(url, 'http://placeholder').searchParams.get('token');
  } catch {
    return null;
  }
}

export function tokenFromCookie(cookie: string | undefined): string | null {
  if (!cookie) return null;
  for (const part of cookie.split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SERVE_TOKEN_COOKIE) return rest.join('=');
  }
  return null;
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

export function checkAccess(request: AccessRequest, policy: AccessPolicy): AccessDecision {
  const host = request.host?.toLowerCase();
  if (!host) return { ok: false, reason: 'no Host header' };
  if (policy.allowedHosts.length > 0 && !policy.allowedHosts.includes(host)) {
    return { ok: false, reason: `unexpected Host ${host}` };
  }
  if (request.origin !== undefined && request.origin !== `http://${host}`) {
    return { ok: false, reason: `foreign Origin ${request.origin}` };
  }
  const token = tokenFromUrl(request.url) ?? tokenFromCookie(request.cookie);
  if (token === null || !tokensEqual(token, policy.token)) {
    return { ok: false, reason: 'missing or wrong token' };
  }
  return { ok: true };
}

/** Parses `--port`: 0 (any free port) to 65535. */
export function parsePort(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}
