/**
 * The building blocks of the IPC contract: a channel is a request schema
 * (validated in main before any handler runs) plus the TypeScript types of
 * its response and of the progress events it may emit while it runs.
 *
 * Response and progress types are phantom: they exist only for the type
 * checker, so the contract module stays importable from the renderer bundle.
 */
import type { z } from 'zod';
import type { BootcardErrorJSON } from '../core/errors.js';

export interface ChannelSpec<Req extends z.ZodType, Res, Prog> {
  readonly request: Req;
  /** Phantom: never read at run time. */
  readonly response: Res;
  /** Phantom: never read at run time. */
  readonly progress: Prog;
}

/** `channel<Response, Progress>()(requestSchema)`: curried so the schema type is inferred. */
export function channel<Res, Prog = never>() {
  return <Req extends z.ZodType>(request: Req): ChannelSpec<Req, Res, Prog> => ({
    request,
    response: undefined as unknown as Res,
    progress: undefined as unknown as Prog,
  });
}

/** One request on the wire, from a front end to main (or to `bootcard serve`). */
export interface WireRequest {
  readonly type: 'request';
  readonly id: string;
  readonly channel: string;
  readonly payload: unknown;
}

export interface WireCancel {
  readonly type: 'cancel';
  readonly id: string;
}

export type WireToMain = WireRequest | WireCancel;

/** Every message main sends back: progress while it runs, then exactly one result. */
export type WireFromMain =
  | { readonly type: 'progress'; readonly id: string; readonly event: unknown }
  | { readonly type: 'result'; readonly id: string; readonly ok: true; readonly value: unknown }
  | { readonly type: 'result'; readonly id: string; readonly ok: false; readonly error: BootcardErrorJSON };
