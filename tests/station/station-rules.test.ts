/**
 * The station's pure rules (which card is which, which row a card gets, what
 * a log line says) and the CLI's refusals of options that do not go together.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Drive } from '../../electron/core/drives/types.js';
import { cardIdentity, cardKey, cardsPerHour, doneFromLog, logLine, RowAllocator, type StationRow } from '../../electron/core/station/station-state.js';
import { readStationLog, StationLog } from '../../electron/core/station/station-log.io.js';
import { runBootcard } from '../helpers/cli.js';

const drive = (over: Partial<Drive>): Drive => ({
  device: '/dev/sdb',
  name: 'sdb',
  size: 32e9,
  description: 'reader',
  bus: 'usb',
  isSystem: false,
  systemReasons: [],
  isRemovable: true,
  isReadOnly: false,
  isCard: true,
  isLoop: false,
  mountpoints: [],
  swaps: [],
  holders: [],
  deviceNumbers: ['8:16'],
  partitions: [],
  ...over,
});

const rows: StationRow[] = ['pi-a', 'pi-b', 'pi-c'].map((name, index) => ({ index, name, line: index + 2 }));

describe('station rules', () => {
  it('knows an SD card by its CID serial, a loop device by backing file and size, and a USB-reader card not at all', () => {
    expect(cardIdentity(drive({ bus: 'mmc', sd: { type: 'SD', serial: '0x1234abcd', manufacturerId: 3 } }))).toBe('cid:0x1234abcd:3');
    expect(cardIdentity(drive({ bus: 'loop', isLoop: true, loopBackingFile: '/tmp/a.img', size: 1024 }))).toBe('loop:/tmp/a.img:1024');
    expect(cardIdentity(drive({}))).toBeUndefined();
    // A slot whose partitions or mounts change (the writer's doing) still holds the same card; an emptied slot does not.
    expect(cardKey(drive({ partitions: ['sdb1'], mountpoints: ['/media/x'] }))).toBe(cardKey(drive({})));
    expect(cardKey(drive({ size: 0 }))).not.toBe(cardKey(drive({})));
  });

  it('hands out rows in file order, gives a failed card\'s row to the next card, and skips rows an earlier log finished', () => {
    const a = new RowAllocator(rows);
    a.markDoneByName(['pi-a']);
    const first = a.take()!;
    const second = a.take()!;
    expect([first.name, second.name]).toEqual(['pi-b', 'pi-c']);
    expect(a.take()).toBeUndefined();
    a.release(first, false);
    a.release(second, true);
    expect(a.left).toBe(1);
    expect(a.take()!.name).toBe('pi-b');
  });

  it('counts cards per hour from the start (at least a minute, so the first card does not read 3600/hour)', () => {
    expect(cardsPerHour(1, 0, 1000)).toBe(60);
    expect(cardsPerHour(30, 0, 1_800_000)).toBe(60);
  });

  it('a log line carries what the operator needs and an earlier log says which cards and rows are done', () => {
    const ok = logLine({ device: '/dev/sdb', ok: true, sha256: 'ab', bytesWritten: 10, serial: '0x1', identity: 'cid:0x1', row: rows[1]!, verified: true }, new Date(0));
    expect(ok).toEqual({ time: '1970-01-01T00:00:00.000Z', device: '/dev/sdb', ok: true, sha256: 'ab', bytesWritten: 10, serial: '0x1', identity: 'cid:0x1', row: { index: 1, name: 'pi-b', line: 3 }, verified: true });
    const bad = logLine({ device: '/dev/sdc', ok: false, identity: 'cid:0x2', error: { code: 'X', message: 'm' }, row: rows[2]! }, new Date(0));
    expect(doneFromLog([ok, bad])).toEqual({ identities: new Set(['cid:0x1']), rowNames: new Set(['pi-b']) });
  });
});

describe('station log file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-station-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one JSON line per card and reads them back; a torn last line (a crash) is left out', async () => {
    const file = path.join(dir, 'log.jsonl');
    const log = await StationLog.open(file);
    await log.append(logLine({ device: '/dev/sdb', ok: true, bytesWritten: 1 }, new Date(0)));
    await log.append(logLine({ device: '/dev/sdc', ok: false, bytesWritten: 0 }, new Date(0)));
    writeFileSync(file, '{"time":"x","dev', { flag: 'a' });
    expect((await readStationLog(file)).map((l) => l.device)).toEqual(['/dev/sdb', '/dev/sdc']);
  });

  it('a log that cannot be appended to is refused before the station starts', async () => {
    await expect(StationLog.open(path.join(dir, 'missing', 'log.jsonl'))).rejects.toMatchObject({ code: 'STATION_LOG_FAILED' });
  });

  it('a log that is a symbolic link, a FIFO or a device is refused, and what it points at is untouched', async () => {
    const target = path.join(dir, 'precious.txt');
    writeFileSync(target, 'keep me\n');
    const link = path.join(dir, 'link.jsonl');
    symlinkSync(target, link);
    await expect(StationLog.open(link)).rejects.toThrow(/symbolic link/);
    expect(readFileSync(target, 'utf8')).toBe('keep me\n');
    const fifo = path.join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    // Refused at once (a FIFO opened for writing would wait for a reader).
    await expect(StationLog.open(fifo)).rejects.toThrow(/FIFO/);
    await expect(StationLog.open('/dev/null')).rejects.toThrow(/not a regular file/);
  });
});

describe('bootcard flash --station: options that do not go together', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-station-cli-'));
  const image = path.join(dir, 'a.img');
  writeFileSync(image, Buffer.alloc(4096, 1));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [['--station', '--to', '/dev/sdz'], /do not name cards with --to/],
    [['--log', 'x.jsonl', '--to', '/dev/sdz'], /--log is for --station/],
    [['--station', '--lock', '--no-verify'], /--lock write-protects cards only after they verified/],
    [['--station', '--loop-dir', dir], /--loop-dir is for --include-loop/],
  ])('%j is a usage error', async (args, message) => {
    const r = await runBootcard(['flash', image, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('without --yes and nobody to answer, the station does not start', async () => {
    const r = await runBootcard(['flash', image, '--station']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Pass --yes to start without asking/);
    expect(r.stderr).not.toMatch(/Station running/);
  });
});
