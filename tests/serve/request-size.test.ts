/**
 * Every valid request fits in one serve message: a request the schema
 * accepts but the socket refuses for its size would drop the tab's
 * connection and cancel its writes. The walker bounds the JSON of the largest
 * request each schema accepts (every string at its maximum length, each
 * character escaped to six bytes as JSON.stringify does a control character;
 * every array full) and needs a limit on every string and array to do so.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { MAX_JSON_BYTES_META } from '../../electron/ipc/channels/common.js';
import { MANIFEST_ENTRIES_MAX_BYTES } from '../../electron/ipc/channels/manifest.js';
import { contract, type Channel } from '../../electron/ipc/contract.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { MAX_MESSAGE_BYTES } from '../../electron/serve/access.js';
import { startServer, type RunningServer } from '../../electron/serve/server.js';

/** The id the dispatcher accepts at most (electron/ipc/dispatcher.ts). */
const MAX_ID_LENGTH = 64;
/** JSON.stringify writes a control character (or a lone surrogate) as \u00XX: six bytes for one UTF-16 unit. */
const WORST_BYTES_PER_CHAR = 6;

interface ZodInternals {
  readonly _zod: { readonly def: Record<string, unknown> & { readonly type: string; readonly checks?: readonly ZodInternals[] } };
}
const def = (schema: unknown) => (schema as ZodInternals)._zod.def;
const checkDefs = (schema: unknown) => (def(schema).checks ?? []).map((c) => def(c));

function lengthLimit(schema: unknown, where: string): number {
  let limit: number | undefined;
  for (const c of checkDefs(schema)) {
    if (c.check === 'max_length' || c.check === 'length_equals') limit = Math.min(limit ?? Infinity, Number(c.maximum ?? c.length));
  }
  if (limit === undefined) throw new Error(`${where}: no maximum length, so no request size bound`);
  return limit;
}

/** An upper bound of the UTF-8 JSON bytes of any value `schema` accepts. */
function maxJsonBytes(schema: z.ZodType, where: string): number {
  const capped = z.globalRegistry.get(schema)?.[MAX_JSON_BYTES_META];
  if (typeof capped === 'number') return capped;
  const d = def(schema);
  switch (d.type) {
    case 'string':
      return 2 + WORST_BYTES_PER_CHAR * lengthLimit(schema, where);
    case 'number':
      return '-1.7976931348623157e+308'.length;
    case 'boolean':
      return 'false'.length;
    case 'null':
      return 4;
    case 'literal':
      return Math.max(...(d.values as unknown[]).map((v) => Buffer.byteLength(JSON.stringify(v))));
    case 'enum':
      return Math.max(...Object.values(d.entries as Record<string, unknown>).map((v) => Buffer.byteLength(JSON.stringify(v))));
    case 'optional':
    case 'default':
      return maxJsonBytes(d.innerType as z.ZodType, where);
    case 'nullable':
      return Math.max(4, maxJsonBytes(d.innerType as z.ZodType, where));
    case 'union':
      return Math.max(...(d.options as z.ZodType[]).map((o, i) => maxJsonBytes(o, `${where}|${i}`)));
    case 'array': {
      const n = lengthLimit(schema, where);
      return 2 + n * maxJsonBytes(d.element as z.ZodType, `${where}[]`) + Math.max(0, n - 1);
    }
    case 'object': {
      // A non-strict object accepts (and strips) keys of any size.
      if (d.catchall === undefined || def(d.catchall).type !== 'never') throw new Error(`${where}: not a strict object, so extra keys are unbounded`);
      const entries = Object.entries(d.shape as Record<string, z.ZodType>);
      const body = entries.reduce((sum, [key, value]) => sum + Buffer.byteLength(JSON.stringify(key)) + 1 + maxJsonBytes(value, `${where}.${key}`), 0);
      return 2 + body + Math.max(0, entries.length - 1);
    }
    default:
      throw new Error(`${where}: the walker does not know zod type "${d.type}"`);
  }
}

