/**
 * Pure interpretation of sysfs attribute text. The I/O side (enumerate.io.ts)
 * reads the files; this module decides what they mean.
 *
 * Sources: Documentation/ABI/testing/sysfs-bus-mmc and drivers/mmc/core/bus.c
 * (the kernel exports the decoded CID fields as separate attributes of
 * /sys/block/mmcblkN/device: manfid "0x000003", oemid "0x5344", name "SC64G",
 * serial "0x1a2b3c4d", date "08/2019", and the raw `cid` and `csd` registers
 * as 32 hex digits, most significant bit first).
 */
import { csdFromHex, decodeCsd } from '../sdlock/csd.js';
import type { DriveBus, SdCardInfo } from './types.js';

/**
 * SD Association manufacturer IDs (MID) as widely reported by card readers and
 * the Linux community; the SD Association does not publish the list, so
 * unknown IDs stay numeric.
 */
export const SD_MANUFACTURERS: Readonly<Record<number, string>> = {
  0x01: 'Panasonic',
  0x02: 'Toshiba/Kioxia',
  0x03: 'SanDisk',
  0x09: 'ATP',
  0x13: 'Kingmax',
  0x1b: 'Samsung',
  0x1d: 'ADATA',
  0x27: 'Phison',
  0x28: 'Lexar',
  0x31: 'Silicon Power',
  0x41: 'Kingston',
  0x6f: 'STMicroelectronics',
  0x74: 'Transcend',
  0x76: 'Patriot',
  0x82: 'Sony',
  0x9c: 'Angelbird/Hoodman',
  0x9f: 'Texas Instruments',
};

/** The CSD's write-protect flags, decoded by the SD-lock area's CSD parser (the one CSD parser). */
export function csdWriteProtect(hex: string): { temporary: boolean; permanent: boolean } | undefined {
  try {
    const csd = decodeCsd(csdFromHex(hex));
    return { temporary: csd.tmpWriteProtect, permanent: csd.permWriteProtect };
  } catch {
    return undefined;
  }
}

/** Raw attribute texts of /sys/block/mmcblkN/device (each undefined when the file is missing). */
export interface MmcAttributes {
  readonly type?: string;
  readonly cid?: string;
  readonly csd?: string;
  readonly manfid?: string;
  readonly oemid?: string;
  readonly name?: string;
  readonly serial?: string;
  readonly date?: string;
}

function hexNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!/^0x[0-9a-f]+$/i.test(t)) return undefined;
  return parseInt(t.slice(2), 16);
}

/** SD cards carry a two-character ASCII OEM ID; eMMC an 8-bit number. */
function decodeOemId(text: string | undefined, type: string): string | undefined {
  const value = hexNumber(text);
  if (value === undefined) return text?.trim() || undefined;
  if (type === 'SD' && value > 0xff) {
    const chars = String.fromCharCode((value >> 8) & 0xff, value & 0xff);
    if (/^[\x20-\x7e]{2}$/.test(chars)) return chars;
  }
  return `0x${value.toString(16).padStart(4, '0')}`;
}

/** "08/2019" -> "2019-08". */
function decodeDate(text: string | undefined): string | undefined {
  const m = text?.trim().match(/^(\d{1,2})\/(\d{4})$/);
  if (!m) return undefined;
  return `${m[2]}-${m[1]!.padStart(2, '0')}`;
}

export function decodeMmcAttributes(attrs: MmcAttributes): SdCardInfo {
  const type = attrs.type?.trim() || 'unknown';
  const manufacturerId = hexNumber(attrs.manfid);
  const serialValue = hexNumber(attrs.serial);
  const info: SdCardInfo = {
    type,
    ...(attrs.cid ? { cid: attrs.cid.trim().toLowerCase() } : {}),
    ...(manufacturerId !== undefined ? { manufacturerId } : {}),
    ...(manufacturerId !== undefined && type === 'SD' && SD_MANUFACTURERS[manufacturerId] ? { manufacturer: SD_MANUFACTURERS[manufacturerId] } : {}),
    ...(decodeOemId(attrs.oemid, type) !== undefined ? { oemId: decodeOemId(attrs.oemid, type)! } : {}),
    ...(attrs.name?.trim() ? { name: attrs.name.trim() } : {}),
    ...(serialValue !== undefined ? { serial: `0x${serialValue.toString(16).padStart(8, '0')}` } : {}),
    ...(decodeDate(attrs.date) ? { manufactureDate: decodeDate(attrs.date)! } : {}),
    ...(attrs.csd ? { csd: attrs.csd.trim().toLowerCase() } : {}),
  };
  const wp = attrs.csd ? csdWriteProtect(attrs.csd) : undefined;
  return wp ? { ...info, writeProtect: wp } : info;
}

/**
 * The bus from the device's resolved sysfs path (e.g.
 * /sys/devices/platform/emmc2bus/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0).
 */
export function busFromSysfsPath(resolved: string, name: string): DriveBus {
  if (name.startsWith('loop') || resolved.includes('/virtual/block/loop')) return 'loop';
  if (resolved.includes('/mmc_host/')) return 'mmc';
  if (/\/usb\d+\//.test(resolved)) return 'usb';
  if (resolved.includes('/nvme/') || name.startsWith('nvme')) return 'nvme';
  if (/\/virtio\d+\//.test(resolved) || name.startsWith('vd')) return 'virtio';
  if (/\/ata\d+\//.test(resolved)) return 'sata';
  return 'other';
}

/**
 * Never a place to write an image: eMMC hardware boot partitions and the
 * replay-protected memory block, RAM disks, compressed-RAM swap, optical and
 * floppy drives.
 */
export function isNeverATarget(name: string): boolean {
  return /^mmcblk\d+(boot\d+|rpmb)$/.test(name) || /^(zram|ram|sr|fd)\d+$/.test(name);
}

/** USB mass-storage SCSI vendor/model strings that card readers use ("Generic- SD/MMC", "USB3.0 CRW -SD"...). */
export function looksLikeCardReader(vendor: string | undefined, model: string | undefined): boolean {
  const text = `${vendor ?? ''} ${model ?? ''}`;
  return /\b(STORAGE DEVICE|SD|MMC|SDXC|SDHC|micro ?SD|CRW|card ?reader|multi-?card|reader)\b/i.test(text) || /SD\/MMC|MS\/MS-Pro|xD/i.test(text);
}

/** Mount points that mean the disk runs this system. */
const SYSTEM_MOUNTS = ['/', '/boot', '/boot/firmware', '/boot/efi', '/efi', '/usr', '/var', '/home', '/etc', '/opt', '/srv'];

export function isSystemMountpoint(mountpoint: string): boolean {
  return SYSTEM_MOUNTS.includes(mountpoint) || mountpoint.startsWith('/usr/') || mountpoint.startsWith('/var/');
}
