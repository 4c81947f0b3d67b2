/**
 * The parts of a raw disk image a card needs (pure; bytes come through `read`):
 * everything except the blocks its file systems do not use.
 *
 * The rule (why leaving those blocks unwritten is safe on a card that held
 * something else): a block an ext2/3/4 block bitmap marks free, or a FAT32
 * cluster whose FAT entry is 0, is not part of any file, directory, inode
 * table, journal or other metadata, so nothing reads it as data: the kernel
 * and e2fsck/fsck.fat never look inside a free block (they check the bitmaps
 * and the FAT against the metadata that is written). All metadata is written:
 * every block the bitmaps mark used, every group's bitmaps and inode table,
 * the superblock and group descriptor backups with their reserved GDT blocks,
 * the journal (an inode's blocks like any other), a FAT32's reserved sectors
 * and both FATs; so is everything outside a file system bootcard reads (the
 * partition table, gaps between partitions, a partition's tail past its file
 * system, and any partition that is not ext2/3/4 or FAT32, written whole).
 * A file system whose bitmaps may not tell the truth (not cleanly unmounted,
 * a journal to replay, errors, bigalloc, meta_bg; see ext4.ts) is written
 * whole, as is an image with a GPT or extended partitions.
 *
 * Free gaps shorter than MERGE_GAP are written anyway: a few KiB more beat
 * the card's cost of a separate write.
 *
 * Why not etcher-sdk's own way (ConfiguredSource with trimPartitions: it
 * mounts each ext partition with the ext2fs module, e2fsprogs compiled to
 * WebAssembly, and records what `trim` discards): it runs all of libext2fs on
 * the image's metadata, inside the privileged child for an image streamed to
 * it, where this reads a superblock, the descriptors and bitmaps with every
 * number bounds-checked; and it knows no FAT.
 */
import { SECTOR_SIZE } from './sparse-image.js';
import { parseMbr } from '../fat32/mbr.js';
import { parseFat32BootSector, type FatBootSector } from '../fat32/reader.js';
import {
  BG_BLOCK_UNINIT,
  EXT4_SUPERBLOCK_OFFSET,
  EXT4_SUPERBLOCK_SIZE,
  descriptorTableBlocks,
  ext4Unsupported,
  groupBlockCount,
  groupFirstBlock,
  groupHasSuperBackup,
  inodeTableBlocks,
  parseExt4Superblock,
  parseGroupDescriptors,
  uninitFlagsValid,
  usedRuns,
  type Ext4Superblock,
} from './ext4.js';

export interface Extent {
  readonly offset: number;
  readonly length: number;
}

/** Reads exactly `length` bytes at `offset` (inside the image). */
export type ReadBytes = (offset: number, length: number) => Promise<Uint8Array>;

export interface FileSystemUse {
  readonly offset: number;
  readonly length: number;
  readonly kind: 'ext4' | 'fat32' | 'other';
  /** Bytes of it that are written. */
  readonly usedBytes: number;
  /** Why it is written whole, when it is. */
  readonly wholeBecause?: string;
}

export interface UsedImage {
  /** Sorted, not overlapping, sector aligned. */
  readonly extents: readonly Extent[];
  readonly usedBytes: number;
  readonly fileSystems: readonly FileSystemUse[];
}

export const MERGE_GAP = 256 * 1024;
/** Bytes of a bitmap or FAT read at once. */
const READ_CHUNK = 4 * 1024 * 1024;
/**
 * Bounds on what an image's metadata can make this read or keep (it runs in
 * the privileged child for a streamed image): past them the file system is
 * simply written whole.
 */
const MAX_GROUPS = 1 << 20;
const MAX_DESCRIPTOR_TABLE = 64 * 1024 * 1024;
const MAX_RUNS = 1 << 20;
/** MBR types that are not a file system bootcard can read: GPT's protective entry and extended partitions. */
const WHOLE_IMAGE_TYPES = new Set([0xee, 0x05, 0x0f, 0x85]);

const sum = (extents: readonly Extent[]) => extents.reduce((s, e) => s + e.length, 0);

