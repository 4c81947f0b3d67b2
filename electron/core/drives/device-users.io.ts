/**
 * Which processes keep a card busy: the ones with a file, a working folder, a
 * root folder or their program on one of the card's mounts, or with the card's
 * device node itself open. Used only to say who is in the way when a card
 * cannot be unmounted or opened exclusively.
 *
 * Nothing here stats or opens what a process points at by following it into
 * its file system: a hostile FUSE server could leave such a call hanging (and
 * with it one of root's few file threads). Instead each /proc/PID/fdinfo/N
 * gives the fd's mount ID, compared with the card's mounts (mountinfo field 1);
 * cwd, root and exe are opened O_PATH (no call into the file system) to read
 * their mount ID from our own fdinfo. Only descriptors on devtmpfs or tmpfs,
 * where device nodes live, are stat'ed, for their st_rdev. Processes in other
 * mount namespaces or PID namespaces, and files only mapped, are not seen.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cardMounts, type CardIdentity } from './card-mounts.js';
import { deviceNumberOf } from './enumerate.io.js';
import { parseMountinfo } from './mountinfo.js';

export interface DeviceUser {
  readonly pid: number;
  /** The process's command name (/proc/PID/comm). */
  readonly command: string;
  /** How it uses the card, in words: "has /media/card/notes.txt open", "works in /media/card". */
  readonly uses: string;
}

export interface FindDeviceUsersOptions {
  /** procfs root (tests); default /proc. */
  readonly proc?: string;
  /** Stop after this many processes; default 5. */
  readonly limit?: number;
  /** Give up (with what was found) after this long; default 2000 ms. */
  readonly timeoutMs?: number;
}

/** Linux's O_PATH (the same number on every architecture bootcard ships for); Node does not export it. */
const O_PATH = 0o10000000;

/** File systems whose nodes can be stat'ed without any user-space server answering. */
const NODE_FILE_SYSTEMS = new Set(['devtmpfs', 'tmpfs']);

interface Watch {
  readonly cardMountIds: ReadonlySet<number>;
  readonly nodeMountIds: ReadonlySet<number>;
  readonly nodes: ReadonlySet<string>;
}

function mountIdIn(fdinfo: string): number | undefined {
  const match = /^mnt_id:\s*(\d+)$/m.exec(fdinfo);
  return match ? Number(match[1]) : undefined;
}

async function watchFor(card: CardIdentity): Promise<Watch> {
  // Our own mount namespace's table: mount IDs are unique system-wide, so a process elsewhere never matches by accident.
  const text = await fs.readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const cardMountIds = new Set<number>();
  const nodeMountIds = new Set<number>();
  for (const line of text.split('\n')) {
    const [mount] = parseMountinfo(line);
    if (!mount) continue;
    const id = Number(line.split(' ')[0]);
    if (cardMounts([mount], card).length > 0) cardMountIds.add(id);
    if (NODE_FILE_SYSTEMS.has(mount.fstype)) nodeMountIds.add(id);
  }
  return { cardMountIds, nodeMountIds, nodes: new Set(card.deviceNumbers) };
}

async function linkText(link: string): Promise<string> {
  return fs.readlink(link).catch(() => '?');
}

/** The mount ID of what a /proc/PID/{cwd,root,exe} link points at, without asking that file system anything. */
async function mountIdOfLink(link: string): Promise<number | undefined> {
  let handle: fs.FileHandle | undefined;
  try {
    // (libuv adds O_CLOEXEC itself.)
    handle = await fs.open(link, O_PATH);
    return mountIdIn(await fs.readFile(`/proc/self/fdinfo/${handle.fd}`, 'utf8'));
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function holdsNode(link: string, watch: Watch): Promise<boolean> {
  try {
    const stats = await fs.stat(link);
    return stats.isBlockDevice() && watch.nodes.has(deviceNumberOf(stats.rdev));
  } catch {
    return false;
  }
}

async function usesOf(dir: string, watch: Watch): Promise<string | undefined> {
  for (const [entry, words] of [
    ['cwd', 'works in'],
    ['root', 'has its root in'],
    ['exe', 'runs'],
  ] as const) {
    const id = await mountIdOfLink(path.join(dir, entry));
    if (id !== undefined && watch.cardMountIds.has(id)) return `${words} ${await linkText(path.join(dir, entry))}`;
  }
  let fds: string[];
  try {
    fds = await fs.readdir(path.join(dir, 'fdinfo'));
  } catch {
    // Gone meanwhile, or not ours to see.
    return undefined;
  }
  for (const fd of fds) {
    const id = mountIdIn(await fs.readFile(path.join(dir, 'fdinfo', fd), 'utf8').catch(() => ''));
    if (id === undefined) continue;
    const link = path.join(dir, 'fd', fd);
    if (watch.cardMountIds.has(id) || (watch.nodeMountIds.has(id) && (await holdsNode(link, watch)))) return `has ${await linkText(link)} open`;
  }
  return undefined;
}

/** Processes using the card's mounts or holding one of its device nodes open (at most `limit`, within `timeoutMs`). */
export async function findDeviceUsers(card: CardIdentity, options: FindDeviceUsersOptions = {}): Promise<DeviceUser[]> {
  const proc = options.proc ?? '/proc';
  const limit = options.limit ?? 5;
  const users: DeviceUser[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 2000);
  const watch = await watchFor(card);
  let entries: string[];
  try {
    entries = await fs.readdir(proc);
  } catch {
    return users;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    if (users.length >= limit || Date.now() > deadline) break;
    const dir = path.join(proc, entry);
    const uses = await usesOf(dir, watch);
    if (!uses) continue;
    const command = ((await fs.readFile(path.join(dir, 'comm'), 'utf8').catch(() => '?')) || '?').trim();
    users.push({ pid: Number(entry), command, uses });
  }
  return users;
}

/** "pid 1234 (bash, works in /media/card)" for a message. */
export function describeDeviceUsers(users: readonly DeviceUser[]): string {
  return users.map((u) => `pid ${u.pid} (${u.command}, ${u.uses})`).join('; ');
}
