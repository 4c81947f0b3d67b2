/**
 * Drive enumeration: drivelist gives the base list; sysfs and the mount table
 * say what each disk really is. Everything is read from injectable paths so
 * recorded trees can stand in for a real machine:
 *
 *   BOOTCARD_SYSFS       sysfs root (default /sys)
 *   BOOTCARD_MOUNTINFO   mount table (default /proc/self/mountinfo)
 *   BOOTCARD_SWAPS       active swap list (default /proc/swaps)
 *   BOOTCARD_LSBLK_JSON  a recorded `lsblk --bytes --all --json --paths --output-all`
 *                        to parse (with drivelist's own parser) instead of running drivelist
 *
 * mmcblk devices usually report RM=0, which drivelist reads as "system
 * drive"; here a disk is a system drive only when it (or a partition, or a
 * device stacked on it) is mounted on a system path or used as swap, or when it
 * is a fixed internal disk that is not on the MMC, USB or loop bus.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import type { Drive as DrivelistDrive } from 'drivelist';
import { BootcardError } from '../errors.js';
import { parseMountinfo, parseSwaps, type MountEntry } from './mountinfo.js';
import { busFromSysfsPath, decodeMmcAttributes, isNeverATarget, isSystemMountpoint, looksLikeCardReader } from './sysfs-facts.js';
import { DriveErrorCode, type Drive, type DriveBus, type SdCardInfo } from './types.js';

export interface EnumerationPaths {
  readonly sysfs: string;
  readonly mountinfo: string;
  readonly swaps: string;
  readonly lsblkJson?: string;
}

export function enumerationPaths(env: NodeJS.ProcessEnv = process.env): EnumerationPaths {
  return {
    sysfs: env.BOOTCARD_SYSFS || '/sys',
    mountinfo: env.BOOTCARD_MOUNTINFO || '/proc/self/mountinfo',
    swaps: env.BOOTCARD_SWAPS || '/proc/swaps',
    ...(env.BOOTCARD_LSBLK_JSON ? { lsblkJson: env.BOOTCARD_LSBLK_JSON } : {}),
  };
}

/** The drivelist fields bootcard uses from the base list. */
export type BaseDrive = Pick<DrivelistDrive, 'device' | 'description' | 'size'>;

export interface ListDrivesOptions {
  /** Also list loop devices (drivelist leaves them out). */
  readonly includeLoop?: boolean;
  /** Paths to read; default from the environment. */
  readonly paths?: Partial<EnumerationPaths>;
  /** The base list; default drivelist (or BOOTCARD_LSBLK_JSON). */
  readonly source?: () => Promise<readonly BaseDrive[]>;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function readDir(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).sort();
  } catch {
    return [];
  }
}

interface SystemTables {
  readonly mounts: readonly MountEntry[];
  readonly swaps: readonly string[];
}

async function readSystemTables(paths: EnumerationPaths): Promise<SystemTables> {
  let mountText: string;
  try {
    mountText = await fs.readFile(paths.mountinfo, 'utf8');
  } catch (error) {
    throw new BootcardError(
      DriveErrorCode.ENUMERATION_FAILED,
      `Cannot read the mount table ${paths.mountinfo} (${(error as Error).message}); without it bootcard cannot tell which drives are in use, so it lists none.`,
    );
  }
  const swapText = (await readText(paths.swaps)) ?? '';
  return { mounts: parseMountinfo(mountText), swaps: parseSwaps(swapText) };
}

async function baseList(paths: EnumerationPaths, source?: ListDrivesOptions['source']): Promise<readonly BaseDrive[]> {
  if (source) return source();
  if (paths.lsblkJson) {
    const text = await fs.readFile(paths.lsblkJson, 'utf8');
    // drivelist loads when a list is made, not with every command that imports this module (bootcard's start-up).
    const { transform } = await import('drivelist/js/lsblk/json.js');
    return transform(JSON.parse(text));
  }
  const { list } = await import('drivelist');
  try {
    return await list();
  } catch (error) {
    throw new BootcardError(DriveErrorCode.ENUMERATION_FAILED, `Listing drives failed (${(error as Error).message}). Is lsblk installed?`);
  }
}

