/**
 * FAT32 geometry for a partition of a given size, chosen the way dosfstools'
 * mkfs.fat does with `-F 32` and 512-byte sectors (src/mkfs.fat.c,
 * establish_params() and setup_tables()):
 *
 * - cluster size by file-system size, after Microsoft's table (fatgen103):
 *   <= 260 MiB: 1 sector, <= 8 GiB: 8, <= 16 GiB: 16, <= 32 GiB: 32, larger: 64;
 * - 32 reserved sectors (rounded up to the cluster size), 2 FATs, FSInfo in
 *   sector 1, the backup boot sector in sector 6, root directory in cluster 2;
 * - FAT length from the cluster count estimate, rounded up to the cluster
 *   size, then the cluster count recomputed from what is left;
 * - the sector count rounded down to a multiple of the sectors per track
 *   (32 below 512 MiB, else 63), which "DOS and mtools need";
 * - at least 65,525 clusters (below that every FAT driver takes the volume for
 *   FAT16), and mkfs.fat's own floor of 65,529; at most 0x0FFFFFF5.
 */
import { BootcardError } from '../errors.js';
import { SECTOR_SIZE } from '../image/sparse-image.js';
import { FatErrorCode } from './errors.js';

export const FAT32_RESERVED_SECTORS = 32;
export const FAT32_FAT_COUNT = 2;
export const FAT32_ROOT_CLUSTER = 2;
export const FAT32_FSINFO_SECTOR = 1;
export const FAT32_BACKUP_BOOT_SECTOR = 6;
export const FAT32_MEDIA_FIXED_DISK = 0xf8;
/** The fewest clusters a FAT32 volume may have (mkfs.fat's MIN_CLUST_32; the FAT spec's floor is 65,525). */
export const FAT32_MIN_CLUSTERS = 65529;
/** The most clusters a FAT32 volume may have (mkfs.fat's MAX_CLUST_32: 28-bit entries minus reserved values). */
export const FAT32_MAX_CLUSTERS = (1 << 28) - 16;
const MIB = 1024 * 1024;

export interface Fat32Geometry {
  readonly totalSectors: number;
  readonly sectorsPerCluster: number;
  readonly bytesPerCluster: number;
  readonly reservedSectors: number;
  readonly fatCount: number;
  /** Sectors per FAT. */
  readonly fatSectors: number;
  /** Data clusters, numbered 2 .. clusterCount + 1. */
  readonly clusterCount: number;
  /** First sector of the data area (cluster 2), relative to the partition start. */
  readonly dataStartSector: number;
  /** CHS fields of the boot sector, as mkfs.fat picks them. */
  readonly sectorsPerTrack: number;
  readonly heads: number;
}

/** mkfs.fat's cluster size (in sectors) for a FAT32 file system of this many bytes. */
export function mkfsClusterSectors(sizeBytes: number): number {
  const mib = Math.floor(sizeBytes / MIB);
  if (mib > 32 * 1024) return 64;
  if (mib > 16 * 1024) return 32;
  if (mib > 8 * 1024) return 16;
  if (mib > 260) return 8;
  return 1;
}

const alignUp = (value: number, to: number) => Math.ceil(value / to) * to;

export function fat32Geometry(partitionBytes: number): Fat32Geometry {
  if (!Number.isSafeInteger(partitionBytes) || partitionBytes <= 0 || partitionBytes % SECTOR_SIZE !== 0) {
    throw new BootcardError(FatErrorCode.INVALID_LAYOUT, `The partition size ${partitionBytes} is not a positive multiple of ${SECTOR_SIZE} bytes.`);
  }
  if (partitionBytes / SECTOR_SIZE > 0xffff_ffff) {
    throw new BootcardError(FatErrorCode.TOO_LARGE, 'FAT32 with 512-byte sectors ends at 2 TiB: choose a smaller size.', { partitionBytes });
  }
  const small = partitionBytes < 512 * MIB;
  const sectorsPerTrack = small ? 32 : 63;
  const totalSectors = Math.floor(partitionBytes / SECTOR_SIZE / sectorsPerTrack) * sectorsPerTrack;
  return fat32GeometryForSectors(totalSectors, mkfsClusterSectors(partitionBytes), { sectorsPerTrack, heads: small ? 64 : 255 });
}

/** The geometry for exactly `totalSectors`, starting the search at `sectorsPerCluster` (mkfs.fat's setup_tables loop). */
export function fat32GeometryForSectors(
  totalSectors: number,
  firstSectorsPerCluster: number,
  chs: { sectorsPerTrack: number; heads: number } = { sectorsPerTrack: 63, heads: 255 },
): Fat32Geometry {
  const partitionBytes = totalSectors * SECTOR_SIZE;
  let sectorsPerCluster = firstSectorsPerCluster;
  for (; sectorsPerCluster <= 128; sectorsPerCluster *= 2) {
    const reserved = alignUp(FAT32_RESERVED_SECTORS, sectorsPerCluster);
    const fatData = totalSectors - reserved;
    const estimate = Math.floor((fatData * SECTOR_SIZE + FAT32_FAT_COUNT * 8) / (sectorsPerCluster * SECTOR_SIZE + FAT32_FAT_COUNT * 4));
    const fatSectors = alignUp(Math.ceil(((estimate + 2) * 4) / SECTOR_SIZE), sectorsPerCluster);
    const clusterCount = Math.floor((fatData - FAT32_FAT_COUNT * fatSectors) / sectorsPerCluster);
    const maxClusters = Math.min(FAT32_MAX_CLUSTERS, (fatSectors * SECTOR_SIZE) / 4);
    if (clusterCount < FAT32_MIN_CLUSTERS) {
      const minimum = Math.ceil((FAT32_MIN_CLUSTERS * 516 + 64 * 1024) / MIB) + 1;
      throw new BootcardError(
        FatErrorCode.TOO_SMALL,
        `A ${Math.floor(partitionBytes / MIB)} MiB partition is too small for FAT32 (it needs at least ${FAT32_MIN_CLUSTERS} clusters): use at least ${minimum} MiB.`,
        { partitionBytes, clusterCount },
      );
    }
    if (clusterCount > maxClusters - 2) continue;
    return {
      totalSectors,
      sectorsPerCluster,
      bytesPerCluster: sectorsPerCluster * SECTOR_SIZE,
      reservedSectors: reserved,
      fatCount: FAT32_FAT_COUNT,
      fatSectors,
      clusterCount,
      dataStartSector: reserved + FAT32_FAT_COUNT * fatSectors,
      sectorsPerTrack: chs.sectorsPerTrack,
      heads: chs.heads,
    };
  }
  throw new BootcardError(FatErrorCode.TOO_LARGE, 'The partition is too large for FAT32: choose a smaller size.', { partitionBytes });
}
