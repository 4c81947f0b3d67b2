/**
 * Reads cards and card images: the MBR partition table, a FAT32 file system's
 * tree, and a file's bytes. It reads through a `ByteReader`, so the same code
 * reads a composed sparse image in memory, an `.img` file or a block device
 * (see byte-reader.io.ts).
 *
 * On-disk formats are those documented in compose.ts (boot sector, FAT),
 * names.ts (short names, LFN entries) and mbr.ts (partition table).
 */
import { BootcardError } from '../errors.js';
import { SECTOR_SIZE, readSparse, type SparseImage } from '../image/sparse-image.js';
import { fromDosTimestamp } from './dos-time.js';
import { FatErrorCode } from './errors.js';
import { parseMbr, partitionPastEnd, type MbrPartition } from './mbr.js';
import { DIR_ENTRY_SIZE, LFN_ATTRIBUTE, LFN_LAST_ENTRY_FLAG, lfnChecksum, readLfnChars, shortNameToString } from './names.js';

/** Random access to the bytes of a card or an image. */
export interface ByteReader {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A ByteReader over a sparse image in memory (zeros outside its ranges). */
export function sparseImageReader(image: SparseImage): ByteReader {
  return { size: image.size, read: async (offset, length) => readSparse(image, offset, length) };
}

export interface FatBootSector {
  readonly oemName: string;
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly fatCount: number;
  readonly totalSectors: number;
  readonly fatSectors: number;
  readonly rootCluster: number;
  readonly hiddenSectors: number;
  readonly volumeId: number;
  readonly label: string;
  readonly clusterCount: number;
}

export interface FatEntry {
  /** Full path from the root, `/`-separated, no leading slash. */
  readonly path: string;
  readonly name: string;
  /** The 8.3 name as stored (e.g. `MINIUA~1.DTB`). */
  readonly shortName: string;
  readonly directory: boolean;
  readonly size: number;
  readonly firstCluster: number;
  /** Modification time, Unix seconds (UTC). */
  readonly mtime: number;
}

export interface FatTreeNode extends FatEntry {
  readonly children?: readonly FatTreeNode[];
}

const ATTR_VOLUME_ID = 0x08;
const ATTR_DIRECTORY = 0x10;
const DELETED = 0xe5;
const FAT_ENTRY_MASK = 0x0fffffff;
const FAT_BAD_CLUSTER = 0x0ffffff7;
const FAT_EOC_MIN = 0x0ffffff8;

export function parseFat32BootSector(sector: Uint8Array): FatBootSector | null {
  if (sector.length < SECTOR_SIZE || sector[0x1fe] !== 0x55 || sector[0x1ff] !== 0xaa) return null;
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR_SIZE);
  const bytesPerSector = view.getUint16(0x0b, true);
  const sectorsPerCluster = view.getUint8(0x0d);
  const reservedSectors = view.getUint16(0x0e, true);
  const fatCount = view.getUint8(0x10);
  const rootEntries = view.getUint16(0x11, true);
  const fat16Sectors = view.getUint16(0x16, true);
  const totalSectors = view.getUint16(0x13, true) || view.getUint32(0x20, true);
  const fatSectors = view.getUint32(0x24, true);
  const valid =
    [512, 1024, 2048, 4096].includes(bytesPerSector) &&
    sectorsPerCluster > 0 && (sectorsPerCluster & (sectorsPerCluster - 1)) === 0 &&
    reservedSectors > 0 && fatCount > 0 && rootEntries === 0 && fat16Sectors === 0 && fatSectors > 0 && totalSectors > 0;
  if (!valid) return null;
  const dataSectors = totalSectors - reservedSectors - fatCount * fatSectors;
  if (dataSectors <= 0) return null;
  const text = (from: number, length: number) => String.fromCharCode(...sector.subarray(from, from + length)).replace(/[ \0]+$/, '');
  return {
    oemName: text(0x03, 8),
    bytesPerSector,
    sectorsPerCluster,
    reservedSectors,
    fatCount,
    totalSectors,
    fatSectors,
    rootCluster: view.getUint32(0x2c, true),
    hiddenSectors: view.getUint32(0x1c, true),
    volumeId: view.getUint32(0x43, true),
    label: view.getUint8(0x42) === 0x29 ? text(0x47, 11) : '',
    clusterCount: Math.min(Math.floor(dataSectors / sectorsPerCluster), Math.floor((fatSectors * bytesPerSector) / 4) - 2),
  };
}

