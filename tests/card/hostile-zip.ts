/**
 * Hand-built zip files for the hostile-archive tests: every header field is
 * written as given, so an entry can declare one size in both its local
 * header and the central directory and hold another (a zip bomb), names can
 * carry any bytes with or without the UTF-8 flag, and an archive can hold
 * more entries than its end record admits. ZIP64 end records are written
 * when the entry count needs them (more than 65535 entries).
 */
import zlib from 'node:zlib';

export interface RawZipEntry {
  /** The name's bytes as stored (a string is stored as UTF-8). */
  readonly name: string | Uint8Array;
  /** General-purpose flags (0x800: the name is UTF-8). */
  readonly flags?: number;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  /** The entry's data exactly as stored in the archive (already deflated for method 8). */
  readonly stored: Uint8Array;
  /** What the headers declare. */
  readonly declaredSize: number;
  readonly crc32: number;
}

export interface BuildZipOptions {
  /** Entry count written in the end record (default: the real count). */
  readonly declaredCount?: number;
}

const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };
const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const DOS_TIME = (10 << 11) | (20 << 5) | 15;
const DOS_DATE = ((2022 - 1980) << 9) | (12 << 5) | 15;

export function buildZip(entries: readonly RawZipEntry[], options: BuildZipOptions = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = typeof e.name === 'string' ? Buffer.from(e.name, 'utf8') : Buffer.from(e.name);
    const flags = e.flags ?? 0;
    const common = [u16(20), u16(flags), u16(e.method), u16(DOS_TIME), u16(DOS_DATE), u32(e.crc32), u32(e.stored.length), u32(e.declaredSize), u16(name.length), u16(0)];
    const local = Buffer.concat([u32(0x04034b50), ...common, name]);
    central.push(Buffer.concat([u32(0x02014b50), u16((3 << 8) | 20), ...common, u16(0), u16(0), u16(0), u32(0o100644 << 16), u32(offset), name]));
    parts.push(local, Buffer.from(e.stored));
    offset += local.length + e.stored.length;
  }
  const directory = Buffer.concat(central);
  const count = options.declaredCount ?? entries.length;
  const tail: Buffer[] = [directory];
  const zip64 = count > 0xffff;
  if (zip64) {
    const recordOffset = offset + directory.length;
    tail.push(Buffer.concat([u32(0x06064b50), u64(44), u16(45), u16(45), u32(0), u32(0), u64(count), u64(count), u64(directory.length), u64(offset)]));
    tail.push(Buffer.concat([u32(0x07064b50), u32(0), u64(recordOffset), u32(1)]));
  }
  tail.push(Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(zip64 ? 0xffff : count), u16(zip64 ? 0xffff : count), u32(directory.length), u32(offset), u16(0)]));
  return Buffer.concat([...parts, ...tail]);
}

/** A stored entry that tells the truth. */
export function storedEntry(name: string | Uint8Array, data: Uint8Array, flags = 0): RawZipEntry {
  return { name, flags, method: 0, stored: data, declaredSize: data.length, crc32: zlib.crc32(data) };
}

/** A deflated entry that tells the truth. */
export function deflatedEntry(name: string | Uint8Array, data: Uint8Array, flags = 0): RawZipEntry {
  return { name, flags, method: 8, stored: zlib.deflateRawSync(data), declaredSize: data.length, crc32: zlib.crc32(data) };
}

/** Raw deflate of `bytes` zero bytes, fed in 16 MiB steps (never the whole input in memory). */
export async function deflatedZeros(bytes: number): Promise<Buffer> {
  const step = Buffer.alloc(16 * 1024 * 1024);
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise<void>((resolve, reject) => deflate.on('end', resolve).on('error', reject));
  for (let done = 0; done < bytes; done += step.length) {
    const chunk = done + step.length <= bytes ? step : step.subarray(0, bytes - done);
    if (!deflate.write(chunk)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  deflate.end();
  await ended;
  return Buffer.concat(out);
}
