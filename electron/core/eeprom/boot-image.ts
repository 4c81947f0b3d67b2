/**
 * The boot.img of HTTP boot (BOOT_ORDER mode 7) and network install: a FAT
 * file system image with no partition table that the bootloader downloads
 * from http(s)://HTTP_HOST:HTTP_PORT/HTTP_PATH/boot.img, checks against
 * boot.sig (rpi-eeprom-digest: sha256, ts, rsa2048 with your key when
 * HTTP_HOST is yours), and boots as a ramdisk.
 *
 * Raspberry Pi's usbboot tools/rpi-make-boot-image makes it with
 * `mkfs.fat -C` (label BOOT, no partition table) sized to its files, then
 * mounts it to copy them in. bootcard makes the same kind of image with its
 * own FAT32 composer: the files laid out in memory, no mount, no mkfs; the
 * volume is as small as FAT32 allows for the content (at least 65,529
 * clusters, so about 34 MiB for a small boot folder).
 */
import { BootcardError } from '../errors.js';
import { composeFat32Image, type FatFileInput } from '../fat32/compose.js';
import { FatErrorCode } from '../fat32/errors.js';
import { fat32Geometry } from '../fat32/geometry.js';
import { PartitionType } from '../fat32/mbr.js';
import { readSparse, SECTOR_SIZE } from '../image/sparse-image.js';
import { EepromErrorCode } from './codes.js';

export const BOOT_IMAGE_LABEL = 'BOOT';
const MIB = 1024 * 1024;
/** The composer needs a partition start; the volume is cut out of the image after composing. */
const COMPOSE_OFFSET = 34 * SECTOR_SIZE;
/** Boot sector field "hidden sectors" (sectors before the volume): 0 for a volume at byte 0. */
const HIDDEN_SECTORS_OFFSET = 0x1c;
const BACKUP_BOOT_SECTOR = 6;
/** The bootloader loads boot.img into RAM; rpi-make-boot-image warns above 20 MiB of files. */
export const LARGE_BOOT_IMAGE_BYTES = 20 * MIB;

export interface BootImageOptions {
  readonly files: readonly FatFileInput[];
  /** Unix seconds for the files without an mtime and the volume. */
  readonly timestamp: number;
}

export interface BootImage {
  readonly bytes: Uint8Array;
  readonly fileCount: number;
  readonly contentBytes: number;
}

/** The smallest FAT32 size (whole MiB) at which `contentBytes` plus one cluster per entry fits. */
function sizeFor(contentBytes: number, entries: number): number {
  let size = 34 * MIB;
  for (;;) {
    const g = fat32Geometry(size);
    const clusters = Math.ceil(contentBytes / g.bytesPerCluster) + entries * 2 + 16;
    if (clusters <= g.clusterCount) return size;
    size = Math.ceil((size + (clusters - g.clusterCount) * g.bytesPerCluster) / MIB) * MIB;
  }
}

export function composeBootImage(options: BootImageOptions): BootImage {
  const files = options.files.filter((f) => !f.directory);
  if (files.length === 0) {
    throw new BootcardError(EepromErrorCode.BAD_BOOT_IMAGE, 'The boot folder has no files: boot.img needs the firmware (start4.elf/fixup4.dat on a Pi 4), config.txt, a kernel and its .dtb files.');
  }
  const contentBytes = files.reduce((sum, f) => sum + (f.data?.length ?? 0), 0);
  let size = sizeFor(contentBytes, options.files.length);
  for (let attempt = 0; ; attempt++) {
    try {
      const image = composeFat32Image({
        files: options.files,
        partitionSize: size,
        partitionType: PartitionType.FAT32_LBA,
        partitionOffset: COMPOSE_OFFSET,
        label: BOOT_IMAGE_LABEL,
        timestamp: options.timestamp,
      });
      const bytes = readSparse(image, COMPOSE_OFFSET, size);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      view.setUint32(HIDDEN_SECTORS_OFFSET, 0, true);
      view.setUint32(BACKUP_BOOT_SECTOR * SECTOR_SIZE + HIDDEN_SECTORS_OFFSET, 0, true);
      return { bytes, fileCount: files.length, contentBytes };
    } catch (error) {
      // Folders and long names take more clusters than the estimate: grow and retry.
      if (error instanceof BootcardError && error.code === FatErrorCode.NO_SPACE && attempt < 8) {
        size += Math.max(MIB, Math.ceil(size / 8 / MIB) * MIB);
        continue;
      }
      throw error;
    }
  }
}

/** The names the bootloader needs at the top of boot.img for a board, if it has none of them a warning. */
export function bootImageWarnings(paths: readonly string[], contentBytes: number): string[] {
  const names = new Set(paths.map((p) => p.toLowerCase()));
  const warnings: string[] = [];
  if (!names.has('config.txt')) warnings.push('boot.img has no config.txt at its top: the firmware will use its defaults.');
  const firmware = ['start4.elf', 'start.elf'].some((n) => names.has(n));
  const kernel = [...names].some((n) => /^kernel[^/]*\.img$/.test(n) || n === 'kernel_2712.img');
  if (!firmware && !kernel) warnings.push('boot.img has neither a start4.elf (Pi 4) nor a kernel*.img at its top: is this a boot folder?');
  if (contentBytes > LARGE_BOOT_IMAGE_BYTES) warnings.push(`The files are ${Math.round(contentBytes / MIB)} MiB; the Pi holds boot.img in RAM, so remove what it does not need (rpi-make-boot-image warns above 20 MiB).`);
  return warnings;
}
