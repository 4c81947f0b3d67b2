/**
 * Just enough of ext2/3/4 to know which blocks a file system uses (pure; the
 * caller reads the bytes): the superblock (at byte 1024 of the file system),
 * the group descriptor table right after it, and each group's block bitmap.
 * Layout as in the kernel's Documentation/filesystems/ext4/ (super.rst,
 * group_descr.rst, blockgroup.rst) and e2fsprogs' lib/ext2fs/ext2_fs.h.
 *
 * A group flagged BLOCK_UNINIT (with uninit_bg/gdt_csum or metadata_csum) has
 * no bitmap on disk: its used blocks are its superblock backup and group
 * descriptors (when it carries one) plus whatever group's bitmaps or inode
 * table flex_bg placed in it, which the caller adds from every descriptor, as
 * ext2fs_super_and_bgd_loc2 and e2fsck do.
 *
 * Anything this reader does not handle the caller treats as all used (see
 * `ext4Unsupported`): bigalloc (bitmaps count clusters), meta_bg (descriptors
 * spread over the disk), an external journal device, a journal that needs
 * replaying or a file system not cleanly unmounted (its bitmaps may be behind
 * the journal), or one with errors.
 */

export const EXT4_SUPERBLOCK_OFFSET = 1024;
export const EXT4_SUPERBLOCK_SIZE = 1024;
const EXT4_MAGIC = 0xef53;

const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_64BIT = 0x80;
const RO_COMPAT_SPARSE_SUPER = 0x1;
const RO_COMPAT_GDT_CSUM = 0x10;
const RO_COMPAT_BIGALLOC = 0x200;
const RO_COMPAT_METADATA_CSUM = 0x400;
const COMPAT_SPARSE_SUPER2 = 0x200;
const STATE_VALID = 0x1;
const STATE_ERROR = 0x2;
export const BG_BLOCK_UNINIT = 0x2;

export interface Ext4Superblock {
  readonly blocksCount: number;
  readonly firstDataBlock: number;
  readonly blockSize: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodeSize: number;
  readonly descriptorSize: number;
  readonly reservedGdtBlocks: number;
  readonly groupCount: number;
  readonly featureCompat: number;
  readonly featureIncompat: number;
  readonly featureRoCompat: number;
  readonly state: number;
  /** sparse_super2: the only two groups with a backup (0 = none). */
  readonly backupGroups: readonly [number, number];
}

export interface Ext4GroupDescriptor {
  readonly blockBitmap: number;
  readonly inodeBitmap: number;
  readonly inodeTable: number;
  readonly flags: number;
}

/** The superblock from its 1024 bytes, or null when they are not an ext2/3/4 superblock. */
export function parseExt4Superblock(bytes: Uint8Array): Ext4Superblock | null {
  if (bytes.length < EXT4_SUPERBLOCK_SIZE) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, EXT4_SUPERBLOCK_SIZE);
  if (v.getUint16(0x38, true) !== EXT4_MAGIC) return null;
  const logBlockSize = v.getUint32(0x18, true);
  if (logBlockSize > 6) return null;
  const blockSize = 1024 << logBlockSize;
  const featureIncompat = v.getUint32(0x60, true);
  const is64 = (featureIncompat & INCOMPAT_64BIT) !== 0;
  const blocksCount = v.getUint32(0x04, true) + (is64 ? v.getUint32(0x150, true) * 2 ** 32 : 0);
  const firstDataBlock = v.getUint32(0x14, true);
  const blocksPerGroup = v.getUint32(0x20, true);
  const inodesPerGroup = v.getUint32(0x28, true);
  const revLevel = v.getUint32(0x4c, true);
  const inodeSize = revLevel === 0 ? 128 : v.getUint16(0x58, true);
  const descriptorSize = is64 ? v.getUint16(0xfe, true) : 32;
  if (blocksPerGroup < 256 || blocksPerGroup % 8 !== 0 || blocksPerGroup > blockSize * 8 || blocksCount <= firstDataBlock || inodeSize < 128 || (is64 && (descriptorSize < 64 || descriptorSize > 1024))) return null;
  return {
    blocksCount,
    firstDataBlock,
    blockSize,
    blocksPerGroup,
    inodesPerGroup,
    inodeSize,
    descriptorSize,
    reservedGdtBlocks: v.getUint16(0xce, true),
    groupCount: Math.ceil((blocksCount - firstDataBlock) / blocksPerGroup),
    featureCompat: v.getUint32(0x5c, true),
    featureIncompat,
    featureRoCompat: v.getUint32(0x64, true),
    state: v.getUint16(0x3a, true),
    backupGroups: [v.getUint32(0x24c, true), v.getUint32(0x250, true)],
  };
}