/** Sorts, clips to [0, size), rounds out to sectors and merges extents closer than `gap`. */
export function normaliseExtents(extents: readonly Extent[], size: number, gap = MERGE_GAP): Extent[] {
  const sorted = extents
    .map((e) => {
      const start = Math.max(0, Math.floor(e.offset / SECTOR_SIZE) * SECTOR_SIZE);
      const end = Math.min(size, Math.ceil((e.offset + e.length) / SECTOR_SIZE) * SECTOR_SIZE);
      return { offset: start, length: end - start };
    })
    .filter((e) => e.length > 0)
    .sort((a, b) => a.offset - b.offset);
  const out: { offset: number; length: number }[] = [];
  for (const e of sorted) {
    const last = out.at(-1);
    if (last && e.offset <= last.offset + last.length + gap) last.length = Math.max(last.length, e.offset + e.length - last.offset);
    else out.push({ ...e });
  }
  return out;
}

async function ext4Used(read: ReadBytes, start: number, sb: Ext4Superblock): Promise<Extent[] | string> {
  const bs = sb.blockSize;
  const gdtBlocks = descriptorTableBlocks(sb);
  if (sb.groupCount > MAX_GROUPS || gdtBlocks * bs > MAX_DESCRIPTOR_TABLE) return `${sb.groupCount} block groups`;
  const table = await read(start + (sb.firstDataBlock + 1) * bs, gdtBlocks * bs);
  const groups = parseGroupDescriptors(table, sb);
  if (groups.length !== sb.groupCount) return 'a short group descriptor table';
  const itable = inodeTableBlocks(sb);
  const blocks: { first: number; count: number }[] = [{ first: 0, count: 1 }];
  const uninitValid = uninitFlagsValid(sb);
  for (let g = 0; g < groups.length; g++) {
    const d = groups[g]!;
    if (d.blockBitmap >= sb.blocksCount || d.inodeBitmap >= sb.blocksCount || d.inodeTable + itable > sb.blocksCount) return `group ${g}'s descriptor points outside the file system`;
    if (groupHasSuperBackup(sb, g)) blocks.push({ first: groupFirstBlock(sb, g), count: 1 + gdtBlocks + sb.reservedGdtBlocks });
    blocks.push({ first: d.blockBitmap, count: 1 }, { first: d.inodeBitmap, count: 1 }, { first: d.inodeTable, count: itable });
  }
  // Bitmaps read in runs: flex_bg keeps them side by side.
  for (let g = 0; g < groups.length; ) {
    if (uninitValid && groups[g]!.flags & BG_BLOCK_UNINIT) {
      g++;
      continue;
    }
    let n = 1;
    while (g + n < groups.length && n * bs < READ_CHUNK && groups[g + n]!.blockBitmap === groups[g]!.blockBitmap + n && !(uninitValid && groups[g + n]!.flags & BG_BLOCK_UNINIT)) n++;
    const bitmaps = await read(start + groups[g]!.blockBitmap * bs, n * bs);
    for (let k = 0; k < n; k++) {
      for (const run of usedRuns(bitmaps.subarray(k * bs, (k + 1) * bs), groupBlockCount(sb, g + k), groupFirstBlock(sb, g + k))) blocks.push(run);
      if (blocks.length > MAX_RUNS) return 'too fragmented to list';
    }
    g += n;
  }
  return blocks.map((b) => ({ offset: start + b.first * bs, length: Math.min(b.count, sb.blocksCount - b.first) * bs })).filter((e) => e.length > 0);
}

async function fat32Used(read: ReadBytes, start: number, boot: FatBootSector, partitionLength: number): Promise<Extent[] | string> {
  const bps = boot.bytesPerSector;
  const dataStart = (boot.reservedSectors + boot.fatCount * boot.fatSectors) * bps;
  const clusterBytes = boot.sectorsPerCluster * bps;
  const out: Extent[] = [{ offset: start, length: dataStart }];
  const fatStart = start + boot.reservedSectors * bps;
  const entries = boot.clusterCount + 2;
  let runStart = -1;
  const close = (c: number) => {
    if (runStart >= 0) out.push({ offset: start + dataStart + (runStart - 2) * clusterBytes, length: (c - runStart) * clusterBytes });
    runStart = -1;
  };
  for (let first = 0; first < entries; first += READ_CHUNK / 4) {
    const count = Math.min(READ_CHUNK / 4, entries - first);
    const bytes = await read(fatStart + first * 4, count * 4);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) {
      const c = first + i;
      if (c < 2) continue;
      if ((v.getUint32(i * 4, true) & 0x0fffffff) !== 0) {
        if (runStart < 0) runStart = c;
      } else close(c);
    }
    if (out.length > MAX_RUNS) return 'too fragmented to list';
  }
  close(entries);
  // Past the last cluster: not the file system's, so written as it is.
  const clustersEnd = dataStart + boot.clusterCount * clusterBytes;
  if (clustersEnd < partitionLength) out.push({ offset: start + clustersEnd, length: partitionLength - clustersEnd });
  return out;
}

