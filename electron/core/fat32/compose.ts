/**
 * Composes a whole card image in memory: an MBR with one partition, and in it
 * a FAT32 file system holding the given files. Nothing is mounted and no mkfs
 * runs, so it needs no root and gives the same bytes for the same inputs.
 *
 * FAT32 boot sector (sector 0 of the partition; a copy in sector 6):
 *   0x00 jump EB 58 90      0x03 OEM name "BOOTCARD"   0x0B bytes/sector 512
 *   0x0D sectors/cluster    0x0E reserved sectors      0x10 FAT count 2
 *   0x11 root entries 0     0x13 total sectors (16) 0  0x15 media F8
 *   0x16 FAT size (16) 0    0x18 sectors/track         0x1A heads
 *   0x1C hidden sectors = partition's first LBA         0x20 total sectors (32)
 *   0x24 sectors per FAT    0x28 flags 0               0x2A version 0.0
 *   0x2C root cluster 2     0x30 FSInfo sector 1       0x32 backup boot sector 6
 *   0x40 drive number 0x80  0x42 extended signature 0x29
 *   0x43 volume ID          0x47 volume label (11)     0x52 "FAT32   "
 *   0x5A boot code: `int 18h` (no bootable OS: let the BIOS try the next device)
 *   0x1FE 55 AA
 * FSInfo (sector 1): "RRaA" at 0, "rrAa" at 0x1E4, free cluster count at 0x1E8,
 *   next free cluster hint at 0x1EC, 00 00 55 AA at 0x1FC.
 * FAT: entry 0 = 0x0FFFFF00 | media, entry 1 = 0x0FFFFFFF (clean, no errors),
 *   then one 32-bit entry per cluster: next cluster, or 0x0FFFFFFF at the end.
 *
 * Layout: folders and files get consecutive clusters in a depth-first walk
 * (root folder first, in cluster 2), names sorted, so every file is one
 * unfragmented run.
 *
 * The sparse image carries data ranges and zero ranges (regions that must read
 * as zero on the card, see image/sparse-image.ts):
 * - the MBR (sector 0) as data, and the 33 sectors after it as a zero range, so
 *   that a stale GPT header and table on a reused card cannot win over the new
 *   table;
 * - the reserved sectors and both FATs, split by sector: runs of all-zero
 *   sectors of at least MIN_ZERO_RUN_BYTES become zero ranges, the rest data
 *   (the boot sectors, FSInfo, and the FAT sectors that hold cluster chains).
 *   The FATs' unused entries must be zero on the card, because on a reused card
 *   a FAT left to the old contents would point into old files; but they need
 *   not be written where the card already reads zero;
 * - the data area from cluster 2 to the end of the last used cluster (folders
 *   and files) as data.
 * Adjacent data runs are coalesced. Free data clusters are left alone: nothing
 * refers to them.
 */
import { BootcardError } from '../errors.js';
import { SECTOR_SIZE, type ImageRange, type SparseImage, type ZeroRange } from '../image/sparse-image.js';
import { crc32 } from './crc32.js';
import { toDosTimestamp } from './dos-time.js';
import { FatErrorCode } from './errors.js';
import {
  FAT32_BACKUP_BOOT_SECTOR,
  FAT32_FSINFO_SECTOR,
  FAT32_MEDIA_FIXED_DISK,
  FAT32_ROOT_CLUSTER,
  fat32Geometry,
  type Fat32Geometry,
} from './geometry.js';
import { buildMbr } from './mbr.js';
import { DIR_ENTRY_SIZE, chooseShortName, lfnEntryCount, shortNameBytes, validateLongName, writeLfnEntries } from './names.js';

/** Where the partition starts by default: 4 MiB, the SD Association's erase-block alignment. */
export const DEFAULT_PARTITION_OFFSET = 4 * 1024 * 1024;
/** Sectors zeroed at the start of the card: the MBR and the area a GPT header and entry table would use. */
export const CARD_HEADER_SECTORS = 34;
/** Timestamp of files when neither the inputs nor the caller give one: 1980-01-01 00:00:00 UTC. */
export const FAT_DEFAULT_TIMESTAMP = 315532800;
export const FAT32_EOC = 0x0fffffff;
const FAT_ENTRY_0 = 0x0fffff00 | FAT32_MEDIA_FIXED_DISK;
/** FAT32 stores file sizes in 32 bits. */
const FAT32_MAX_FILE_SIZE = 0xffffffff;
const ATTR_VOLUME_ID = 0x08;
const ATTR_DIRECTORY = 0x10;
const ATTR_ARCHIVE = 0x20;
/** A folder can hold at most 65,536 32-byte entries (2 MiB). */
const MAX_DIR_ENTRIES = 65536;
const OEM_NAME = 'BOOTCARD';
/** All-zero metadata runs at least this long become zero ranges; shorter ones stay in the data (fewer, larger writes). */
export const MIN_ZERO_RUN_BYTES = 4096;
const NO_NAME_LABEL = 'NO NAME';

