/**
 * The privileged writer's wire protocol: one JSON object per line over the
 * child's stdin (parent -> child) and stdout (child -> parent). Both sides
 * validate every message with these schemas; the child trusts nothing it is
 * sent and re-checks every target itself before opening it.
 *
 *   parent -> child: write (once), data | read-failed (one per read), then optionally cancel
 *   child -> parent: ready, read*, progress*, result* (as each card finishes), done | fatal
 *
 *   or, for an SD card's CSD write protection (electron/core/sdlock):
 *   parent -> child: sdlock (once: one operation on one whole /dev/mmcblkN)
 *   child -> parent: ready, sdlock-result | fatal
 *
 * A composed card image travels as base64 inside the write message (it
 * carries a few MiB of data ranges; its zero ranges travel as offsets and
 * lengths). An image file never travels as its path: the parent opened it with
 * the user's own rights, and the child pulls the bytes it needs ("read": an
 * offset and a length of at most MAX_READ), each answered by a "data" line
 * followed by exactly that many raw bytes (or "read-failed"). The child so
 * never opens a path a user named, and reads nothing that user could not
 * (pkexec closes every other descriptor, so an open file cannot be passed on).
 */
import { z } from 'zod';
import type { BootcardErrorJSON } from '../errors.js';
import type { SparseImage } from '../image/sparse-image.js';
import type { WriteProgress } from './progress.js';
import type { StreamSource, WriteResult, WriteSource } from './types.js';

/** What the child learns about an image file the parent opened. */
export type ImageStreamFacts = Omit<StreamSource, 'read'>;

/** The largest card image the protocol carries: 2 TiB. */
const MAX_IMAGE_SIZE = 2 ** 41;
const MAX_TARGETS = 64;
/** The most bytes one `read` asks for (and one `data` carries): one write chunk. */
export const MAX_READ = 4 * 1024 * 1024;
/** The longest JSON line either side accepts: a composed image's data ranges, in base64, fit many times over. */
export const MAX_MESSAGE_LINE = 256 * 1024 * 1024;

const errorJson = z
  .object({ name: z.literal('BootcardError'), code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() })
  .strict();

const absolutePath = z.string().min(1).max(4096).regex(/^\//, 'must be an absolute path');

const wireImage = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('sparse'),
      size: z.number().int().positive().max(MAX_IMAGE_SIZE),
      ranges: z.array(z.object({ offset: z.number().int().nonnegative().max(MAX_IMAGE_SIZE), data: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/) }).strict()).max(65536),
      zeroRanges: z
        .array(z.object({ offset: z.number().int().nonnegative().max(MAX_IMAGE_SIZE), length: z.number().int().positive().max(MAX_IMAGE_SIZE) }).strict())
        .max(65536)
        .optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('stream'),
      size: z.number().int().positive().max(MAX_IMAGE_SIZE),
      /** Where the parent opened it, and that file system's MAJOR:MINOR: only compared with the targets (a card must not hold its own image), never opened. */
      sourcePath: absolutePath.optional(),
      sourceDeviceNumber: z.string().regex(/^\d+:\d+$/).optional(),
    })
    .strict(),
]);

/** What the privileged child does to an SD card's write protection: read it, set or clear TMP_WRITE_PROTECT, set PERM_WRITE_PROTECT. */
export const SDLOCK_OPERATIONS = ['status', 'lock', 'unlock', 'permlock'] as const;
export type SdLockOperation = (typeof SDLOCK_OPERATIONS)[number];

/** A whole SD card in a built-in slot: the only devices whose CSD the child touches (no partitions, no links, no other disks). */
export const SD_CARD_DEVICE = /^\/dev\/mmcblk\d{1,3}$/;
const sdCardDevice = z.string().regex(SD_CARD_DEVICE, 'must be a whole SD card in a built-in slot, /dev/mmcblkN');

export const parentMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('write'),
      image: wireImage,
      targets: z.array(absolutePath).min(1).max(MAX_TARGETS),
      verify: z.boolean(),
      includeLoop: z.boolean(),
      allowNonCard: z.boolean(),
      lockAfterVerify: z.boolean(),
    })
    .strict(),
  z
    .object({
      type: z.literal('sdlock'),
      operation: z.enum(SDLOCK_OPERATIONS),
      device: sdCardDevice,
      allowMounted: z.boolean(),
      /** The permanent lock's confirmation word; the core refuses `permlock` without it. */
      confirm: z.literal('PERMANENTLY').optional(),
    })
    .strict(),
  z.object({ type: z.literal('cancel') }).strict(),
  /** Answers the child's read `id`; exactly `length` raw bytes follow the line. */
  z.object({ type: z.literal('data'), id: z.number().int().nonnegative(), length: z.number().int().nonnegative().max(MAX_READ) }).strict(),
  z.object({ type: z.literal('read-failed'), id: z.number().int().nonnegative(), error: errorJson }).strict(),
]);

export type SdLockRequestMessage = Extract<ParentMessage, { type: 'sdlock' }>;

export type ParentMessage = z.infer<typeof parentMessageSchema>;
export type WireImage = z.infer<typeof wireImage>;

const progressSchema = z
  .object({
    target: z.string(),
    phase: z.enum(['write', 'verify']),
    bytes: z.number().nonnegative(),
    total: z.number().nonnegative(),
    speed: z.number().nonnegative(),
    etaSeconds: z.number().nonnegative().optional(),
  })
  .strict();