async function fileSystemUse(read: ReadBytes, start: number, length: number): Promise<{ extents: Extent[]; use: FileSystemUse }> {
  const whole = (kind: FileSystemUse['kind'], why: string) => ({ extents: [{ offset: start, length }], use: { offset: start, length, kind, usedBytes: length, wholeBecause: why } });
  if (length >= EXT4_SUPERBLOCK_OFFSET + EXT4_SUPERBLOCK_SIZE) {
    const sb = parseExt4Superblock(await read(start + EXT4_SUPERBLOCK_OFFSET, EXT4_SUPERBLOCK_SIZE));
    if (sb) {
      const fsBytes = sb.blocksCount * sb.blockSize;
      if (fsBytes > length) return whole('ext4', 'the file system is larger than its partition');
      const unsupported = ext4Unsupported(sb);
      if (unsupported) return whole('ext4', unsupported);
      const used = await ext4Used(read, start, sb);
      if (typeof used === 'string') return whole('ext4', used);
      if (fsBytes < length) used.push({ offset: start + fsBytes, length: length - fsBytes });
      const extents = normaliseExtents(used, start + length, 0);
      return { extents, use: { offset: start, length, kind: 'ext4', usedBytes: sum(extents) } };
    }
  }
  const boot = parseFat32BootSector(await read(start, SECTOR_SIZE));
  if (boot) {
    if (boot.bytesPerSector !== SECTOR_SIZE) return whole('fat32', `${boot.bytesPerSector}-byte sectors`);
    if (boot.totalSectors * SECTOR_SIZE > length) return whole('fat32', 'the file system is larger than its partition');
    const used = await fat32Used(read, start, boot, length);
    if (typeof used === 'string') return whole('fat32', used);
    const extents = normaliseExtents(used, start + length, 0);
    return { extents, use: { offset: start, length, kind: 'fat32', usedBytes: sum(extents) } };
  }
  return whole('other', 'not an ext2/3/4 or FAT32 file system');
}

/** What of an image of `size` bytes must reach a card; see the module comment for the rule. */
export async function usedImageExtents(read: ReadBytes, size: number): Promise<UsedImage> {
  const all: UsedImage = { extents: [{ offset: 0, length: size }], usedBytes: size, fileSystems: [] };
  if (size < SECTOR_SIZE) return all;
  const mbr = parseMbr(await read(0, SECTOR_SIZE));
  if (!mbr || mbr.partitions.length === 0 || mbr.partitions.some((p) => WHOLE_IMAGE_TYPES.has(p.type))) return all;
  const partitions = [...mbr.partitions].sort((a, b) => a.firstLba - b.firstLba);
  const extents: Extent[] = [];
  const fileSystems: FileSystemUse[] = [];
  let cursor = 0;
  for (const p of partitions) {
    const start = p.firstLba * SECTOR_SIZE;
    const length = p.sectorCount * SECTOR_SIZE;
    // Overlapping partitions, or one past the image's end: nothing here can be trusted to be free.
    if (start < cursor || start + length > size || p.firstLba === 0) return all;
    if (start > cursor) extents.push({ offset: cursor, length: start - cursor });
    const { extents: used, use } = await fileSystemUse(read, start, length);
    extents.push(...used);
    fileSystems.push(use);
    cursor = start + length;
  }
  if (cursor < size) extents.push({ offset: cursor, length: size - cursor });
  const merged = normaliseExtents(extents, size);
  return { extents: merged, usedBytes: sum(merged), fileSystems };
}