export interface FatFileInput {
  /** Path inside the file system, `/`-separated, no leading `/` (e.g. `overlays/miniuart-bt.dtbo`). */
  readonly path: string;
  /** The file's bytes; omit for an (empty) folder. */
  readonly data?: Uint8Array;
  /** True for a folder entry (folders of files are created implicitly). */
  readonly directory?: boolean;
  /** Modification time, Unix seconds; defaults to the volume timestamp. */
  readonly mtime?: number;
}

export interface ComposeFat32Options {
  readonly files: readonly FatFileInput[];
  /** Partition size in bytes (a multiple of 512). */
  readonly partitionSize: number;
  /** MBR partition type byte (0x0c FAT32 LBA, 0xef EFI system). */
  readonly partitionType: number;
  /** Partition start in bytes; default 4 MiB. */
  readonly partitionOffset?: number;
  /** Total image size; default partition start + size. */
  readonly imageSize?: number;
  /** Volume label, up to 11 characters. */
  readonly label?: string;
  /** Unix seconds for folders and files without an mtime; default the newest input mtime, else 1980-01-01. */
  readonly timestamp?: number;
  /** Volume serial number; default derived from the inputs. */
  readonly volumeId?: number;
}

export interface Fat32Summary {
  readonly geometry: Fat32Geometry;
  readonly partitionOffset: number;
  readonly partitionSize: number;
  readonly partitionType: number;
  readonly volumeId: number;
  readonly label: string;
  readonly usedClusters: number;
  readonly freeClusters: number;
  readonly fileCount: number;
  readonly directoryCount: number;
}

export interface Fat32Image extends SparseImage {
  readonly fat: Fat32Summary;
}

interface FileNode {
  readonly kind: 'file';
  readonly name: string;
  readonly data: Uint8Array;
  readonly mtime: number;
  firstCluster: number;
}

interface DirNode {
  readonly kind: 'dir';
  readonly name: string;
  readonly mtime: number;
  readonly children: Map<string, Node>;
  firstCluster: number;
  clusters: number;
  entries: { node: Node; short: Uint8Array; caseFlags: number; needsLfn: boolean }[];
}

type Node = FileNode | DirNode;

const foldKey = (name: string) => name.toUpperCase();

function normaliseLabel(label: string | undefined): string {
  const text = (label ?? '').toUpperCase();
  if (text.length === 0) return NO_NAME_LABEL;
  if (text.length > 11 || !/^[A-Z0-9!#$%&'()\-@^_`{}~][A-Z0-9 !#$%&'()\-@^_`{}~]*$/.test(text)) {
    throw new BootcardError(
      FatErrorCode.INVALID_LABEL,
      `The volume label "${label}" cannot be used: up to 11 letters, digits, spaces or ! # $ % & ' ( ) - @ ^ _ \` { } ~, not starting with a space.`,
    );
  }
  return text;
}

function buildTree(files: readonly FatFileInput[], timestamp: number): { root: DirNode; fileCount: number; dirCount: number } {
  const root: DirNode = { kind: 'dir', name: '', mtime: timestamp, children: new Map(), firstCluster: FAT32_ROOT_CLUSTER, clusters: 0, entries: [] };
  let fileCount = 0;
  let dirCount = 0;
  for (const file of files) {
    const parts = file.path.split('/');
    parts.forEach((part) => validateLongName(part, file.path));
    let dir = root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      const last = i === parts.length - 1;
      const existing = dir.children.get(foldKey(name));
      const wantsDir = !last || file.directory === true;
      if (existing) {
        if (existing.kind === 'dir' && wantsDir && (!last || existing.name === name)) {
          dir = existing;
          continue;
        }
        throw new BootcardError(
          FatErrorCode.DUPLICATE_NAME,
          `"${file.path}" clashes with another entry named "${existing.name}": FAT names are case-insensitive and must be unique in a folder.`,
          { path: file.path },
        );
      }
      if (wantsDir) {
        const child: DirNode = { kind: 'dir', name, mtime: last && file.mtime !== undefined ? file.mtime : timestamp, children: new Map(), firstCluster: 0, clusters: 0, entries: [] };
        dir.children.set(foldKey(name), child);
        dirCount++;
        dir = child;
      } else {
        if ((file.data?.length ?? 0) > FAT32_MAX_FILE_SIZE) {
          throw new BootcardError(FatErrorCode.FILE_TOO_LARGE, `"${file.path}" is 4 GiB or larger: FAT32 cannot hold it.`, { path: file.path });
        }
        dir.children.set(foldKey(name), { kind: 'file', name, data: file.data ?? new Uint8Array(0), mtime: file.mtime ?? timestamp, firstCluster: 0 });
        fileCount++;
      }
    }
  }
  return { root, fileCount, dirCount };
}

