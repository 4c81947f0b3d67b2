/**
 * Firmware zips as hostile input (issue 11, items 7 and 11): zip bombs whose
 * entries declare a small size in both the local header and the central
 * directory, archives of 200,000 entries, lying end records, and names that
 * are not what they claim to be. Each goes through the real reader (and the
 * wizard's handlers) and must be refused with a clear error, quickly, with
 * memory bounded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardErrorCode } from '../../electron/core/card/errors.js';
import { readFirmwareSource, readFirmwareZip } from '../../electron/core/card/firmware-zip.io.js';
import { BootcardError } from '../../electron/core/errors.js';
import { createDispatcher } from '../../electron/ipc/dispatcher.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import type { WireFromMain } from '../../electron/ipc/define.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { describeShared, REPO_ROOT, uefiFixture } from '../helpers/shared.js';
import { makeZip, PFTF_CONFIG_TXT } from './firmware-zip.js';
import { buildZip, deflatedEntry, deflatedZeros, storedEntry, type RawZipEntry } from './hostile-zip.js';

const MIB = 1024 * 1024;
const PARTITION = 256 * MIB;
const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-hostile-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Uint8Array) => {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

/** The three files every pftf zip has at its top level, small and honest. */
const required = (except: string[] = []): RawZipEntry[] =>
  [
    storedEntry('RPI_EFI.fd', new Uint8Array(4096).fill(0xff)),
    deflatedEntry('start4.elf', new Uint8Array(20_000).fill(7)),
    storedEntry('config.txt', new TextEncoder().encode(PFTF_CONFIG_TXT)),
  ].filter((e) => !except.includes(String(e.name)));

async function refusal(promise: Promise<unknown>): Promise<BootcardError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BootcardError);
    return error as BootcardError;
  }
  throw new Error('expected a refusal');
}

/** Calls one channel of the real handler table through the dispatcher, as serve does. */
async function call(channel: string, payload: unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }> {
  const dispatcher = createDispatcher(createHandlers({ frontEnd: 'serve', cwd: dir }));
  let result: WireFromMain | undefined;
  await dispatcher.receive({ type: 'request', id: '1', channel, payload }, (reply) => {
    if (reply.type === 'result') result = reply;
  });
  if (!result || result.type !== 'result') throw new Error('no result');
  return result.ok ? { ok: true, value: result.value } : { ok: false, error: result.error as { code: string; message: string } };
}