/** Reads one whole disk from sysfs; undefined when it is not there (vanished) or is a partition. */
async function readDrive(name: string, paths: EnumerationPaths, tables: SystemTables, base?: BaseDrive): Promise<Drive | undefined> {
  const dir = path.join(paths.sysfs, 'class', 'block', name);
  if (!(await exists(path.join(dir, 'dev')))) return undefined;
  if (await exists(path.join(dir, 'partition'))) return undefined;
  const resolved = await fs.realpath(dir).catch(() => dir);
  const bus: DriveBus = busFromSysfsPath(resolved, name);
  const sectors = Number((await readText(path.join(dir, 'size'))) ?? '0');
  const size = Number.isFinite(sectors) ? sectors * 512 : 0;
  const isReadOnly = (await readText(path.join(dir, 'ro'))) === '1';
  const isRemovable = (await readText(path.join(dir, 'removable'))) === '1';
  const deviceNumber = (await readText(path.join(dir, 'dev'))) ?? '';

  const partitions: string[] = [];
  const partitionNumbers: string[] = [];
  for (const entry of await readDir(dir)) {
    if (await exists(path.join(dir, entry, 'partition'))) {
      partitions.push(entry);
      partitionNumbers.push((await readText(path.join(dir, entry, 'dev'))) ?? '');
    }
  }
  const holders = new Set<string>();
  for (const owner of [name, ...partitions]) {
    const holderDir = owner === name ? path.join(dir, 'holders') : path.join(dir, owner, 'holders');
    for (const h of await readDir(holderDir)) holders.add(h);
  }
  const holderNumbers = new Map<string, string>();
  for (const h of holders) {
    const n = await readText(path.join(paths.sysfs, 'class', 'block', h, 'dev'));
    if (n) holderNumbers.set(n, h);
  }

  const numberToName = new Map<string, string>([[deviceNumber, name]]);
  partitions.forEach((p, i) => numberToName.set(partitionNumbers[i]!, p));
  for (const [n, h] of holderNumbers) numberToName.set(n, h);

  const ownNames = new Set([name, ...partitions, ...holders]);
  // btrfs (and other multi-device file systems) show an anonymous 0:N in mountinfo's
  // device field, so the mount's source (/dev/sdb1) has to tie it to the disk.
  const sourceName = (source: string) => (source.startsWith('/dev/') && ownNames.has(path.basename(source)) ? path.basename(source) : undefined);
  const mountpoints: string[] = [];
  const systemReasons: string[] = [];
  for (const m of tables.mounts) {
    const owner = numberToName.get(m.deviceNumber) ?? sourceName(m.source);
    if (owner === undefined) continue;
    if (!mountpoints.includes(m.mountpoint)) mountpoints.push(m.mountpoint);
    if (isSystemMountpoint(m.mountpoint)) systemReasons.push(`${owner} is mounted on ${m.mountpoint}`);
  }
  const swaps = tables.swaps.filter((s) => ownNames.has(path.basename(s)) && s.startsWith('/dev/'));
  for (const s of swaps) systemReasons.push(`${path.basename(s)} is active swap`);

  let sd: SdCardInfo | undefined;
  let vendor: string | undefined;
  let model: string | undefined;
  if (bus === 'mmc') {
    const dev = path.join(dir, 'device');
    const attr = (n: string) => readText(path.join(dev, n));
    const [type, cid, csd, manfid, oemid, cardName, serial, date] = await Promise.all(
      ['type', 'cid', 'csd', 'manfid', 'oemid', 'name', 'serial', 'date'].map(attr),
    );
    sd = decodeMmcAttributes({ type, cid, csd, manfid, oemid, name: cardName, serial, date });
  } else {
    vendor = (await readText(path.join(dir, 'device', 'vendor'))) || undefined;
    model = (await readText(path.join(dir, 'device', 'model'))) || undefined;
  }
  const isLoop = bus === 'loop';
  const loopBackingFile = isLoop ? await readText(path.join(dir, 'loop', 'backing_file')) : undefined;
  if (!isLoop && bus !== 'mmc' && bus !== 'usb' && !isRemovable && systemReasons.length === 0) {
    systemReasons.push(`a fixed internal ${bus === 'other' ? '' : `${bus} `}disk`);
  }
  const isCard = (bus === 'mmc' && sd?.type === 'SD') || (bus === 'usb' && looksLikeCardReader(vendor, model));

  const description =
    (sd ? [sd.manufacturer ?? (sd.type === 'MMC' ? 'eMMC' : 'SD card'), sd.name].filter(Boolean).join(' ') : '') ||
    base?.description ||
    [vendor, model].filter(Boolean).join(' ') ||
    (isLoop ? `loop device${loopBackingFile ? ` (${loopBackingFile})` : ''}` : name);

  return {
    device: `/dev/${name}`,
    name,
    size,
    description,
    ...(vendor ? { vendor } : {}),
    ...(model ? { model } : {}),
    bus,
    isSystem: systemReasons.length > 0,
    systemReasons,
    isRemovable,
    isReadOnly,
    isCard,
    isLoop,
    ...(loopBackingFile ? { loopBackingFile } : {}),
    mountpoints,
    swaps,
    holders: [...holders],
    deviceNumbers: [deviceNumber, ...partitionNumbers],
    partitions,
    ...(sd ? { sd } : {}),
  };
}

/** Every whole disk bootcard might show: no eMMC boot/RPMB partitions, loop devices only on request. */
export async function listDrives(options: ListDrivesOptions = {}): Promise<Drive[]> {
  const paths = { ...enumerationPaths(), ...options.paths };
  const [base, tables] = await Promise.all([baseList(paths, options.source), readSystemTables(paths)]);
  const drives: Drive[] = [];
  const seen = new Set<string>();
  for (const b of base) {
    const name = path.basename(b.device);
    if (seen.has(name) || isNeverATarget(name)) continue;
    if (name.startsWith('loop') && !options.includeLoop) continue;
    seen.add(name);
    const drive = await readDrive(name, paths, tables, b);
    if (drive) drives.push(drive);
  }
  if (options.includeLoop) {
    for (const name of await readDir(path.join(paths.sysfs, 'block'))) {
      if (!name.startsWith('loop') || seen.has(name)) continue;
      const drive = await readDrive(name, paths, tables);
      if (drive && drive.size > 0) drives.push(drive);
    }
  }
  return drives;
}

