/** The FAT32 composer and reader: public API. */
export { FatErrorCode } from './errors.js';
export { composeFat32Image, DEFAULT_PARTITION_OFFSET, CARD_HEADER_SECTORS, FAT_DEFAULT_TIMESTAMP } from './compose.js';
export type { ComposeFat32Options, FatFileInput, Fat32Image, Fat32Summary } from './compose.js';
export { fat32Geometry, fat32GeometryForSectors, mkfsClusterSectors, FAT32_MIN_CLUSTERS } from './geometry.js';
export type { Fat32Geometry } from './geometry.js';
export { buildMbr, parseMbr, partitionTypeName, PartitionType } from './mbr.js';
export type { MbrPartition, MbrPartitionSpec, ParsedMbr } from './mbr.js';
export { readFatImage, sparseImageReader, parseFat32BootSector, parseDirectory, Fat32Volume } from './reader.js';
export type { ByteReader, FatImage, FatEntry, FatTreeNode, FatBootSector } from './reader.js';