describe('zip bombs', () => {
  const BOMB_BYTES = 512 * MIB;
  let bomb = '';
  let bombData: Buffer;
  beforeAll(async () => {
    bombData = await deflatedZeros(BOMB_BYTES);
    // RPI_EFI.fd declares 1 MiB (a plausible size for its ~0.5 MiB of compressed data) in its local header and
    // in the central directory, and inflates to 512 MiB.
    const lying: RawZipEntry = { name: 'RPI_EFI.fd', method: 8, stored: bombData, declaredSize: MIB, crc32: 0 };
    bomb = file('bomb.zip', buildZip([lying, ...required(['RPI_EFI.fd'])]));
  }, 60_000);

  it('refuses an entry that inflates past its declared size, naming it, and stops there', async () => {
    expect(readFileSync(bomb).length).toBeLessThan(2 * MIB);
    const error = await refusal(readFirmwareZip(bomb, { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.ENTRY_SIZE_MISMATCH);
    expect(error.message).toMatch(/"RPI_EFI\.fd" unpacks to more than the 1048576 bytes it declares/);
  });

  it('refuses an entry declaring 1,000 bytes for half a megabyte of compressed data before inflating anything', async () => {
    const lying: RawZipEntry = { name: 'RPI_EFI.fd', method: 8, stored: bombData, declaredSize: 1000, crc32: 0 };
    const error = await refusal(readFirmwareZip(file('bomb-1000.zip', buildZip([lying, ...required(['RPI_EFI.fd'])])), { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.ENTRY_SIZE_MISMATCH);
    expect(error.message).toMatch(/"RPI_EFI\.fd" takes far more compressed bytes \(\d+\) than the 1000 bytes it declares/);
  });

  it('keeps the peak memory of a fresh process far below what the bomb inflates to', async () => {
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'tests/card/read-firmware-child.ts'), bomb], { cwd: REPO_ROOT, timeout: 120_000 });
    const outcome = JSON.parse(run.stdout) as { code?: string; maxRssBytes: number };
    expect(outcome.code).toBe(CardErrorCode.ENTRY_SIZE_MISMATCH);
    // Inflating the entry whole (what unzipper did) needs at least its 512 MiB; node + tsx alone is about 100 MiB.
    expect(outcome.maxRssBytes).toBeLessThan(300 * MIB);
  }, 130_000);

  it('refuses the bomb through firmware.locate, uefi.preview and card.plan, as serve runs them', async () => {
    const requests: [string, unknown][] = [
      ['firmware.locate', { kind: 'uefi', path: 'bomb.zip' }],
      ['uefi.preview', { firmwarePath: 'bomb.zip', settings: { bootTimeoutSeconds: 3 } }],
      ['card.plan', { recipe: { kind: 'uefi', firmwarePath: 'bomb.zip', configTxt: [] } }],
    ];
    for (const [channel, payload] of requests) {
      const result = await call(channel, payload);
      expect(result, channel).toMatchObject({ ok: false, error: { code: CardErrorCode.ENTRY_SIZE_MISMATCH } });
    }
  });

  it('refuses an archive whose declared sizes add up to more than the partition, before inflating anything', async () => {
    // 300 MiB declared for 1,000 compressed bytes: more than the 256 MiB partition, refused from the directory alone.
    const big: RawZipEntry = { name: 'RPI_EFI.fd', method: 8, stored: bombData.subarray(0, 1000), declaredSize: 300 * MIB, crc32: 0 };
    const error = await refusal(readFirmwareZip(file('too-big.zip', buildZip([big, ...required(['RPI_EFI.fd'])])), { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.FIRMWARE_TOO_LARGE);
  });

  it('refuses entries that unpack to less than declared, stored entries of another size, and a CRC that does not match', async () => {
    const data = new Uint8Array(10_000).fill(3);
    const short = { ...deflatedEntry('RPI_EFI.fd', data), declaredSize: 20_000 };
    expect(await refusal(readFirmwareZip(file('short.zip', buildZip([short, ...required(['RPI_EFI.fd'])])), { partitionSize: PARTITION }))).toMatchObject({
      code: CardErrorCode.ENTRY_SIZE_MISMATCH,
      message: expect.stringMatching(/unpacks to 10000 bytes, other than the 20000 bytes it declares/),
    });
    const stored = { ...storedEntry('RPI_EFI.fd', data), declaredSize: 5_000 };
    expect((await refusal(readFirmwareZip(file('stored.zip', buildZip([stored, ...required(['RPI_EFI.fd'])])), { partitionSize: PARTITION }))).code).toBe(CardErrorCode.ENTRY_SIZE_MISMATCH);
    const badCrc = { ...deflatedEntry('RPI_EFI.fd', data), crc32: 12345 };
    expect(await refusal(readFirmwareZip(file('crc.zip', buildZip([badCrc, ...required(['RPI_EFI.fd'])])), { partitionSize: PARTITION }))).toMatchObject({
      code: CardErrorCode.BAD_ARCHIVE,
      message: expect.stringMatching(/"RPI_EFI\.fd" does not match its CRC-32/),
    });
  });
});

describe('runaway archives', () => {
  const many = (count: number) => Array.from({ length: count }, (_, i) => storedEntry(`f/${i}`, new Uint8Array([i & 0xff])));

  it('refuses a zip of 200,000 one-byte files from its end record, at once', async () => {
    const zip = file('many.zip', buildZip([...required(), ...many(200_000)]));
    const started = Date.now();
    const error = await refusal(readFirmwareZip(zip, { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.TOO_MANY_ENTRIES);
    expect(error.message).toMatch(/200003 entries, far more than a firmware archive/);
    // Generous: it took 93 s before; the refusal needs only the end records.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a central directory holding more entries than its end record admits', async () => {
    const zip = file('lying-count.zip', buildZip([...required(), ...many(5_000)], { declaredCount: 3 }));
    const error = await refusal(readFirmwareZip(zip, { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.BAD_ARCHIVE);
    expect(error.message).toMatch(/holds more than the 3 entries it declares/);
  });

  it('refuses an entry whose local header offset points past the archive data', async () => {
    const whole = buildZip(required());
    // The first central-directory entry's local-header offset (46-byte header, offset field at 42).
    const directoryOffset = whole.readUInt32LE(whole.length - 22 + 16);
    whole.writeUInt32LE(0x7fffffff, directoryOffset + 42);
    const error = await refusal(readFirmwareZip(file('far-offset.zip', whole), { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.BAD_ARCHIVE);
    expect(error.message).toMatch(/"RPI_EFI\.fd" has its local header outside the archive data/);
  });

  it('refuses a file that is not a zip, and a zip cut short, as damaged', async () => {
    expect((await refusal(readFirmwareZip(file('text.zip', new TextEncoder().encode('not a zip at all')), { partitionSize: PARTITION }))).code).toBe(CardErrorCode.BAD_ARCHIVE);
    const whole = buildZip(required());
    expect((await refusal(readFirmwareZip(file('cut.zip', whole.subarray(0, whole.length - 30)), { partitionSize: PARTITION }))).code).toBe(CardErrorCode.BAD_ARCHIVE);
  });
});

describe('damaged archives (mutation fuzzing)', () => {
  it('answers 2,000 byte-mutated zips with the files or a clear refusal, never an internal error', async () => {
    const base = buildZip([...required(), deflatedEntry('overlays/a.dtbo', new Uint8Array(3000).fill(9)), storedEntry('Readme.md', new Uint8Array(200).fill(65))]);
    const noise = pseudoRandomBytes(2000 * 8, 11);
    const zip = path.join(dir, 'fuzz.zip');
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const mutated = Buffer.from(base);
      // 1 to 4 bytes set to pseudo-random values at pseudo-random places; headers are small, so many land in them.
      const n = 1 + (noise[i * 8]! % 4);
      for (let k = 0; k < n; k++) {
        const where = ((noise[i * 8 + 1 + k]! << 8) | noise[i * 8 + 5]!) % mutated.length;
        mutated[where] = noise[(i * 8 + 7 + k) % noise.length]!;
      }
      writeFileSync(zip, mutated);
      try {
        await readFirmwareZip(zip, { partitionSize: PARTITION });
        seen.add('read');
      } catch (error) {
        expect(error, `mutation ${i}`).toBeInstanceOf(BootcardError);
        expect((error as BootcardError).code, `mutation ${i}: ${(error as Error).message}`).not.toBe('INTERNAL');
        seen.add((error as BootcardError).code);
      }
    }
    expect(seen.size).toBeGreaterThan(2);
  }, 120_000);
});

describe('entry names', () => {
  it('refuses a name marked UTF-8 that is not valid UTF-8, naming the entry', async () => {
    const name = new Uint8Array([...Buffer.from('overlays/bad'), 0xff, 0xfe, ...Buffer.from('.dtbo')]);
    const zip = file('bad-utf8.zip', buildZip([...required(), storedEntry(name, new Uint8Array([1]), 0x800)]));
    const error = await refusal(readFirmwareZip(zip, { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.BAD_ENTRY_NAME);
    expect(error.message).toContain('"overlays/bad\\xff\\xfe.dtbo" is marked UTF-8 but is not valid UTF-8');
  });

  it('refuses a non-ASCII name without the UTF-8 flag (a CP437 or Latin-1 name) instead of turning it into U+FFFD', async () => {
    const name = new Uint8Array([...Buffer.from('caf'), 0xe9, ...Buffer.from('.txt')]);
    const zip = file('latin1.zip', buildZip([...required(), storedEntry(name, new Uint8Array([1]))]));
    const error = await refusal(readFirmwareZip(zip, { partitionSize: PARTITION }));
    expect(error.code).toBe(CardErrorCode.BAD_ENTRY_NAME);
    expect(error.message).toContain('"caf\\xe9.txt" is not ASCII and not marked UTF-8');
  });

  it('keeps a valid UTF-8 name (Python marks it UTF-8) exactly', async () => {
    const zip = makeZip(path.join(dir, 'utf8.zip'), [
      { name: 'RPI_EFI.fd', text: 'x' },
      { name: 'start4.elf', text: 'y' },
      { name: 'config.txt', text: PFTF_CONFIG_TXT },
      { name: 'overlays/café-ü.txt', text: 'z' },
    ]);
    const files = await readFirmwareZip(zip, { partitionSize: PARTITION });
    expect(files.map((f) => f.path)).toContain('overlays/café-ü.txt');
  });
});

describeShared('an honest pftf-shaped zip', () => {
  it('still reads whole and byte-exact, ZIP64 entries included (Python, force_zip64)', async () => {
    const fd = readFileSync(uefiFixture('rpi-efi-v1.34-layout.fd'));
    const zip = path.join(dir, 'zip64.zip');
    const py = String.raw`
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for name, src in (('RPI_EFI.fd', sys.argv[2]), ('start4.elf', None), ('config.txt', None)):
        data = open(src, 'rb').read() if src else name.encode() * 100
        with z.open(name, 'w', force_zip64=True) as f:
            f.write(data)
`;
    await promisify(execFile)('python3', ['-c', py, zip, uefiFixture('rpi-efi-v1.34-layout.fd')]);
    const files = await readFirmwareSource(zip, { partitionSize: PARTITION });
    expect(files.map((f) => f.path)).toEqual(['RPI_EFI.fd', 'start4.elf', 'config.txt']);
    expect(Buffer.compare(Buffer.from(files[0]!.data), fd)).toBe(0);
  });
});
