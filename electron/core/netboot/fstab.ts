/**
 * A Pi's /etc/fstab for an NFS root. Raspberry Pi OS mounts its two SD card
 * partitions by PARTUUID (`PARTUUID=<disk signature>-01 /boot/firmware vfat`,
 * `-02 /`); on the network the kernel mounts the root itself (cmdline.txt),
 * and the boot folder is the Pi's TFTP folder, mounted over NFS so that
 * kernel and firmware updates land where the Pi boots from.
 * The SD lines are kept as comments so a person can see what changed.
 */

export interface NetbootFstabOptions {
  readonly server: string;
  /** The exported TFTP folder of this Pi. */
  readonly bootPath: string;
  /** NFS mount options for the boot folder. */
  readonly options?: string;
  /** The image's MBR disk signature: PARTUUID=<it>-NN lines name the SD card's partitions. */
  readonly diskSignature?: number | null;
}

const SD_DEVICE_RE = /^(\/dev\/mmcblk\d+p\d+|\/dev\/sd[a-z]\d+)$/;
const DEFAULT_BOOT_MOUNT = '/boot/firmware';
export const FSTAB_MARK = '# bootcard netboot:';

function namesSdPartition(device: string, mountPoint: string, type: string, signature: string | null): boolean {
  if (SD_DEVICE_RE.test(device)) return true;
  if (signature && device.toLowerCase().startsWith(`partuuid=${signature}-`)) return true;
  // The root and the boot partition, however they are named (UUID=, LABEL=): they are on the card.
  return mountPoint === '/' || ((mountPoint === '/boot' || mountPoint === '/boot/firmware') && type === 'vfat');
}

export function netbootFstab(original: string, options: NetbootFstabOptions): string {
  const signature = options.diskSignature == null ? null : (options.diskSignature >>> 0).toString(16).padStart(8, '0');
  const lines = original.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let bootMount: string | null = null;
  const out: string[] = [];
  for (const line of lines) {
    const fields = line.trim().split(/\s+/);
    if (line.trim().startsWith('#') || fields.length < 3) {
      out.push(line);
      continue;
    }
    const [device, mountPoint, type] = fields as [string, string, string];
    if (namesSdPartition(device, mountPoint, type, signature)) {
      if (type === 'vfat' && mountPoint !== '/') bootMount = mountPoint;
      out.push(`${FSTAB_MARK} on the SD card, not used over the network: ${line}`);
      continue;
    }
    out.push(line);
  }
  out.push(`${FSTAB_MARK} the boot folder is this Pi's TFTP folder`);
  out.push(`${options.server}:${options.bootPath} ${bootMount ?? DEFAULT_BOOT_MOUNT} nfs defaults,${options.options ?? 'vers=4.1,proto=tcp'} 0 0`);
  return `${out.join('\n')}\n`;
}
