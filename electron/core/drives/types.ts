/**
 * What bootcard knows about one whole-disk block device: the base facts
 * drivelist reports, enriched from sysfs (card type, CID, CSD write-protect
 * bits, USB reader vendor/model, loop backing file) and from the mount table.
 *
 * Shared by the CLI, the GUI (through IPC) and the privileged writer, so it is
 * plain JSON: no class instances, no bigint.
 */

/** How the disk is attached: decides whether it can be an SD card at all. */
export type DriveBus = 'mmc' | 'usb' | 'loop' | 'nvme' | 'sata' | 'virtio' | 'other';

/** Fields of an SD/MMC card, read from /sys/block/mmcblkN/device (the kernel already decoded the CID). */
export interface SdCardInfo {
  /** The kernel's card type: 'SD', 'MMC' (eMMC), 'SDIO', ... */
  readonly type: string;
  /** The raw 128-bit CID register as hex, when the kernel exposes it. */
  readonly cid?: string;
  readonly manufacturerId?: number;
  /** A name for `manufacturerId` where it is widely known; undefined otherwise. */
  readonly manufacturer?: string;
  /** The OEM/application ID: two ASCII characters on SD cards (e.g. "SD"), a number on eMMC. */
  readonly oemId?: string;
  /** The product name from the CID (e.g. "SC64G"). */
  readonly name?: string;
  /** The product serial number (PSN) as 0x-prefixed hex. */
  readonly serial?: string;
  /** Manufacturing month as YYYY-MM. */
  readonly manufactureDate?: string;
  /** The raw 128-bit CSD register as hex. */
  readonly csd?: string;
  /** The CSD's write-protect bits: TMP_WRITE_PROTECT (bit 12) and PERM_WRITE_PROTECT (bit 13). */
  readonly writeProtect?: { readonly temporary: boolean; readonly permanent: boolean };
}

export interface Drive {
  /** The device node, e.g. /dev/mmcblk0 or /dev/sdb. */
  readonly device: string;
  /** The kernel name, e.g. mmcblk0. */
  readonly name: string;
  /** Size in bytes; 0 for a card reader slot without a card. */
  readonly size: number;
  /** A human description: vendor and model, or the card's manufacturer and name. */
  readonly description: string;
  readonly vendor?: string;
  readonly model?: string;
  readonly bus: DriveBus;
  /** True when the disk holds the running system (or is a fixed internal disk); never a target. */
  readonly isSystem: boolean;
  /** Why `isSystem` is true, in words (e.g. "mmcblk0p2 is mounted on /"). */
  readonly systemReasons: readonly string[];
  readonly isRemovable: boolean;
  /** The block layer's read-only flag (e.g. the SD adapter's lock switch). */
  readonly isReadOnly: boolean;
  /** An SD card: a card on the MMC bus of type SD, or a USB reader that looks like an SD card reader. */
  readonly isCard: boolean;
  readonly isLoop: boolean;
  readonly loopBackingFile?: string;
  /** Mount points of the disk and all its partitions. */
  readonly mountpoints: readonly string[];
  /** Partitions of the disk or the disk itself used as active swap. */
  readonly swaps: readonly string[];
  /** Kernel devices stacked on this disk or its partitions (device-mapper, RAID...). */
  readonly holders: readonly string[];
  /** MAJOR:MINOR of the disk and each partition, e.g. ["179:0", "179:1"]. */
  readonly deviceNumbers: readonly string[];
  readonly partitions: readonly string[];
  readonly sd?: SdCardInfo;
}

/** Error codes of drive enumeration and target checks (stable API). */
export const DriveErrorCode = {
  SYSTEM: 'DRIVE_SYSTEM',
  MOUNTED: 'DRIVE_MOUNTED',
  IN_USE: 'DRIVE_IN_USE',
  /** A mounted file system of the card could not be unmounted (a program works in it), or another program holds the card open. */
  BUSY: 'DRIVE_BUSY',
  READ_ONLY: 'DRIVE_READ_ONLY',
  WRITE_PROTECTED: 'DRIVE_WRITE_PROTECTED',
  TOO_SMALL: 'DRIVE_TOO_SMALL',
  NO_MEDIA: 'DRIVE_NO_MEDIA',
  HOLDS_SOURCE: 'DRIVE_HOLDS_SOURCE',
  NOT_CARD: 'DRIVE_NOT_CARD',
  LOOP: 'DRIVE_LOOP',
  VANISHED: 'DRIVE_VANISHED',
  PARTITION: 'DRIVE_IS_PARTITION',
  NOT_A_DRIVE: 'DRIVE_NOT_A_DRIVE',
  /** A file target that exists and is not an image file. */
  FILE_EXISTS: 'DRIVE_FILE_EXISTS',
  ENUMERATION_FAILED: 'DRIVE_ENUMERATION_FAILED',
} as const;
