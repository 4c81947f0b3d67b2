/**
 * Extracts an ext4 file system from an image file into a folder without
 * mounting it, keeping owners, modes (set-uid included), symbolic and hard
 * links, device nodes, FIFOs and extended attributes (file capabilities are
 * the `security.capability` attribute).
 *
 * It drives e2fsprogs' debugfs, which reads ext4 from a file at an offset
 * (`FILE?offset=N`): e2fsprogs is the ext4 reference implementation, on every
 * Linux server, and reads every ext4 feature Raspberry Pi OS uses (extents,
 * 64bit, metadata_csum, inline data); no maintained npm ext4 reader does.
 * debugfs's `rdump` writes the files' bytes in one pass; it skips device
 * nodes, copies hard links twice, sets no xattrs and (chmod before chown)
 * loses set-uid bits, so bootcard lists every inode (`ls -l -p`, a folder
 * level per debugfs run) and then fixes each entry itself: chown before
 * chmod, hard links re-made, device nodes and FIFOs made with mknod, and the
 * xattrs, read with `ea_list`/`ea_get`, set last with `setfattr --restore`
 * (chown clears capabilities, so they must come after it).
 *
 * The destination must be a new, empty folder only this process writes to:
 * paths come from the image, and bootcard never descends into an image
 * symlink, so every folder it touches under the destination is one rdump made.
 */
import type { ExtractSummary } from './tree-result.js';
import { spawn } from 'node:child_process';
import { chmod, link, lchown, mkdtemp, open, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, CommonErrorCode } from '../errors.js';
import { NetbootErrorCode } from './errors.js';

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const ROOT_INODE = 2;
const FIX_BATCH = 64;

export interface Ext4Entry {
  /** Relative path under the file system's root, `/`-separated ('' for the root). */
  readonly path: string;
  readonly inode: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

export type { ExtractSummary } from './tree-result.js';

interface Ext4Source {
  /** The image file (opened by the caller, passed to debugfs as fd 3). */
  readonly fd: number;
  readonly offset: number;
  /** Aborting kills the running debugfs (or mknod, setfattr). */
  readonly signal?: AbortSignal | undefined;
}

function cancelled(): BootcardError {
  return new BootcardError(CommonErrorCode.CANCELLED, 'Cancelled while extracting the root file system; the Pi folders were left as they were.');
}

function extractError(message: string, details?: Record<string, unknown>): BootcardError {
  return new BootcardError(NetbootErrorCode.EXTRACT_FAILED, message, details);
}

/** Runs debugfs read-only on the source with these commands; resolves with its stdout (latin1: bytes kept 1:1). */
function debugfs(source: Ext4Source, commands: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('debugfs', ['-f', '-', `/dev/fd/3?offset=${source.offset}`], { stdio: ['pipe', 'pipe', 'pipe', source.fd], signal: source.signal, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      // A cancel kills the child: 'close' follows once it is gone, and answers then (no process left behind).
      if (source.signal?.aborted && child.pid !== undefined) return;
      reject(
        error.code === 'ENOENT'
          ? extractError('debugfs is missing: install e2fsprogs (apt install e2fsprogs) to extract the root file system.')
          : extractError(`debugfs failed: ${error.message}`),
      );
    });
    child.on('close', (code) => {
      if (source.signal?.aborted) return reject(cancelled());
      // debugfs reports a failed command on stderr and goes on; a file system it cannot open is the fatal case.
      if (code !== 0 || /while (opening|trying to open) filesystem/i.test(stderr) || /Bad magic number/i.test(stderr)) {
        reject(extractError(`debugfs could not read the image's root file system: ${stderr.trim().split('\n').slice(-3).join(' ')}`));
      } else resolve(Buffer.concat(out).toString('latin1'));
    });
    child.stdin!.end(`${commands.join('\n')}\n`);
  });
}

/** Splits debugfs -f output into each command's output, keyed by the command line it echoed. */
function outputsByCommand(output: string): Map<string, string> {
  const map = new Map<string, string>();
  let current: string | null = null;
  let lines: string[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('debugfs: ')) {
      if (current !== null) map.set(current, lines.join('\n'));
      current = line.slice('debugfs: '.length);
      lines = [];
    } else lines.push(line);
  }
  if (current !== null) map.set(current, lines.join('\n'));
  return map;
}

const LS_LINE_RE = /^\/(\d+)\/([0-7]+)\/(\d+)\/(\d+)\/(.*)\/(\d*)\/$/;

function decodeName(latin1: string, folder: string): string {
  const bytes = Buffer.from(latin1, 'latin1');
  const name = bytes.toString('utf8');
  if (!Buffer.from(name, 'utf8').equals(bytes) || name.includes('/') || name.includes('\0') || name.length === 0) {
    throw new BootcardError(NetbootErrorCode.UNSAFE_PATH, `The image's root has a file name in /${folder} that is not UTF-8 text; bootcard cannot copy it faithfully.`, { folder });
  }
  return name;
}