const byName = (a: Node, b: Node) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Chooses short names and sizes every folder; returns the clusters the tree needs. */
function planDirectory(dir: DirNode, isRoot: boolean, bytesPerCluster: number, path: string): void {
  const taken = new Set<string>(['.          ', '..         ']);
  let slots = isRoot ? 1 : 2;
  for (const node of [...dir.children.values()].sort(byName)) {
    const choice = chooseShortName(node.name, taken);
    dir.entries.push({ node, short: choice.short, caseFlags: choice.caseFlags, needsLfn: choice.needsLfn });
    slots += 1 + (choice.needsLfn ? lfnEntryCount(node.name) : 0);
  }
  if (slots > MAX_DIR_ENTRIES) {
    throw new BootcardError(FatErrorCode.DIRECTORY_FULL, `The folder "${path || '/'}" has too many entries for FAT (at most ${MAX_DIR_ENTRIES} slots, long names take several).`, { path });
  }
  dir.clusters = Math.max(1, Math.ceil((slots * DIR_ENTRY_SIZE) / bytesPerCluster));
  for (const e of dir.entries) if (e.node.kind === 'dir') planDirectory(e.node, false, bytesPerCluster, `${path}/${e.node.name}`);
}

function allocate(dir: DirNode, next: number, bytesPerCluster: number): number {
  dir.firstCluster = next;
  next += dir.clusters;
  for (const e of dir.entries) {
    if (e.node.kind === 'dir') next = allocate(e.node, next, bytesPerCluster);
    else if (e.node.data.length > 0) {
      e.node.firstCluster = next;
      next += Math.ceil(e.node.data.length / bytesPerCluster);
    }
  }
  return next;
}

function writeShortEntry(
  buf: Uint8Array,
  at: number,
  short: Uint8Array,
  attributes: number,
  caseFlags: number,
  mtime: number,
  cluster: number,
  size: number,
): void {
  const view = new DataView(buf.buffer, buf.byteOffset + at, DIR_ENTRY_SIZE);
  buf.set(short, at);
  const ts = toDosTimestamp(mtime);
  view.setUint8(11, attributes);
  view.setUint8(12, caseFlags);
  view.setUint8(13, ts.centiseconds);
  view.setUint16(14, ts.time, true);
  view.setUint16(16, ts.date, true);
  view.setUint16(18, ts.date, true);
  view.setUint16(20, cluster >>> 16, true);
  view.setUint16(22, ts.time, true);
  view.setUint16(24, ts.date, true);
  view.setUint16(26, cluster & 0xffff, true);
  view.setUint32(28, size, true);
}

function deriveVolumeId(options: ComposeFat32Options, label: string, timestamp: number): number {
  const encoder = new TextEncoder();
  let crc = crc32(encoder.encode(`${options.partitionSize}|${options.partitionType}|${label}|${timestamp}`));
  const sorted = [...options.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of sorted) {
    crc = crc32(encoder.encode(`\n${f.path}|${f.directory ? 'd' : (f.data?.length ?? 0)}|${f.mtime ?? ''}`), crc);
    if (f.data) crc = crc32(f.data, crc);
  }
  return crc;
}

/**
 * The partition's bytes as alternating spans: all-zero sector runs of at least
 * MIN_ZERO_RUN_BYTES inside the metadata (before `metadataEnd`) are zero spans,
 * everything else (and all of the data area) is data; adjacent spans of one
 * kind are merged.
 */
function splitMetadata(part: Uint8Array, metadataEnd: number): { start: number; end: number; zero: boolean }[] {
  const words = new Uint32Array(part.buffer, part.byteOffset, metadataEnd / 4);
  const sectorIsZero = (sector: number) => {
    for (let i = (sector * SECTOR_SIZE) / 4, end = i + SECTOR_SIZE / 4; i < end; i++) if (words[i] !== 0) return false;
    return true;
  };
  const spans: { start: number; end: number; zero: boolean }[] = [];
  const push = (start: number, end: number, zero: boolean) => {
    const last = spans.at(-1);
    if (last && last.zero === zero && last.end === start) last.end = end;
    else spans.push({ start, end, zero });
  };
  const sectors = metadataEnd / SECTOR_SIZE;
  for (let s = 0; s < sectors; ) {
    let e = s;
    const zero = sectorIsZero(s);
    while (e < sectors && sectorIsZero(e) === zero) e++;
    push(s * SECTOR_SIZE, e * SECTOR_SIZE, zero && (e - s) * SECTOR_SIZE >= MIN_ZERO_RUN_BYTES);
    s = e;
  }
  push(metadataEnd, part.length, false);
  return spans;
}