const resultSchema = z
  .object({
    target: z.string(),
    ok: z.boolean(),
    error: errorJson.optional(),
    kind: z.enum(['device', 'file']),
    device: z.string().optional(),
    description: z.string().optional(),
    bytesWritten: z.number().nonnegative(),
    durationMs: z.number().nonnegative(),
    verified: z.boolean(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
    cidSerial: z.string().optional(),
    lock: z.object({ ok: z.boolean(), state: z.string().optional(), error: errorJson.optional() }).strict().optional(),
  })
  .strict();

const sdLockState = z.enum(['off', 'temporary', 'permanent']);

const sdLockResultSchema = z
  .object({
    device: z.string(),
    state: sdLockState,
    csd: z
      .object({
        structure: z.number().int(),
        version: z.enum(['1.0', '2.0', '3.0', 'reserved']),
        cSize: z.number().int().nonnegative(),
        capacityBytes: z.number().nonnegative(),
        copy: z.boolean(),
        permWriteProtect: z.boolean(),
        tmpWriteProtect: z.boolean(),
        fileFormatGroup: z.boolean(),
        fileFormat: z.number().int(),
        crc7: z.number().int(),
        crcValid: z.boolean(),
        hex: z.string().regex(/^[0-9a-f]{32}$/),
      })
      .strict(),
    rca: z.number().int().nonnegative(),
    mmcDevice: z.string(),
    cardType: z.string().nullable(),
    /** Present for lock, unlock and permlock. */
    changed: z.boolean().optional(),
    previousState: sdLockState.optional(),
  })
  .strict();

/** An SdLockStatus (status) or SdLockChange (lock, unlock, permlock) of electron/core/sdlock/sdlock.io.ts, as JSON. */
export type SdLockWireResult = z.infer<typeof sdLockResultSchema>;

export const childMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), pid: z.number().int(), uid: z.number().int() }).strict(),
  z.object({ type: z.literal('progress'), progress: progressSchema }).strict(),
  z.object({ type: z.literal('result'), result: resultSchema }).strict(),
  z.object({ type: z.literal('done'), results: z.array(resultSchema) }).strict(),
  z.object({ type: z.literal('sdlock-result'), result: sdLockResultSchema }).strict(),
  z.object({ type: z.literal('fatal'), error: errorJson }).strict(),
  z
    .object({
      type: z.literal('read'),
      id: z.number().int().nonnegative(),
      offset: z.number().int().nonnegative().max(MAX_IMAGE_SIZE),
      length: z.number().int().positive().max(MAX_READ),
    })
    .strict(),
]);

export type ChildMessage =
  | { readonly type: 'ready'; readonly pid: number; readonly uid: number }
  | { readonly type: 'progress'; readonly progress: WriteProgress }
  | { readonly type: 'result'; readonly result: WriteResult }
  | { readonly type: 'done'; readonly results: readonly WriteResult[] }
  | { readonly type: 'sdlock-result'; readonly result: SdLockWireResult }
  | { readonly type: 'fatal'; readonly error: BootcardErrorJSON }
  | { readonly type: 'read'; readonly id: number; readonly offset: number; readonly length: number };

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** How an image crosses to the child: a composed image whole, an opened image file as its size (the child pulls its bytes). */
export function imageToWire(image: SparseImage | ImageStreamFacts): WireImage {
  if ('ranges' in image) {
    return {
      kind: 'sparse',
      size: image.size,
      ranges: image.ranges.map((r) => ({ offset: r.offset, data: toBase64(r.data) })),
      ...(image.zeroRanges ? { zeroRanges: image.zeroRanges.map((z) => ({ offset: z.offset, length: z.length })) } : {}),
    };
  }
  return {
    kind: 'stream',
    size: image.size,
    ...(image.sourcePath ? { sourcePath: image.sourcePath } : {}),
    ...(image.sourceDeviceNumber ? { sourceDeviceNumber: image.sourceDeviceNumber } : {}),
  };
}

/**
 * The image back from the wire; the writer's `assertSparseImage` then checks a
 * composed image's invariants. A stream reads through `read` (the child's puller).
 */
export function imageFromWire(wire: WireImage, read?: StreamSource['read']): WriteSource {
  if (wire.kind === 'stream') {
    if (!read) throw new Error('imageFromWire: a streamed image needs a reader');
    return {
      size: wire.size,
      read,
      ...(wire.sourcePath ? { sourcePath: wire.sourcePath } : {}),
      ...(wire.sourceDeviceNumber ? { sourceDeviceNumber: wire.sourceDeviceNumber } : {}),
    };
  }
  const image: SparseImage = {
    size: wire.size,
    ranges: wire.ranges.map((r) => ({ offset: r.offset, data: new Uint8Array(Buffer.from(r.data, 'base64')) })),
    ...(wire.zeroRanges ? { zeroRanges: wire.zeroRanges } : {}),
  };
  return image;
}

export function encodeMessage(message: ParentMessage | ChildMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/** The answer to a `read`: the `data` line, then the bytes themselves. */
export function encodeData(id: number, bytes: Uint8Array): [string, Uint8Array] {
  return [encodeMessage({ type: 'data', id, length: bytes.length }), bytes];
}
