/**
 * Special files as inputs (issue 11, item 8): a FIFO, /dev/zero, /dev/urandom,
 * a folder or a missing path given where bootcard reads a file. Each handler
 * the wizard (and serve) calls and each CLI path must refuse at once with an
 * error that names what the path is, hold no file thread (so the next request
 * is still answered), write nothing, and stop reading when cancelled.
 */
import { execFileSync, spawn } from 'node:child_process';
import { constants, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fetchPftfFirmware, pftfZipName } from '../../electron/core/card/firmware-download.io.js';
import { readFirmwareSource } from '../../electron/core/card/firmware-zip.io.js';
import { BootcardError, CommonErrorCode } from '../../electron/core/errors.js';
import { readInputFile } from '../../electron/core/files/input-file.io.js';
import { createDispatcher } from '../../electron/ipc/dispatcher.js';
import type { WireFromMain } from '../../electron/ipc/define.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { runBootcard } from '../helpers/cli.js';
import { describeShared, eepromFixture } from '../helpers/shared.js';
import { makeZip, PFTF_CONFIG_TXT } from './firmware-zip.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-special-inputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (...parts: string[]) => path.join(dir, ...parts);
const mkfifo = (p: string) => {
  execFileSync('mkfifo', [p]);
  return p;
};

const FIFO = mkfifo(at('firmware.zip'));
const FOLDER = at('empty-folder');
mkdirSync(FOLDER);
const MISSING = at('no-such-firmware.zip');
/** What each special file is said to be. */
const SPECIALS: [string, string, RegExp][] = [
  ['a FIFO', FIFO, /is a named pipe \(FIFO\)/],
  ['/dev/zero', '/dev/zero', /is a character device/],
  ['/dev/urandom', '/dev/urandom', /is a character device/],
];

/** The three files a pftf zip must have, enough for bootcard to get past the firmware to the next input. */
const minimalFirmwareZip = () =>
  makeZip(at('minimal-firmware.zip'), [
    { name: 'RPI_EFI.fd', text: 'efi' },
    { name: 'start4.elf', text: 'elf' },
    { name: 'config.txt', text: PFTF_CONFIG_TXT },
  ]);

type Result = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

/** One request through the real handler table and dispatcher (as `bootcard serve` runs it); fails if it is not answered in 20 s. */
async function call(channel: string, payload: unknown, signal?: { cancelAfterStart: boolean }): Promise<Result> {
  const dispatcher = createDispatcher(createHandlers({ frontEnd: 'serve', cwd: dir }));
  let timer: NodeJS.Timeout | undefined;
  const answered = new Promise<Result>((resolve) => {
    void dispatcher.receive({ type: 'request', id: 'r', channel, payload }, (reply: WireFromMain) => {
      if (reply.type === 'result') resolve(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: reply.error as { code: string; message: string } });
    });
    if (signal?.cancelAfterStart) void dispatcher.receive({ type: 'cancel', id: 'r' }, () => undefined);
  });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${channel} ${JSON.stringify(payload)} was not answered in 20 s`)), 20_000);
  });
  try {
    return await Promise.race([answered, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const uefiRequests = (p: string): [string, unknown][] => [
  ['firmware.locate', { kind: 'uefi', path: p }],
  ['uefi.preview', { firmwarePath: p, settings: { bootTimeoutSeconds: 3 } }],
  ['card.plan', { recipe: { kind: 'uefi', firmwarePath: p, configTxt: [] } }],
];
const eepromRequests = (p: string): [string, unknown][] => [
  ['firmware.locate', { kind: 'eeprom', board: '2711', path: p }],
  ['card.plan', { recipe: { kind: 'eeprom-recovery', board: '2711', firmwarePath: p, config: '[all]\nBOOT_ORDER=0xf21\n' } }],
];

describe('special files given to the wizard handlers', () => {
  for (const [label, p, said] of SPECIALS) {
    it(`refuses ${label} as firmware in every handler at once, saying what it is`, async () => {
      for (const [channel, payload] of [...uefiRequests(p), ...eepromRequests(p)]) {
        const result = await call(channel, payload);
        expect(result, `${channel} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(said) } });
        if (!result.ok) expect(result.error.message).toContain(p);
      }
    });
  }

  it('refuses a folder without the firmware, and a missing path, with the error of each', async () => {
    for (const [channel, payload] of uefiRequests(FOLDER)) expect(await call(channel, payload), channel).toMatchObject({ ok: false, error: { code: 'CARD_NOT_PFTF_FIRMWARE' } });
    for (const [channel, payload] of eepromRequests(FOLDER)) expect(await call(channel, payload), channel).toMatchObject({ ok: false, error: { code: 'WIZARD_FIRMWARE_NOT_FOUND' } });
    for (const [channel, payload] of uefiRequests(MISSING)) expect(await call(channel, payload), channel).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_NOT_FOUND } });
    for (const [channel, payload] of eepromRequests(MISSING)) {
      expect(await call(channel, payload), channel).toMatchObject({ ok: false, error: { code: 'WIZARD_FIRMWARE_NOT_FOUND', message: expect.stringContaining('does not exist') } });
    }
  });

  it('refuses a FIFO or a device node inside an unpacked UEFI firmware folder', async () => {
    const fw = at('uefi-folder');
    mkdirSync(fw);
    writeFileSync(path.join(fw, 'start4.elf'), 'elf');
    writeFileSync(path.join(fw, 'config.txt'), PFTF_CONFIG_TXT);
    mkfifo(path.join(fw, 'RPI_EFI.fd'));
    const result = await call('card.plan', { recipe: { kind: 'uefi', firmwarePath: fw, configTxt: [] } });
    expect(result).toMatchObject({ ok: false, error: { code: 'CARD_NOT_PFTF_FIRMWARE', message: expect.stringMatching(/"RPI_EFI\.fd" is a named pipe \(FIFO\)/) } });
  });
});