export class Fat32Volume {
  private fat: DataView | null = null;

  constructor(
    private readonly reader: ByteReader,
    /** Byte offset of the file system on the card. */
    readonly offset: number,
    readonly boot: FatBootSector,
  ) {}

  private get clusterBytes(): number {
    return this.boot.sectorsPerCluster * this.boot.bytesPerSector;
  }

  private async fatTable(): Promise<DataView> {
    if (!this.fat) {
      const bytes = await this.reader.read(this.offset + this.boot.reservedSectors * this.boot.bytesPerSector, this.boot.fatSectors * this.boot.bytesPerSector);
      this.fat = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.fat;
  }

  /** The clusters of a chain, in order. */
  async chain(first: number, path: string): Promise<number[]> {
    const fat = await this.fatTable();
    const clusters: number[] = [];
    const limit = this.boot.clusterCount + 2;
    let c = first;
    while (true) {
      if (c < 2 || c >= limit || clusters.length > this.boot.clusterCount) {
        throw new BootcardError(FatErrorCode.CORRUPT, `The FAT chain of "${path || '/'}" is damaged (cluster ${c}): run fsck.fat on the card, or write it again.`, { path, cluster: c });
      }
      clusters.push(c);
      const next = fat.getUint32(c * 4, true) & FAT_ENTRY_MASK;
      if (next >= FAT_EOC_MIN) break;
      if (next === FAT_BAD_CLUSTER || next === 0) {
        throw new BootcardError(FatErrorCode.CORRUPT, `The FAT chain of "${path || '/'}" is damaged (cluster ${c} points to ${next}).`, { path, cluster: c });
      }
      c = next;
    }
    return clusters;
  }

  private async readChain(first: number, length: number | null, path: string): Promise<Uint8Array> {
    const clusters = await this.chain(first, path);
    const cb = this.clusterBytes;
    const total = length ?? clusters.length * cb;
    if (total > clusters.length * cb) {
      throw new BootcardError(FatErrorCode.CORRUPT, `"${path}" is longer than its cluster chain.`, { path });
    }
    const out = new Uint8Array(total);
    const dataStart = this.offset + (this.boot.reservedSectors + this.boot.fatCount * this.boot.fatSectors) * this.boot.bytesPerSector;
    // Read runs of consecutive clusters in one go.
    let i = 0;
    while (i < clusters.length && i * cb < total) {
      let j = i + 1;
      while (j < clusters.length && clusters[j] === clusters[j - 1]! + 1) j++;
      const from = i * cb;
      const to = Math.min(total, j * cb);
      out.set(await this.reader.read(dataStart + (clusters[i]! - 2) * cb, to - from), from);
      i = j;
    }
    return out;
  }

  /** The entries of the folder at `path` ('' for the root). */
  async list(path = ''): Promise<FatEntry[]> {
    const cluster = path === '' ? this.boot.rootCluster : await this.folderCluster(path);
    const bytes = await this.readChain(cluster, null, path);
    return parseDirectory(bytes, path);
  }

  private async folderCluster(path: string): Promise<number> {
    const entry = await this.stat(path);
    if (!entry.directory) throw new BootcardError(FatErrorCode.NOT_FOUND, `"${path}" is a file, not a folder.`, { path });
    return entry.firstCluster === 0 ? this.boot.rootCluster : entry.firstCluster;
  }

  /** The entry at `path`; throws FAT_NOT_FOUND. Names match case-insensitively, long or short. */
  async stat(path: string): Promise<FatEntry> {
    const parts = path.split('/').filter((p) => p.length > 0);
    if (parts.length === 0) throw new BootcardError(FatErrorCode.NOT_FOUND, 'The root folder has no entry.', { path });
    let folder = '';
    let found: FatEntry | undefined;
    for (const [i, part] of parts.entries()) {
      const entries = await this.list(folder);
      found = entries.find((e) => e.name.toUpperCase() === part.toUpperCase() || e.shortName === part.toUpperCase());
      if (!found || (i < parts.length - 1 && !found.directory)) {
        throw new BootcardError(FatErrorCode.NOT_FOUND, `"${path}" is not on the card.`, { path });
      }
      folder = found.path;
    }
    return found!;
  }

  /** True when `path` names a file or folder on the card. */
  async exists(path: string): Promise<boolean> {
    try {
      await this.stat(path);
      return true;
    } catch (error) {
      if (BootcardError.is(error, FatErrorCode.NOT_FOUND)) return false;
      throw error;
    }
  }

  async readFile(path: string): Promise<Uint8Array> {
    const entry = await this.stat(path);
    if (entry.directory) throw new BootcardError(FatErrorCode.NOT_FOUND, `"${path}" is a folder, not a file.`, { path });
    if (entry.size === 0) return new Uint8Array(0);
    return this.readChain(entry.firstCluster, entry.size, entry.path);
  }

  /** The whole tree under `path`, folders with their children. */
  async tree(path = '', seen: Set<number> = new Set()): Promise<FatTreeNode[]> {
    const out: FatTreeNode[] = [];
    for (const e of await this.list(path)) {
      if (!e.directory) {
        out.push(e);
        continue;
      }
      this.enter(e, seen);
      out.push({ ...e, children: await this.tree(e.path, seen) });
    }
    return out;
  }

  /** Every file (not folder) on the volume, depth first. */
  async files(path = '', seen: Set<number> = new Set()): Promise<FatEntry[]> {
    const out: FatEntry[] = [];
    for (const e of await this.list(path)) {
      if (!e.directory) out.push(e);
      else {
        this.enter(e, seen);
        out.push(...(await this.files(e.path, seen)));
      }
    }
    return out;
  }

  /** Refuses a folder seen before in this walk: a damaged card whose folders form a loop. */
  private enter(folder: FatEntry, seen: Set<number>): void {
    if (folder.firstCluster === 0 || seen.has(folder.firstCluster)) {
      throw new BootcardError(FatErrorCode.CORRUPT, `The folder "${folder.path}" loops back to another folder: the card's file system is damaged. Run fsck.fat on it, or write the card again.`, { path: folder.path });
    }
    seen.add(folder.firstCluster);
  }
}

/** Parses the 32-byte entries of a folder into named entries (skipping `.`, `..`, labels, deleted slots). */
export function parseDirectory(bytes: Uint8Array, folderPath: string): FatEntry[] {
  const entries: FatEntry[] = [];
  let lfnParts: string[] = [];
  let lfnChecksumExpected = -1;
  let lfnNext = 0;
  for (let at = 0; at + DIR_ENTRY_SIZE <= bytes.length; at += DIR_ENTRY_SIZE) {
    const entry = bytes.subarray(at, at + DIR_ENTRY_SIZE);
    const first = entry[0]!;
    if (first === 0x00) break;
    if (first === DELETED) {
      lfnParts = [];
      continue;
    }
    const attributes = entry[11]!;
    if ((attributes & 0x3f) === LFN_ATTRIBUTE) {
      const ordinal = first & 0x1f;
      if (first & LFN_LAST_ENTRY_FLAG) {
        lfnParts = [];
        lfnChecksumExpected = entry[13]!;
        lfnNext = ordinal;
      }
      if (ordinal !== lfnNext || entry[13] !== lfnChecksumExpected || ordinal === 0) {
        lfnParts = [];
        lfnNext = -1;
        continue;
      }
      lfnParts.unshift(readLfnChars(entry));
      lfnNext = ordinal - 1;
      continue;
    }
    const short = entry.subarray(0, 11);
    const longName = lfnParts.length > 0 && lfnNext === 0 && lfnChecksum(short) === lfnChecksumExpected ? lfnParts.join('') : null;
    lfnParts = [];
    if (attributes & ATTR_VOLUME_ID) continue;
    const shortName = shortNameToString(short, 0);
    if (shortName === '.' || shortName === '..') continue;
    const view = new DataView(entry.buffer, entry.byteOffset, DIR_ENTRY_SIZE);
    const name = longName ?? shortNameToString(short, entry[12]!);
    entries.push({
      path: folderPath ? `${folderPath}/${name}` : name,
      name,
      shortName,
      directory: (attributes & ATTR_DIRECTORY) !== 0,
      size: view.getUint32(28, true),
      firstCluster: (view.getUint16(20, true) << 16) | view.getUint16(26, true),
      mtime: fromDosTimestamp(view.getUint16(24, true), view.getUint16(22, true)),
    });
  }
  return entries;
}

export interface FatImage {
  /** The partition table, or null when the FAT file system starts at byte 0 (no table). */
  readonly partitions: readonly MbrPartition[] | null;
  readonly diskSignature: number | null;
  /** The partition the volume was found in (null for a table-less volume). */
  readonly partition: MbrPartition | null;
  readonly volume: Fat32Volume;
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(bytes % 1048576 === 0 ? 0 : 1)} MiB`;
}

function truncated(what: string, end: number, size: number, details: Record<string, unknown>): BootcardError {
  return new BootcardError(
    FatErrorCode.TRUNCATED,
    `The image is truncated: ${what} runs to ${mib(end)} (${end} bytes), but the image ends at ${mib(size)} (${size} bytes). ` +
      'It was cut short (an interrupted download or copy): get or make the whole image again.',
    { ...details, end, size },
  );
}

/**
 * Refuses an image whose sector 0 describes more bytes than it has: an MBR partition, or a
 * file system starting at byte 0, that runs past `size`. Sector 0 without either passes
 * (a raw image is not ours to judge).
 */
export function assertImageNotTruncated(sector0: Uint8Array, size: number): void {
  const bare = parseFat32BootSector(sector0);
  if (bare && sector0[0] === 0xeb) {
    const end = bare.totalSectors * bare.bytesPerSector;
    if (end > size) throw truncated('its FAT32 file system', end, size, { partition: null });
    return;
  }
  const mbr = parseMbr(sector0);
  const past = mbr ? partitionPastEnd(mbr.partitions, size) : undefined;
  if (past) throw truncated(`partition ${past.index}`, (past.firstLba + past.sectorCount) * SECTOR_SIZE, size, { partition: past.index });
}

/**
 * Opens the FAT32 file system of a card or image: the first MBR partition
 * holding FAT32, or a file system starting at byte 0 (a "superfloppy").
 */
export async function readFatImage(reader: ByteReader): Promise<FatImage> {
  if (reader.size < SECTOR_SIZE) {
    throw new BootcardError(FatErrorCode.NO_PARTITION_TABLE, 'The image is smaller than one sector: it is not a card image.');
  }
  const sector0 = await reader.read(0, SECTOR_SIZE);
  assertImageNotTruncated(sector0, reader.size);
  const bare = parseFat32BootSector(sector0);
  if (bare && sector0[0] === 0xeb) {
    return { partitions: null, diskSignature: null, partition: null, volume: new Fat32Volume(reader, 0, bare) };
  }
  const mbr = parseMbr(sector0);
  if (!mbr || mbr.partitions.length === 0) {
    throw new BootcardError(FatErrorCode.NO_PARTITION_TABLE, 'No MBR partition table was found: this is not a card bootcard can read (GPT cards are not supported).');
  }
  for (const partition of mbr.partitions) {
    const offset = partition.firstLba * SECTOR_SIZE;
    if (offset + SECTOR_SIZE > reader.size) continue;
    const boot = parseFat32BootSector(await reader.read(offset, SECTOR_SIZE));
    if (boot && offset + boot.totalSectors * boot.bytesPerSector > reader.size) {
      throw truncated(`the FAT32 file system of partition ${partition.index}`, offset + boot.totalSectors * boot.bytesPerSector, reader.size, { partition: partition.index });
    }
    if (boot) return { partitions: mbr.partitions, diskSignature: mbr.diskSignature, partition, volume: new Fat32Volume(reader, offset, boot) };
  }
  throw new BootcardError(
    FatErrorCode.NOT_FAT32,
    `None of the ${mbr.partitions.length} partition(s) holds a FAT32 file system.`,
    { partitions: mbr.partitions.map((p) => ({ index: p.index, type: p.type })) },
  );
}
