/**
 * The station log: JSON Lines, one per card, appended and fsynced as each card
 * ends (so a crash or a pulled plug loses no record), one append at a time.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { BootcardError } from '../errors.js';
import { StationErrorCode, type StationLogLine } from './station-state.js';

/** The lines of an existing log; none when it does not exist yet. A line that is not JSON (a torn last line) is left out. */
export async function readStationLog(file: string): Promise<StationLogLine[]> {
  let text: string;
  let handle: fs.FileHandle;
  try {
    // As open() for appending: a link swapped in after that check is not followed (root would read any file), a FIFO does not hang.
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    const why = code === 'ELOOP' ? 'it is a symbolic link' : (error as Error).message;
    throw new BootcardError(StationErrorCode.LOG_FAILED, `Cannot read the station log ${file} (${why}); give another --log file.`);
  }
  try {
    if (!(await handle.stat()).isFile()) throw new BootcardError(StationErrorCode.LOG_FAILED, `The station log ${file} is not a regular file; give a regular file in a folder you can write.`);
    text = await handle.readFile('utf8');
  } catch (error) {
    if (BootcardError.is(error)) throw error;
    throw new BootcardError(StationErrorCode.LOG_FAILED, `Cannot read the station log ${file} (${(error as Error).message}); give another --log file.`);
  } finally {
    await handle.close();
  }
  const out: StationLogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const value = JSON.parse(line) as StationLogLine;
      if (value && typeof value === 'object' && typeof value.device === 'string') out.push(value);
    } catch {
      // a line cut short by a crash: its card is not counted as done
    }
  }
  return out;
}

export class StationLog {
  private queue: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  /** Checks now that the log can be appended to, so a bad --log fails before any card is written. */
  static async open(file: string): Promise<StationLog> {
    const handle = await openForAppend(file);
    await handle.close();
    return new StationLog(file);
  }

  append(line: StationLogLine): Promise<void> {
    const next = this.queue.then(() => appendSynced(this.file, `${JSON.stringify(line)}\n`));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Waits for every append begun so far. */
  flush(): Promise<void> {
    return this.queue;
  }
}

/**
 * A station may run as root (sudo): the log is never a link (one planted in
 * /tmp would make root append to any file), never a FIFO or device (opened
 * without blocking), only a regular file.
 */
async function openForAppend(file: string): Promise<fs.FileHandle> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'it is a symbolic link' : code === 'ENXIO' ? 'it is a FIFO' : (error as Error).message;
    throw new BootcardError(StationErrorCode.LOG_FAILED, `Cannot append to the station log ${file} (${why}); give a regular file in a folder you can write.`);
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw new BootcardError(StationErrorCode.LOG_FAILED, `The station log ${file} is not a regular file; give a regular file in a folder you can write.`);
  }
  return handle;
}

async function appendSynced(file: string, text: string): Promise<void> {
  const handle = await openForAppend(file);
  try {
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // A new file's name lives in its folder: sync that too, once is enough but it is cheap.
  const dir = await fs.open(path.dirname(file), 'r').catch(() => undefined);
  if (dir) {
    await dir.sync().catch(() => undefined);
    await dir.close();
  }
}