describeShared('special files beside a real bootloader', () => {
  const folder = (name: string, recovery: (p: string) => void, pieeprom?: (p: string) => void) => {
    const fw = at(name);
    mkdirSync(fw);
    const image = path.join(fw, 'pieeprom-2026-05-17.bin');
    if (pieeprom) pieeprom(image);
    else copyFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin'), image);
    recovery(path.join(fw, 'recovery.bin'));
    return fw;
  };

  it('refuses a recovery.bin that is a FIFO or a link to /dev/zero, and a pieeprom that is a FIFO', async () => {
    const fifoRecovery = folder('fw-fifo-recovery', mkfifo);
    const zeroRecovery = folder('fw-zero-recovery', (p) => symlinkSync('/dev/zero', p));
    const fifoImage = folder('fw-fifo-image', (p) => copyFileSync(eepromFixture('recovery-2711.bin'), p), mkfifo);
    const plan = (fw: string) => call('card.plan', { recipe: { kind: 'eeprom-recovery', board: '2711', firmwarePath: fw, config: '[all]\nBOOT_ORDER=0xf21\n' } });
    expect(await plan(fifoRecovery)).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(/recovery\.bin .*is a named pipe/) } });
    expect(await plan(zeroRecovery)).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(/recovery\.bin .*is a character device/) } });
    expect(await plan(fifoImage)).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(/EEPROM image .*pieeprom-2026-05-17\.bin is a named pipe/) } });
  });

  it('eeprom.build refuses a FIFO or /dev/zero as firmware and a FIFO as the signing key, writing nothing', async () => {
    const good = folder('fw-build', (p) => copyFileSync(eepromFixture('recovery-2711.bin'), p));
    const outputDir = at('build-out');
    mkdirSync(outputDir);
    const build = (extra: Record<string, unknown>) => call('eeprom.build', { board: '2711', firmwarePath: good, config: '[all]\nBOOT_ORDER=0xf21\n', outputDir: 'build-out', ...extra });
    expect(await build({ firmwarePath: FIFO })).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(/named pipe/) } });
    expect(await build({ firmwarePath: '/dev/zero' })).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(/character device/) } });
    expect(await build({ signKeyPath: FIFO })).toMatchObject({ ok: false, error: { code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(/private key .*named pipe/) } });
    expect(readdirSync(outputDir)).toEqual([]);
  });

  it('still answers after many FIFO and device requests at once (no file thread is held)', async () => {
    const good = folder('fw-good', (p) => copyFileSync(eepromFixture('recovery-2711.bin'), p));
    const hostile = Array.from({ length: 12 }, (_, i) => call('firmware.locate', { kind: 'uefi', path: i % 3 === 0 ? FIFO : i % 3 === 1 ? '/dev/zero' : '/dev/urandom' }));
    const results = await Promise.all(hostile);
    for (const r of results) expect(r.ok).toBe(false);
    // Before, each FIFO open held one of libuv's four threads for ever, and this request was never answered.
    const answer = await call('firmware.locate', { kind: 'eeprom', board: '2711', path: good });
    expect(answer).toMatchObject({ ok: true, value: { kind: 'eeprom', board: '2711' } });
  });
});