export function composeFat32Image(options: ComposeFat32Options): Fat32Image {
  const partitionOffset = options.partitionOffset ?? DEFAULT_PARTITION_OFFSET;
  const imageSize = options.imageSize ?? partitionOffset + options.partitionSize;
  if (partitionOffset % SECTOR_SIZE !== 0 || partitionOffset < CARD_HEADER_SECTORS * SECTOR_SIZE) {
    throw new BootcardError(FatErrorCode.INVALID_LAYOUT, `The partition must start on a sector boundary after the first ${CARD_HEADER_SECTORS} sectors.`);
  }
  if (imageSize % SECTOR_SIZE !== 0 || partitionOffset + options.partitionSize > imageSize) {
    throw new BootcardError(FatErrorCode.INVALID_LAYOUT, `The partition (${options.partitionSize} bytes at ${partitionOffset}) does not fit in the ${imageSize}-byte image.`);
  }
  const geometry = fat32Geometry(options.partitionSize);
  const label = normaliseLabel(options.label);
  const newest = options.files.reduce<number | undefined>((max, f) => (f.mtime !== undefined && (max === undefined || f.mtime > max) ? f.mtime : max), undefined);
  const timestamp = options.timestamp ?? newest ?? FAT_DEFAULT_TIMESTAMP;
  const { root, fileCount, dirCount } = buildTree(options.files, timestamp);
  const cb = geometry.bytesPerCluster;
  planDirectory(root, true, cb, '');
  const end = allocate(root, FAT32_ROOT_CLUSTER, cb);
  const usedClusters = end - FAT32_ROOT_CLUSTER;
  if (usedClusters > geometry.clusterCount) {
    const need = usedClusters * cb;
    const have = geometry.clusterCount * cb;
    throw new BootcardError(
      FatErrorCode.NO_SPACE,
      `The files need ${Math.ceil(need / 1048576)} MiB but the ${Math.floor(options.partitionSize / 1048576)} MiB partition holds ${Math.floor(have / 1048576)} MiB: choose a larger size.`,
      { neededBytes: need, availableBytes: have },
    );
  }
  const volumeId = options.volumeId ?? deriveVolumeId(options, label, timestamp);
  const firstLba = partitionOffset / SECTOR_SIZE;

  const part = new Uint8Array(geometry.dataStartSector * SECTOR_SIZE + usedClusters * cb);
  const view = new DataView(part.buffer);

  // Boot sector.
  part.set([0xeb, 0x58, 0x90], 0);
  part.set(new TextEncoder().encode(OEM_NAME), 3);
  view.setUint16(0x0b, SECTOR_SIZE, true);
  view.setUint8(0x0d, geometry.sectorsPerCluster);
  view.setUint16(0x0e, geometry.reservedSectors, true);
  view.setUint8(0x10, geometry.fatCount);
  view.setUint8(0x15, FAT32_MEDIA_FIXED_DISK);
  view.setUint16(0x18, geometry.sectorsPerTrack, true);
  view.setUint16(0x1a, geometry.heads, true);
  view.setUint32(0x1c, firstLba, true);
  view.setUint32(0x20, geometry.totalSectors, true);
  view.setUint32(0x24, geometry.fatSectors, true);
  view.setUint32(0x2c, FAT32_ROOT_CLUSTER, true);
  view.setUint16(0x30, FAT32_FSINFO_SECTOR, true);
  view.setUint16(0x32, FAT32_BACKUP_BOOT_SECTOR, true);
  view.setUint8(0x40, 0x80);
  view.setUint8(0x42, 0x29);
  view.setUint32(0x43, volumeId, true);
  part.set(shortNameBytes(label.slice(0, 8), label.slice(8)), 0x47);
  part.set(new TextEncoder().encode('FAT32   '), 0x52);
  part.set([0xcd, 0x18, 0xeb, 0xfe], 0x5a);
  part.set([0x55, 0xaa], 0x1fe);
  part.copyWithin(FAT32_BACKUP_BOOT_SECTOR * SECTOR_SIZE, 0, SECTOR_SIZE);

  // FSInfo.
  const fsinfo = FAT32_FSINFO_SECTOR * SECTOR_SIZE;
  view.setUint32(fsinfo, 0x41615252, true);
  view.setUint32(fsinfo + 0x1e4, 0x61417272, true);
  view.setUint32(fsinfo + 0x1e8, geometry.clusterCount - usedClusters, true);
  view.setUint32(fsinfo + 0x1ec, usedClusters < geometry.clusterCount ? end : 0xffffffff, true);
  view.setUint32(fsinfo + 0x1fc, 0xaa550000, true);

  // FAT.
  const fatAt = geometry.reservedSectors * SECTOR_SIZE;
  const chain = (first: number, count: number) => {
    for (let c = first; c < first + count - 1; c++) view.setUint32(fatAt + c * 4, c + 1, true);
    view.setUint32(fatAt + (first + count - 1) * 4, FAT32_EOC, true);
  };
  view.setUint32(fatAt, FAT_ENTRY_0, true);
  view.setUint32(fatAt + 4, FAT32_EOC, true);

  // Folders and files.
  const clusterAt = (cluster: number) => geometry.dataStartSector * SECTOR_SIZE + (cluster - FAT32_ROOT_CLUSTER) * cb;
  const writeDir = (dir: DirNode, parent: DirNode | null) => {
    chain(dir.firstCluster, dir.clusters);
    let at = clusterAt(dir.firstCluster);
    if (parent === null) {
      writeShortEntry(part, at, shortNameBytes(label.slice(0, 8), label.slice(8)), ATTR_VOLUME_ID, 0, timestamp, 0, 0);
      if (label === NO_NAME_LABEL) part.fill(0, at, at + DIR_ENTRY_SIZE);
      else at += DIR_ENTRY_SIZE;
    } else {
      writeShortEntry(part, at, shortNameBytes('.', ''), ATTR_DIRECTORY, 0, dir.mtime, dir.firstCluster, 0);
      const parentCluster = parent.firstCluster === FAT32_ROOT_CLUSTER ? 0 : parent.firstCluster;
      writeShortEntry(part, at + DIR_ENTRY_SIZE, shortNameBytes('..', ''), ATTR_DIRECTORY, 0, parent.mtime, parentCluster, 0);
      at += 2 * DIR_ENTRY_SIZE;
    }
    for (const e of dir.entries) {
      if (e.needsLfn) at = writeLfnEntries(part, at, e.node.name, e.short);
      if (e.node.kind === 'dir') {
        writeShortEntry(part, at, e.short, ATTR_DIRECTORY, e.caseFlags, e.node.mtime, e.node.firstCluster, 0);
      } else {
        const n = e.node;
        writeShortEntry(part, at, e.short, ATTR_ARCHIVE, e.caseFlags, n.mtime, n.firstCluster, n.data.length);
        if (n.data.length > 0) {
          chain(n.firstCluster, Math.ceil(n.data.length / cb));
          part.set(n.data, clusterAt(n.firstCluster));
        }
      }
      at += DIR_ENTRY_SIZE;
    }
    for (const e of dir.entries) if (e.node.kind === 'dir') writeDir(e.node, dir);
  };
  writeDir(root, null);
  const fatBytes = geometry.fatSectors * SECTOR_SIZE;
  for (let i = 1; i < geometry.fatCount; i++) part.copyWithin(fatAt + i * fatBytes, fatAt, fatAt + fatBytes);

  const mbr = new Uint8Array(SECTOR_SIZE);
  mbr.set(buildMbr([{ type: options.partitionType, firstLba, sectorCount: options.partitionSize / SECTOR_SIZE }], volumeId), 0);
  const ranges: ImageRange[] = [{ offset: 0, data: mbr }];
  const zeroRanges: ZeroRange[] = [{ offset: SECTOR_SIZE, length: (CARD_HEADER_SECTORS - 1) * SECTOR_SIZE }];
  for (const span of splitMetadata(part, geometry.dataStartSector * SECTOR_SIZE)) {
    if (span.zero) zeroRanges.push({ offset: partitionOffset + span.start, length: span.end - span.start });
    else ranges.push({ offset: partitionOffset + span.start, data: part.subarray(span.start, span.end) });
  }
  return {
    size: imageSize,
    ranges,
    zeroRanges,
    fat: {
      geometry,
      partitionOffset,
      partitionSize: options.partitionSize,
      partitionType: options.partitionType,
      volumeId,
      label,
      usedClusters,
      freeClusters: geometry.clusterCount - usedClusters,
      fileCount,
      directoryCount: dirCount,
    },
  };
}
