/**
 * Which processes keep a card busy: the ones with a file, a working folder,
 * a root folder or a program on one of the card's file systems, or with the
 * card's device node itself open. Found from /proc by device number (st_dev of
 * what each /proc/PID/{cwd,root,exe,fd/N} points to, or st_rdev for an open
 * device node), so a name never has to be compared. Only used to say who is
 * in the way when a card cannot be unmounted or opened exclusively; processes
 * in other PID namespaces, or that only map a file, are not seen.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { deviceNumberOf } from './enumerate.io.js';

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
}

async function statNumbers(link: string): Promise<{ dev: string; rdev?: string } | undefined> {
  try {
    const stats = await fs.stat(link);
    return { dev: deviceNumberOf(stats.dev), ...(stats.isBlockDevice() ? { rdev: deviceNumberOf(stats.rdev) } : {}) };
  } catch {
    // The process exited or the descriptor was closed meanwhile, or it is not ours to see.
    return undefined;
  }
}

async function linkText(link: string): Promise<string> {
  return fs.readlink(link).catch(() => '?');
}

async function usesOf(dir: string, fileSystems: ReadonlySet<string>, nodes: ReadonlySet<string>): Promise<string | undefined> {
  const matches = (n: { dev: string; rdev?: string } | undefined) => n !== undefined && (fileSystems.has(n.dev) || (n.rdev !== undefined && nodes.has(n.rdev)));
  for (const [entry, words] of [
    ['cwd', 'works in'],
    ['root', 'has its root in'],
    ['exe', 'runs'],
  ] as const) {
    if (matches(await statNumbers(path.join(dir, entry)))) return `${words} ${await linkText(path.join(dir, entry))}`;
  }
  let fds: string[];
  try {
    fds = await fs.readdir(path.join(dir, 'fd'));
  } catch {
    return undefined;
  }
  for (const fd of fds) {
    const link = path.join(dir, 'fd', fd);
    if (matches(await statNumbers(link))) return `has ${await linkText(link)} open`;
  }
  return undefined;
}

/**
 * Processes using the file systems with the given MAJOR:MINOR numbers (a
 * mount's device number), or holding one of the device nodes `nodes` open.
 */
export async function findDeviceUsers(fileSystems: Iterable<string>, nodes: Iterable<string>, options: FindDeviceUsersOptions = {}): Promise<DeviceUser[]> {
  const proc = options.proc ?? '/proc';
  const limit = options.limit ?? 5;
  const fsSet = new Set(fileSystems);
  const nodeSet = new Set(nodes);
  const users: DeviceUser[] = [];
  let entries: string[];
  try {
    entries = await fs.readdir(proc);
  } catch {
    return users;
  }
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const dir = path.join(proc, entry);
    const uses = await usesOf(dir, fsSet, nodeSet);
    if (!uses) continue;
    const command = ((await fs.readFile(path.join(dir, 'comm'), 'utf8').catch(() => '?')) || '?').trim();
    users.push({ pid: Number(entry), command, uses });
    if (users.length >= limit) break;
  }
  return users;
}

/** "pid 1234 (bash, works in /media/card)" for a message. */
export function describeDeviceUsers(users: readonly DeviceUser[]): string {
  return users.map((u) => `pid ${u.pid} (${u.command}, ${u.uses})`).join('; ');
}
