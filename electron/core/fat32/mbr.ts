/**
 * The MBR (DOS) partition table in sector 0 of a card.
 *
 * Layout of the 512-byte sector:
 *   0x000  446 bytes  boot code (bootcard leaves it zero: a Pi does not run it)
 *   0x1B8    4 bytes  disk signature (LE), shown by `sfdisk -d` as `label-id`
 *   0x1BC    2 bytes  zero
 *   0x1BE   4 x 16    partition entries:
 *                       +0 status (0x80 active, 0x00 not)
 *                       +1 CHS of the first sector (3 bytes)
 *                       +4 partition type (0x0c FAT32 LBA, 0xef EFI system, ...)
 *                       +5 CHS of the last sector (3 bytes)
 *                       +8 first sector, LBA (LE u32)
 *                      +12 number of sectors (LE u32)
 *   0x1FE    2 bytes  signature 0x55 0xAA
 *
 * CHS values use the 255 heads x 63 sectors translation of fdisk/sfdisk and
 * saturate at cylinder 1023 (LBA is what everyone reads).
 */
import { BootcardError } from '../errors.js';
import { SECTOR_SIZE } from '../image/sparse-image.js';
import { FatErrorCode } from './errors.js';

export const MBR_DISK_SIGNATURE_OFFSET = 0x1b8;
export const MBR_PARTITION_TABLE_OFFSET = 0x1be;
export const MBR_PARTITION_ENTRY_SIZE = 16;
export const MBR_PARTITION_COUNT = 4;
export const BOOT_SIGNATURE_OFFSET = 0x1fe;
export const BOOT_SIGNATURE = [0x55, 0xaa] as const;

/** Partition types bootcard writes. */
export const PartitionType = {
  /** FAT32 with LBA addressing: what Raspberry Pi Imager writes for bootloader cards. */
  FAT32_LBA: 0x0c,
  /** EFI system partition: what the pftf firmware documents as the type that boots reliably. */
  EFI_SYSTEM: 0xef,
} as const;

const CHS_HEADS = 255;
const CHS_SECTORS = 63;
const CHS_MAX_CYLINDER = 1023;

export interface MbrPartition {
  /** 1-based slot number in the table. */
  readonly index: number;
  readonly type: number;
  readonly bootable: boolean;
  readonly firstLba: number;
  readonly sectorCount: number;
}

export interface MbrPartitionSpec {
  readonly type: number;
  readonly firstLba: number;
  readonly sectorCount: number;
  readonly bootable?: boolean;
}

function chs(lba: number): [number, number, number] {
  const cylinder = Math.floor(lba / (CHS_HEADS * CHS_SECTORS));
  if (cylinder > CHS_MAX_CYLINDER) return [0xfe, 0xff, 0xff];
  const head = Math.floor(lba / CHS_SECTORS) % CHS_HEADS;
  const sector = (lba % CHS_SECTORS) + 1;
  return [head, ((cylinder >> 2) & 0xc0) | sector, cylinder & 0xff];
}

/** Builds sector 0: a partition table with up to four primary partitions. */
export function buildMbr(partitions: readonly MbrPartitionSpec[], diskSignature: number): Uint8Array {
  if (partitions.length > MBR_PARTITION_COUNT) {
    throw new BootcardError(FatErrorCode.INVALID_LAYOUT, `An MBR holds at most ${MBR_PARTITION_COUNT} partitions.`);
  }
  const sector = new Uint8Array(SECTOR_SIZE);
  const view = new DataView(sector.buffer);
  view.setUint32(MBR_DISK_SIGNATURE_OFFSET, diskSignature >>> 0, true);
  partitions.forEach((p, i) => {
    if (!Number.isSafeInteger(p.firstLba) || p.firstLba < 1 || p.sectorCount < 1 || p.firstLba + p.sectorCount > 0x1_0000_0000) {
      throw new BootcardError(FatErrorCode.INVALID_LAYOUT, `Partition ${i + 1} does not fit an MBR (it must start after sector 0 and end within 2 TiB).`);
    }
    const at = MBR_PARTITION_TABLE_OFFSET + i * MBR_PARTITION_ENTRY_SIZE;
    sector[at] = p.bootable ? 0x80 : 0x00;
    sector.set(chs(p.firstLba), at + 1);
    sector[at + 4] = p.type;
    sector.set(chs(p.firstLba + p.sectorCount - 1), at + 5);
    view.setUint32(at + 8, p.firstLba, true);
    view.setUint32(at + 12, p.sectorCount, true);
  });
  sector[BOOT_SIGNATURE_OFFSET] = BOOT_SIGNATURE[0];
  sector[BOOT_SIGNATURE_OFFSET + 1] = BOOT_SIGNATURE[1];
  return sector;
}

export interface ParsedMbr {
  readonly diskSignature: number;
  readonly partitions: readonly MbrPartition[];
}

/**
 * Parses sector 0. Returns null when the sector has no 0x55AA signature or
 * looks like a FAT boot sector without a table (a "superfloppy").
 */
export function parseMbr(sector: Uint8Array): ParsedMbr | null {
  if (sector.length < SECTOR_SIZE) return null;
  if (sector[BOOT_SIGNATURE_OFFSET] !== BOOT_SIGNATURE[0] || sector[BOOT_SIGNATURE_OFFSET + 1] !== BOOT_SIGNATURE[1]) return null;
  const view = new DataView(sector.buffer, sector.byteOffset, SECTOR_SIZE);
  const partitions: MbrPartition[] = [];
  for (let i = 0; i < MBR_PARTITION_COUNT; i++) {
    const at = MBR_PARTITION_TABLE_OFFSET + i * MBR_PARTITION_ENTRY_SIZE;
    const status = sector[at]!;
    if (status !== 0x00 && status !== 0x80) return null;
    const type = sector[at + 4]!;
    const firstLba = view.getUint32(at + 8, true);
    const sectorCount = view.getUint32(at + 12, true);
    if (type === 0 || sectorCount === 0) continue;
    partitions.push({ index: i + 1, type, bootable: status === 0x80, firstLba, sectorCount });
  }
  return { diskSignature: view.getUint32(MBR_DISK_SIGNATURE_OFFSET, true), partitions };
}

/** GPT's protective entry may claim the whole 2 TiB MBR range whatever the disk's size, so it says nothing about truncation. */
const GPT_PROTECTIVE = 0xee;

/** The first partition that ends past `size` bytes (a table written for a bigger image than this one), if any. */
export function partitionPastEnd(partitions: readonly MbrPartition[], size: number): MbrPartition | undefined {
  return partitions.find((p) => p.type !== GPT_PROTECTIVE && (p.firstLba + p.sectorCount) * SECTOR_SIZE > size);
}

export function partitionTypeName(type: number): string {
  switch (type) {
    case 0x0b:
      return 'FAT32 (CHS)';
    case 0x0c:
      return 'FAT32 (LBA)';
    case 0x0e:
      return 'FAT16 (LBA)';
    case 0x06:
      return 'FAT16';
    case 0xef:
      return 'EFI system';
    case 0x83:
      return 'Linux';
    case 0xee:
      return 'GPT protective';
    default:
      return 'unknown';
  }
}