describe('a node of the wrong kind is never opened', () => {
  it('refuses a FIFO from its stat: a writer waiting for a reader is not released', async () => {
    const fifo = mkfifo(at('watched-fifo'));
    // The shell's open for writing returns only once someone opens the FIFO for reading.
    const writer = spawn('sh', ['-c', `exec 3>"$0"; echo opened`, fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    writer.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    try {
      await expect(readInputFile(fifo, { what: 'firmware file', maxBytes: 1024 })).rejects.toMatchObject({ code: CommonErrorCode.FILE_UNREADABLE });
      await expect(readFirmwareSource(fifo, { partitionSize: 1 << 28 })).rejects.toMatchObject({ code: CommonErrorCode.FILE_UNREADABLE });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(output).toBe('');
      // The check itself: opening it for reading does release the writer.
      const handle = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      await exited;
      await handle.close();
      expect(output).toBe('opened\n');
    } finally {
      writer.kill('SIGKILL');
    }
  });
});

describe('a FIFO planted in the download cache', () => {
  it('is refused at once instead of being hashed for ever', async () => {
    const cache = at('cache');
    mkdirSync(path.join(cache, 'pftf', 'v1.34'), { recursive: true });
    mkfifo(path.join(cache, 'pftf', 'v1.34', pftfZipName('v1.34')));
    const error = await fetchPftfFirmware({ version: 'v1.34', cacheDir: cache, baseUrl: 'http://127.0.0.1:9/' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: CommonErrorCode.FILE_UNREADABLE, message: expect.stringMatching(/cached firmware .* is a named pipe/) });
  });
});

describe('cancelling a read', () => {
  it('stops reading a large input at the next chunk once cancelled', async () => {
    const big = at('big.bin');
    writeFileSync(big, Buffer.alloc(64 * 1024 * 1024, 1));
    const controller = new AbortController();
    const reading = readInputFile(big, { what: 'firmware file', maxBytes: 128 * 1024 * 1024, signal: controller.signal });
    controller.abort();
    await expect(reading).rejects.toMatchObject({ code: CommonErrorCode.CANCELLED });
  });

  it('ends a card.plan whose request is cancelled (the client left) instead of reading on', async () => {
    const zip = makeZip(at('large-firmware.zip'), [
      { name: 'RPI_EFI.fd', text: 'efi' },
      { name: 'start4.elf', text: 'x'.repeat(48 * 1024 * 1024) },
      { name: 'config.txt', text: PFTF_CONFIG_TXT },
    ]);
    const result = await call('card.plan', { recipe: { kind: 'uefi', firmwarePath: zip, configTxt: [] } }, { cancelAfterStart: true });
    expect(result).toMatchObject({ ok: false, error: { code: CommonErrorCode.CANCELLED } });
    // The same request not cancelled reads the zip whole.
    expect(await call('card.plan', { recipe: { kind: 'uefi', firmwarePath: zip, configTxt: [] } })).toMatchObject({ ok: true });
  });

  it('refuses to start reading a firmware zip for a request already cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await readFirmwareSource(FOLDER, { partitionSize: 1 << 28, signal: controller.signal }).catch((e: unknown) => e);
    expect(BootcardError.is(error, CommonErrorCode.CANCELLED)).toBe(true);
  });
});

describeShared('special files given to the CLI', () => {
  const image = eepromFixture('pieeprom-2711-2026-05-17.bin');
  const out = at('cli-out');
  mkdirSync(out);
  const runs: [string, string[], RegExp][] = [
    ['eeprom read of a FIFO', ['eeprom', 'read', FIFO], /named pipe/],
    ['eeprom build --base /dev/urandom', ['eeprom', 'build', '--base', '/dev/urandom', '--out', path.join(out, 'a.bin')], /character device/],
    ['eeprom build --config /dev/zero', ['eeprom', 'build', '--base', image, '--config', '/dev/zero', '--out', path.join(out, 'b.bin')], /config \/dev\/zero is a character device/],
    ['eeprom build --batch FIFO', ['eeprom', 'build', '--base', image, '--batch', FIFO, '--out-dir', path.join(out, 'batch')], /named pipe/],
    ['eeprom validate of a folder', ['eeprom', 'validate', FOLDER], /is a folder/],
    ['card uefi --firmware FIFO', ['card', 'uefi', '--firmware', FIFO, '--out', path.join(out, 'c.img')], /named pipe/],
    ['card uefi --batch /dev/zero', ['card', 'uefi', '--firmware', minimalFirmwareZip(), '--batch', '/dev/zero', '--out-dir', path.join(out, 'cards')], /character device/],
    ['card recovery --recovery FIFO', ['card', 'recovery', '--board', '2711', '--preset', 'network', '--eeprom', image, '--recovery', FIFO, '--out', path.join(out, 'd.img')], /recovery\.bin .*named pipe/],
    ['card recovery --config /dev/urandom', ['card', 'recovery', '--board', '2711', '--config', '/dev/urandom', '--eeprom', image, '--recovery', FIFO, '--out', path.join(out, 'e.img')], /character device/],
    ['uefi vars list FIFO', ['uefi', 'vars', 'list', FIFO], /named pipe/],
    ['uefi vars list /dev/zero', ['uefi', 'vars', 'list', '/dev/zero'], /character device/],
    ['card inspect FIFO', ['card', 'inspect', FIFO], /named pipe|not an image file/],
  ];
  for (const [label, args, said] of runs) {
    it(`${label}: exits 1 at once with what the path is`, async () => {
      const run = await runBootcard(args);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(said);
    });
  }

  it('wrote nothing in any refused case', () => {
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(path.join(out, 'batch'))).toBe(false);
  });
});