export type TargetKind =
  | { readonly kind: 'drive'; readonly drive: Drive }
  | { readonly kind: 'file'; readonly path: string; readonly exists: boolean }
  | { readonly kind: 'partition'; readonly device: string; readonly disk: string }
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'other'; readonly path: string; readonly reason?: string };

/**
 * What a `--to` argument names, read fresh from sysfs and the mount table (no
 * drivelist, so the writer can re-check quickly right before it opens a device).
 * A path that does not exist yet, in an existing folder, is a new image file.
 */
export async function describeTarget(target: string, options: { paths?: Partial<EnumerationPaths> } = {}): Promise<TargetKind> {
  const paths = { ...enumerationPaths(), ...options.paths };
  let stats: Stats;
  let real: string;
  try {
    real = await fs.realpath(target);
    stats = await fs.stat(real);
  } catch {
    if (target.startsWith('/dev/')) return { kind: 'missing', path: target };
    return (await exists(path.dirname(path.resolve(target)))) ? { kind: 'file', path: path.resolve(target), exists: false } : { kind: 'missing', path: target };
  }
  if (stats.isFile()) return { kind: 'file', path: real, exists: true };
  if (!stats.isBlockDevice()) return { kind: 'other', path: target };
  const name = await nameFromDeviceNumber(paths.sysfs, stats.rdev, path.basename(real));
  if (await exists(path.join(paths.sysfs, 'class', 'block', name, 'partition'))) {
    const disk = path.basename(path.dirname(await fs.realpath(path.join(paths.sysfs, 'class', 'block', name))));
    return { kind: 'partition', device: real, disk: `/dev/${disk}` };
  }
  const drive = await readDrive(name, paths, await readSystemTables(paths));
  if (!drive) return { kind: 'missing', path: target };
  if (isNeverATarget(name)) return { kind: 'other', path: target, reason: `${target} is not a card (an eMMC boot or RPMB partition, a RAM disk or an optical drive); bootcard never writes to it.` };
  return { kind: 'drive', drive };
}

/** Linux dev_t to MAJOR:MINOR (glibc's gnu_dev_major/minor). */
export function deviceNumberOf(dev: number): string {
  const big = BigInt(dev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return `${major}:${minor}`;
}

async function nameFromDeviceNumber(sysfs: string, rdev: number, fallback: string): Promise<string> {
  const link = path.join(sysfs, 'dev', 'block', deviceNumberOf(rdev));
  try {
    return path.basename(await fs.realpath(link));
  } catch {
    return fallback;
  }
}

export type DriveEvent =
  | { readonly type: 'attach'; readonly drive: Drive }
  | { readonly type: 'detach'; readonly device: string }
  | { readonly type: 'change'; readonly drive: Drive };

/**
 * Hot-plug: polls /sys/block (cheap: names and sizes) and, when it changes,
 * lists the drives again and reports what appeared, went away or changed (a
 * card put into a reader slot changes its size from 0). Returns a stop function.
 */
export function watchDrives(
  onEvent: (event: DriveEvent) => void,
  options: ListDrivesOptions & { intervalMs?: number; onError?: (error: unknown) => void } = {},
): () => void {
  const paths = { ...enumerationPaths(), ...options.paths };
  const intervalMs = options.intervalMs ?? 1000;
  let stopped = false;
  let signature: string | undefined;
  let known = new Map<string, Drive>();
  let timer: NodeJS.Timeout | undefined;

  const snapshotSignature = async () => {
    const names = await readDir(path.join(paths.sysfs, 'block'));
    const sizes = await Promise.all(names.map((n) => readText(path.join(paths.sysfs, 'block', n, 'size'))));
    return names.map((n, i) => `${n}=${sizes[i] ?? ''}`).join(',');
  };

  const tick = async (first: boolean) => {
    try {
      const next = await snapshotSignature();
      if (next !== signature) {
        signature = next;
        const drives = await listDrives({ ...options, paths });
        const current = new Map(drives.map((d) => [d.device, d]));
        if (!first) {
          for (const [device, drive] of current) {
            const before = known.get(device);
            if (!before) onEvent({ type: 'attach', drive });
            else if (JSON.stringify(before) !== JSON.stringify(drive)) onEvent({ type: 'change', drive });
          }
          for (const device of known.keys()) if (!current.has(device)) onEvent({ type: 'detach', device });
        } else {
          for (const drive of drives) onEvent({ type: 'attach', drive });
        }
        known = current;
      }
    } catch (error) {
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => void tick(false), intervalMs);
  };
  void tick(true);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
