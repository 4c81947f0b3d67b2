import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError } from '../../electron/core/writer/frames.js';

/** Feeds `bytes` in chunks of `chunk` bytes; returns what came out, in order. */
function decode(bytes: Uint8Array, chunk: number, limits = { maxLine: 64, maxPayload: 16 }) {
  const out: (string | number[])[] = [];
  const decoder = new FrameDecoder(limits, {
    line: (text) => {
      out.push(text);
      const m = /^data (\d+)$/.exec(text);
      return m ? Number(m[1]) : 0;
    },
    payload: (data) => out.push([...data]),
  });
  for (let at = 0; at < bytes.length; at += chunk) decoder.push(bytes.subarray(at, at + chunk));
  return { out, idle: decoder.idle };
}

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('the child’s input framing (JSON lines, raw image bytes after a data line)', () => {
  it('splits lines and payloads the same whatever the chunking, including newlines inside a payload', () => {
    const input = bytes('{"a":1}\n', 'data 5\n', [10, 0, 10, 255, 10], 'tail\n');
    for (const chunk of [1, 2, 3, 7, 100]) {
      expect(decode(input, chunk)).toEqual({ out: ['{"a":1}', 'data 5', [10, 0, 10, 255, 10], 'tail'], idle: true });
    }
    expect(decode(bytes('half'), 2).idle).toBe(false);
  });

  it('refuses a line over its cap before it has buffered more than the cap, a payload over its cap, and a line that is not UTF-8, and stays refused', () => {
    const decoder = new FrameDecoder({ maxLine: 8, maxPayload: 4 }, { line: (t) => (t === 'big' ? 5 : 0), payload: () => undefined });
    expect(() => decoder.push(Buffer.from('123456789'))).toThrow(FrameError);
    expect(() => decoder.push(Buffer.from('\n'))).toThrow(/longer than 8 bytes/);
    const payload = new FrameDecoder({ maxLine: 8, maxPayload: 4 }, { line: (t) => (t === 'big' ? 5 : 0), payload: () => undefined });
    expect(() => payload.push(Buffer.from('big\n'))).toThrow(/announces 5 bytes/);
    const utf8 = new FrameDecoder({ maxLine: 8, maxPayload: 4 }, { line: () => 0, payload: () => undefined });
    expect(() => utf8.push(Buffer.from([0xff, 0xfe, 0x0a]))).toThrow(/not UTF-8/);
  });
});
