/** Request fields several channels share, validated the same way everywhere. */
import { z } from 'zod';

/** A path on the machine running bootcard (absolute, or relative to its working folder). */
export const filePathSchema = z.string().min(1).max(4096);

/** A block device node: letters, digits, `_`, `-` and `/` under /dev (no `..`, no spaces). */
export const devicePathSchema = z
  .string()
  .max(256)
  .regex(/^\/dev\/[A-Za-z0-9_\-/]+$/, 'a device path such as /dev/mmcblk0 or /dev/sdb');

/** The bytes `value` takes in a message: JSON.stringify's text, in UTF-8 (as the WebSocket sends it). */
export function jsonByteLength(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

/** The metadata key under which a schema records its JSON byte cap (read by tests/serve/request-size.test.ts). */
export const MAX_JSON_BYTES_META = 'maxJsonBytes';

/**
 * Caps what `schema` accepts at `maxBytes` of JSON. For a field whose
 * per-character limits would allow far more than a message can carry (every
 * character escaped to six bytes) though every real value is much smaller:
 * a valid request then always fits serve's message cap, and one too large is
 * refused with a message that says so instead of the socket being dropped.
 */
export function withJsonByteCap<T extends z.ZodType>(schema: T, maxBytes: number, what: string): T {
  return schema
    .refine((value) => jsonByteLength(value) <= maxBytes, { message: `${what} must be at most ${Math.floor(maxBytes / 1024)} KiB as JSON; save fewer or smaller entries at a time` })
    .meta({ [MAX_JSON_BYTES_META]: maxBytes });
}
