/**
 * Reading an earlier station log (what `--log` cards were written already):
 * the log is read through a handle that follows no link and waits on no FIFO,
 * as it is opened for appending, so a link swapped in for the log between the
 * two never makes a root station read another file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readStationLog } from '../../electron/core/station/station-log.io.js';
import { logLine } from '../../electron/core/station/station-state.js';

describe('reading the station log', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-station-log-read-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a log that is a symbolic link instead of reading the file it points at', async () => {
    const elsewhere = path.join(dir, 'elsewhere.jsonl');
    writeFileSync(elsewhere, `${JSON.stringify(logLine({ device: '/dev/sdz', ok: true, bytesWritten: 1, identity: 'cid:0x1:3' }, new Date(0)))}\n`);
    const link = path.join(dir, 'log.jsonl');
    symlinkSync(elsewhere, link);
    await expect(readStationLog(link)).rejects.toMatchObject({ code: 'STATION_LOG_FAILED', message: expect.stringMatching(/symbolic link/) });
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const fifo = path.join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    await expect(readStationLog(fifo)).rejects.toMatchObject({ code: 'STATION_LOG_FAILED', message: expect.stringMatching(/not a regular file/) });
  });

  it('still reads a regular log, and a missing one is empty', async () => {
    const file = path.join(dir, 'plain.jsonl');
    writeFileSync(file, `${JSON.stringify(logLine({ device: '/dev/sdb', ok: true, bytesWritten: 1 }, new Date(0)))}\n`);
    expect((await readStationLog(file)).map((l) => l.device)).toEqual(['/dev/sdb']);
    expect(await readStationLog(path.join(dir, 'none.jsonl'))).toEqual([]);
  });
});