/** Why bootcard will not trust this file system's bitmaps (then it is written whole), or null. */
export function ext4Unsupported(sb: Ext4Superblock): string | null {
  if (sb.featureRoCompat & RO_COMPAT_BIGALLOC) return 'bigalloc';
  if (sb.featureIncompat & INCOMPAT_META_BG) return 'meta_bg';
  if (sb.featureIncompat & INCOMPAT_JOURNAL_DEV) return 'an external journal device';
  if (sb.featureIncompat & INCOMPAT_RECOVER) return 'a journal that needs replaying';
  if ((sb.state & STATE_VALID) === 0) return 'not cleanly unmounted';
  if (sb.state & STATE_ERROR) return 'marked as having errors';
  return null;
}

/** Blocks the group descriptor table takes (right after the superblock's block). */
export function descriptorTableBlocks(sb: Ext4Superblock): number {
  return Math.ceil((sb.groupCount * sb.descriptorSize) / sb.blockSize);
}

/** Blocks one group's inode table takes. */
export function inodeTableBlocks(sb: Ext4Superblock): number {
  return Math.ceil((sb.inodesPerGroup * sb.inodeSize) / sb.blockSize);
}

export function parseGroupDescriptors(table: Uint8Array, sb: Ext4Superblock): Ext4GroupDescriptor[] {
  const out: Ext4GroupDescriptor[] = [];
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const wide = sb.descriptorSize >= 64;
  for (let g = 0; g < sb.groupCount; g++) {
    const at = g * sb.descriptorSize;
    if (at + sb.descriptorSize > table.length) break;
    const hi = (off: number) => (wide ? v.getUint32(at + off, true) * 2 ** 32 : 0);
    out.push({
      blockBitmap: v.getUint32(at + 0x0, true) + hi(0x20),
      inodeBitmap: v.getUint32(at + 0x4, true) + hi(0x24),
      inodeTable: v.getUint32(at + 0x8, true) + hi(0x28),
      flags: v.getUint16(at + 0x12, true),
    });
  }
  return out;
}

function isPowerOf(n: number, base: number): boolean {
  while (n > 1 && n % base === 0) n /= base;
  return n === 1;
}

/** Whether group `g` starts with a superblock backup and the group descriptors. */
export function groupHasSuperBackup(sb: Ext4Superblock, g: number): boolean {
  if (g === 0) return true;
  if (sb.featureCompat & COMPAT_SPARSE_SUPER2) return g === sb.backupGroups[0] || g === sb.backupGroups[1];
  if (!(sb.featureRoCompat & RO_COMPAT_SPARSE_SUPER)) return true;
  return g === 1 || isPowerOf(g, 3) || isPowerOf(g, 5) || isPowerOf(g, 7);
}

/** Whether the BLOCK_UNINIT flag means anything here (only with group descriptor checksums). */
export function uninitFlagsValid(sb: Ext4Superblock): boolean {
  return (sb.featureRoCompat & (RO_COMPAT_GDT_CSUM | RO_COMPAT_METADATA_CSUM)) !== 0;
}

export function groupFirstBlock(sb: Ext4Superblock, g: number): number {
  return sb.firstDataBlock + g * sb.blocksPerGroup;
}

export function groupBlockCount(sb: Ext4Superblock, g: number): number {
  return Math.min(sb.blocksPerGroup, sb.blocksCount - groupFirstBlock(sb, g));
}

export interface BlockRun {
  readonly first: number;
  readonly count: number;
}

/** Runs of set bits (used blocks) among the first `bits` bits of a bitmap, as block numbers from `firstBlock`. */
export function usedRuns(bitmap: Uint8Array, bits: number, firstBlock: number): BlockRun[] {
  const runs: { first: number; count: number }[] = [];
  let start = -1;
  const end = Math.min(bits, bitmap.length * 8);
  for (let i = 0; i < end; ) {
    const byte = bitmap[i >> 3]!;
    // Whole bytes at a time where they are all set or all clear.
    if ((i & 7) === 0 && i + 8 <= end && (byte === 0xff || byte === 0)) {
      if (byte === 0xff && start < 0) start = i;
      if (byte === 0 && start >= 0) {
        runs.push({ first: firstBlock + start, count: i - start });
        start = -1;
      }
      i += 8;
      continue;
    }
    const set = (byte >> (i & 7)) & 1;
    if (set && start < 0) start = i;
    if (!set && start >= 0) {
      runs.push({ first: firstBlock + start, count: i - start });
      start = -1;
    }
    i++;
  }
  if (start >= 0) runs.push({ first: firstBlock + start, count: end - start });
  return runs;
}
