/**
 * Where an OS image keeps its two file systems: Raspberry Pi OS is an MBR
 * with a FAT32 boot partition (firmware, kernel, config.txt, cmdline.txt)
 * and an ext4 root. The boot partition is read with bootcard's FAT reader;
 * the root is found by the ext4 superblock's magic (0xEF53 at byte 56 of the
 * superblock, which starts 1024 bytes into the partition).
 */
import { BootcardError } from '../errors.js';
import { readFatImage, type ByteReader, type Fat32Volume } from '../fat32/reader.js';
import { parseMbr } from '../fat32/mbr.js';
import { SECTOR_SIZE } from '../image/sparse-image.js';
import { NetbootErrorCode } from './errors.js';

const EXT_SUPERBLOCK_OFFSET = 1024;
const EXT_MAGIC_OFFSET = 56;
const EXT_MAGIC = 0xef53;

export interface OsImageLayout {
  readonly boot: Fat32Volume;
  /** The MBR disk signature (PARTUUID=<it>-NN in the image's fstab and cmdline.txt). */
  readonly diskSignature: number | null;
  /** The ext4 root partition, or null when the image has none. */
  readonly root: { readonly index: number; readonly offset: number; readonly size: number } | null;
}

export async function readOsImageLayout(reader: ByteReader): Promise<OsImageLayout> {
  let fat;
  try {
    fat = await readFatImage(reader);
  } catch (error) {
    if (error instanceof BootcardError) {
      throw new BootcardError(NetbootErrorCode.IMAGE_LAYOUT, `The OS image has no FAT32 boot partition bootcard can read (${error.message}). Give a Raspberry Pi OS image (.img, or .img.xz/.gz/.zst).`, { cause: error.code });
    }
    throw error;
  }
  const mbr = parseMbr(await reader.read(0, SECTOR_SIZE));
  let root: OsImageLayout['root'] = null;
  for (const partition of mbr?.partitions ?? []) {
    const offset = partition.firstLba * SECTOR_SIZE;
    if (offset + EXT_SUPERBLOCK_OFFSET + SECTOR_SIZE > reader.size) continue;
    const superblock = await reader.read(offset + EXT_SUPERBLOCK_OFFSET, SECTOR_SIZE);
    const magic = superblock[EXT_MAGIC_OFFSET]! | (superblock[EXT_MAGIC_OFFSET + 1]! << 8);
    if (magic === EXT_MAGIC) {
      root = { index: partition.index, offset, size: Math.min(partition.sectorCount * SECTOR_SIZE, reader.size - offset) };
      break;
    }
  }
  return { boot: fat.volume, diskSignature: fat.diskSignature, root };
}