/** The wire envelope around a payload: {"type":"request","id":...,"channel":...,"payload":...}. */
function maxMessageBytes(channel: Channel): number {
  const envelope = JSON.stringify({ type: 'request', id: '', channel, payload: null });
  return envelope.length - 'null'.length + WORST_BYTES_PER_CHAR * MAX_ID_LENGTH + maxJsonBytes(contract[channel].request, channel);
}

describe('request sizes', () => {
  it.each(Object.keys(contract) as Channel[])('the largest valid %s request fits in one serve message', (channel) => {
    expect(maxMessageBytes(channel)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
  });

  it('the walker is a real bound: it rejects an unbounded string and counts escapes', () => {
    expect(() => maxJsonBytes(z.object({ a: z.string() }).strict(), 'x')).toThrow(/no maximum length/);
    expect(() => maxJsonBytes(z.object({ a: z.string().max(1) }), 'x')).toThrow(/not a strict object/);
    const schema = z.object({ a: z.string().max(10) }).strict();
    const worst = { a: '\u0001'.repeat(10) };
    expect(schema.safeParse(worst).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(worst))).toBe(maxJsonBytes(schema, 'x'));
  });

  it('manifest.save takes a full 64-card manifest and refuses one over its byte cap with a clear message', () => {
    const entry = (i: number, config: string) => ({
      device: `/dev/sd${String.fromCharCode(97 + (i % 26))}`,
      cardSerial: '0x12345678',
      recipe: 'uefi',
      config,
      sha256: 'a'.repeat(64),
      time: '2026-12-01T10:00:00.000Z',
      ok: true,
      error: null,
    });
    const schema = contract['manifest.save'].request;
    const full = { path: 'm.json', format: 'json' as const, entries: Array.from({ length: 64 }, (_, i) => entry(i, 'x'.repeat(8 * 1024))) };
    expect(schema.safeParse(full).success).toBe(true);
    const tooBig = { ...full, entries: Array.from({ length: 64 }, (_, i) => entry(i, '\u0001'.repeat(4 * 1024))) };
    expect(Buffer.byteLength(JSON.stringify(tooBig.entries))).toBeGreaterThan(MANIFEST_ENTRIES_MAX_BYTES);
    const refused = schema.safeParse(tooBig);
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/at most 768 KiB as JSON/);
  });
});

describe('the largest valid request through a real serve socket', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-request-size-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bootcard</title>');
    server = await startServer({ host: '127.0.0.1', port: 0, rendererDir: dir, handlers: createHandlers({ frontEnd: 'serve', cwd: dir, outputRoot: dir }) });
  });
  afterAll(async () => {
    await server?.close({ graceMs: 1000 });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a manifest.save at its byte cap is answered (not dropped for its size) and saves the file', async () => {
    const config = 'BOOT_ORDER=0xf142\n'.repeat(600);
    const oneRow = { device: '/dev/sdb', cardSerial: null, recipe: 'eeprom-recovery 2711', config, sha256: 'b'.repeat(64), time: '2026-12-01T10:00:00.000Z', ok: true, error: null };
    const rows = Math.floor(MANIFEST_ENTRIES_MAX_BYTES / (Buffer.byteLength(JSON.stringify(oneRow)) + 1));
    const message = JSON.stringify({ type: 'request', id: 'big', channel: 'manifest.save', payload: { path: 'big.json', format: 'json', entries: Array.from({ length: rows }, () => oneRow) } });
    expect(Buffer.byteLength(message)).toBeGreaterThan(0.7 * MAX_MESSAGE_BYTES);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api`);
    try {
      const reply = await new Promise<{ ok: boolean; error?: { message: string } }>((resolve, reject) => {
        ws.once('open', () => {
          ws.send(JSON.stringify({ type: 'auth', token: server.token }));
          ws.send(message);
        });
        ws.on('message', (data) => resolve(JSON.parse(data.toString()) as { ok: boolean }));
        ws.once('close', (code) => reject(new Error(`closed with ${code}`)));
      });
      expect(reply).toMatchObject({ ok: true });
      expect(readdirSync(dir)).toContain('big.json');
    } finally {
      ws.close();
    }
  });
});