/** Every inode of the file system, parents before children. */
export async function listExt4(source: Ext4Source): Promise<Ext4Entry[]> {
  const rootStat = await debugfs(source, [`ls -l -p <${ROOT_INODE}>`]);
  const rootLine = rootStat.split('\n').map((l) => LS_LINE_RE.exec(l)).find((m) => m && m[5] === '.');
  if (!rootLine) throw extractError('debugfs could not list the root folder of the image.');
  const entries: Ext4Entry[] = [{ path: '', inode: ROOT_INODE, mode: parseInt(rootLine[2]!, 8), uid: Number(rootLine[3]), gid: Number(rootLine[4]) }];
  let level: Ext4Entry[] = [entries[0]!];
  const seenFolders = new Set<number>([ROOT_INODE]);
  while (level.length > 0) {
    const output = outputsByCommand(await debugfs(source, level.map((d) => `ls -l -p <${d.inode}>`)));
    const next: Ext4Entry[] = [];
    for (const folder of level) {
      const text = output.get(`ls -l -p <${folder.inode}>`);
      if (text === undefined) throw extractError(`debugfs did not list /${folder.path}.`);
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const m = LS_LINE_RE.exec(line);
        if (!m) {
          throw new BootcardError(NetbootErrorCode.UNSAFE_PATH, `The image's root has a file name in /${folder.path} that bootcard cannot read safely (a line break in a name?).`, { folder: folder.path });
        }
        // Unused slots of a folder (lost+found is made of them) list as inode 0 with no name.
        if (m[1] === '0') continue;
        const name = decodeName(m[5]!, folder.path);
        if (name === '.' || name === '..') continue;
        const entry: Ext4Entry = { path: folder.path ? `${folder.path}/${name}` : name, inode: Number(m[1]), mode: parseInt(m[2]!, 8), uid: Number(m[3]), gid: Number(m[4]) };
        entries.push(entry);
        if ((entry.mode & S_IFMT) === S_IFDIR) {
          if (seenFolders.has(entry.inode)) throw extractError(`The folder /${entry.path} loops back to another folder: the image's file system is damaged (run e2fsck on it).`);
          seenFolders.add(entry.inode);
          next.push(entry);
        }
      }
    }
    level = next;
  }
  return entries;
}

async function deviceNumbers(source: Ext4Source, inodes: readonly number[]): Promise<Map<number, { major: number; minor: number }>> {
  const map = new Map<number, { major: number; minor: number }>();
  if (inodes.length === 0) return map;
  const output = outputsByCommand(await debugfs(source, inodes.map((i) => `stat <${i}>`)));
  for (const inode of inodes) {
    const m = /Device major\/minor number: (\d+):(\d+)/.exec(output.get(`stat <${inode}>`) ?? '');
    if (!m) throw extractError(`debugfs did not report the device numbers of inode ${inode}.`);
    map.set(inode, { major: Number(m[1]), minor: Number(m[2]) });
  }
  return map;
}

function run(command: string, args: readonly string[], options: { cwd?: string; signal?: AbortSignal | undefined } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: options.cwd, signal: options.signal, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (options.signal?.aborted && child.pid !== undefined) return; // answered on 'close', once it is gone
      reject(error);
    });
    child.on('close', (code) => (options.signal?.aborted ? reject(cancelled()) : code === 0 ? resolve() : reject(extractError(`${command} failed: ${stderr.trim() || `exit ${code}`}`))));
  });
}

/** getfattr's dump format escapes bytes outside a safe set as \ooo; setfattr --restore reads it back. */
function escapeDumpPath(relative: string): string {
  let out = '';
  for (const byte of Buffer.from(relative, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9._\/+,:@-]/.test(c) ? c : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

async function restoreXattrs(source: Ext4Source, dest: string, entries: readonly Ext4Entry[], scratch: string): Promise<number> {
  const candidates = entries.filter((e) => [S_IFDIR, S_IFREG].includes(e.mode & S_IFMT));
  const byInode = new Map<number, Ext4Entry>();
  for (const e of candidates) if (!byInode.has(e.inode)) byInode.set(e.inode, e);
  const listed = outputsByCommand(await debugfs(source, [...byInode.keys()].map((i) => `ea_list <${i}>`)));
  const wanted: { entry: Ext4Entry; name: string; file: string }[] = [];
  for (const [inode, entry] of byInode) {
    const text = listed.get(`ea_list <${inode}>`) ?? '';
    for (const line of text.split('\n')) {
      const m = /^ {2}(\S+) \((\d+)\)/.exec(line);
      if (m && /^[A-Za-z0-9._-]+$/.test(m[1]!)) wanted.push({ entry, name: m[1]!, file: path.join(scratch, `xattr-${wanted.length}`) });
    }
  }
  if (wanted.length === 0) return 0;
  await debugfs(source, wanted.map((w) => `ea_get -f "${w.file}" <${w.entry.inode}> ${w.name}`));
  let dump = '';
  for (const w of wanted) {
    let value: Buffer;
    try {
      value = await readFile(w.file);
    } catch {
      throw extractError(`debugfs could not read the extended attribute ${w.name} of /${w.entry.path}.`);
    }
    dump += `# file: ${escapeDumpPath(w.entry.path || '.')}\n${w.name}=0s${value.toString('base64')}\n\n`;
  }
  const dumpFile = path.join(scratch, 'xattrs.dump');
  await writeFile(dumpFile, dump, { mode: 0o600 });
  try {
    await run('setfattr', ['-h', `--restore=${dumpFile}`], { cwd: dest, signal: source.signal });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw extractError('setfattr is missing: install attr (apt install attr) to copy extended attributes and file capabilities.');
    throw error;
  }
  return wanted.length;
}

/**
 * Extracts the ext4 file system at `offset` in `image` into `dest` (an empty
 * folder this process made). Must run as root to keep owners and capabilities.
 */
export async function extractExt4(image: string, offset: number, dest: string, signal?: AbortSignal): Promise<ExtractSummary> {
  if (/["\\\n]/.test(dest)) throw new BootcardError(NetbootErrorCode.UNSAFE_PATH, `bootcard cannot extract into ${JSON.stringify(dest)}: choose a folder whose path has no quote, backslash or line break.`, { dest });
  const handle = await open(image, 'r');
  const scratch = await mkdtemp(path.join(path.dirname(dest), '.bootcard-xattrs-'));
  try {
    const source: Ext4Source = { fd: handle.fd, offset, signal };
    const entries = await listExt4(source);
    const dumped = await debugfs(source, [`rdump / "${dest}"`]);
    if (/rdump: /.test(dumped)) throw extractError(`debugfs could not copy the files: ${dumped.trim().slice(0, 500)}`);
    const devices = await deviceNumbers(
      source,
      entries.filter((e) => [S_IFCHR, S_IFBLK].includes(e.mode & S_IFMT)).map((e) => e.inode),
    );
    // Which path of each hard-linked inode rdump's copy stays (the first listed); the others become links to it.
    const firstPath = new Map<number, string>();
    const linkTo = new Map<Ext4Entry, string>();
    for (const entry of entries) {
      if ((entry.mode & S_IFMT) !== S_IFREG) continue;
      const first = firstPath.get(entry.inode);
      if (first === undefined) firstPath.set(entry.inode, entry.path);
      else linkTo.set(entry, first);
    }
    let skippedSockets = 0;
    const fix = async (entry: Ext4Entry): Promise<void> => {
      const target = path.join(dest, entry.path);
      const type = entry.mode & S_IFMT;
      if (type === S_IFLNK) return lchown(target, entry.uid, entry.gid);
      if (type === S_IFSOCK) {
        skippedSockets++;
        return;
      }
      const first = linkTo.get(entry);
      if (first !== undefined) {
        await unlink(target);
        await link(path.join(dest, first), target);
        return;
      }
      if (type === S_IFCHR || type === S_IFBLK || type === S_IFIFO) {
        await rm(target, { force: true });
        const numbers = devices.get(entry.inode);
        const args = type === S_IFIFO ? [target, 'p'] : [target, type === S_IFCHR ? 'c' : 'b', String(numbers!.major), String(numbers!.minor)];
        await run('mknod', ['-m', '0600', ...args], { signal });
      }
      // chown first: it clears set-uid and set-gid bits, which chmod then sets.
      await lchown(target, entry.uid, entry.gid);
      await chmod(target, entry.mode & 0o7777);
    };
    // Each entry's fix touches only its own path, so many run at once (libuv's threads do the system calls).
    for (let at = 0; at < entries.length; at += FIX_BATCH) {
      if (signal?.aborted) throw cancelled();
      // allSettled: on a failure nothing of this batch is still running when the caller cleans up.
      const failure = (await Promise.allSettled(entries.slice(at, at + FIX_BATCH).map(fix))).find((r) => r.status === 'rejected');
      if (failure) throw failure.reason;
    }
    const hardLinks = linkTo.size;
    const xattrs = await restoreXattrs(source, dest, entries, scratch);
    return { entries: entries.length, hardLinks, devices: devices.size, xattrs, skippedSockets };
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await handle.close();
  }
}
