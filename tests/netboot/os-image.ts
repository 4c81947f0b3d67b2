/**
 * A small Raspberry Pi OS-shaped image, built without mounting by the same
 * Debian tools a person would use: a FAT32 boot partition (mkfs.vfat, mcopy)
 * with firmware, kernels, device trees, an overlay, config.txt and cmdline.txt,
 * and an ext4 root (mkfs.ext4 -d) with a 0755 binary, a set-uid binary, a
 * symlink, a hard link, a 0600 file owned by 1000:1000, a device node and a
 * file with a capability, behind an MBR written by sfdisk.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';

export const TOOL_ENV = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8', MTOOLS_SKIP_CHECK: '1', TZ: 'UTC' };

export const DISK_SIGNATURE = 0x1234abcd;
export const IMAGE_CMDLINE = 'console=serial0,115200 console=tty1 root=PARTUUID=1234abcd-02 rootfstype=ext4 fsck.repair=yes rootwait quiet splash init=/usr/lib/raspberrypi-sys-mods/firstboot\n';
export const IMAGE_FSTAB = [
  'proc            /proc           proc    defaults          0       0',
  'PARTUUID=1234abcd-01  /boot/firmware  vfat    defaults          0       2',
  'PARTUUID=1234abcd-02  /               ext4    defaults,noatime  0       1',
  '',
].join('\n');
export const IMAGE_CONFIG_TXT = [
  '# For more options and information see http://rptl.io/configtxt',
  'dtparam=audio=on',
  'camera_auto_detect=1',
  'dtoverlay=vc4-kms-v3d',
  'auto_initramfs=1',
  'arm_64bit=1',
  '',
  '[cm4]',
  'otg_mode=1',
  '',
  '[all]',
  'enable_uart=1',
  '',
].join('\n');

/** The boot partition's files (besides config.txt and cmdline.txt), with distinct contents. */
export const BOOT_FILES: Readonly<Record<string, number>> = {
  'bootcode.bin': 52_456,
  'start4.elf': 230_000,
  'fixup4.dat': 5_400,
  'kernel8.img': 300_000,
  'kernel_2712.img': 280_000,
  'initramfs8': 90_000,
  'initramfs_2712': 85_000,
  'bcm2711-rpi-4-b.dtb': 54_000,
  'bcm2712-rpi-5-b.dtb': 78_000,
  'overlays/vc4-kms-v3d.dtbo': 3_000,
  'overlays/vc4-kms-v3d-pi4.dtbo': 3_100,
  'overlays/overlay_map.dtb': 5_000,
  'overlays/README': 1_000,
};

const bootFileCache = new Map<string, Uint8Array>();

export function bootFileBytes(name: string): Uint8Array {
  let bytes = bootFileCache.get(name);
  if (!bytes) {
    bytes = pseudoRandomBytes(BOOT_FILES[name]!, [...name].reduce((a, c) => (a * 31 + c.charCodeAt(0)) >>> 0, 7));
    bootFileCache.set(name, bytes);
  }
  return bytes;
}

const SECTOR = 512;
const BOOT_START = 2048;
const BOOT_SECTORS = 40 * 2048; // 40 MiB: FAT32 needs 65,525 clusters
const ROOT_START = BOOT_START + BOOT_SECTORS;
const ROOT_SECTORS = 16 * 2048;

export function toolsMissing(): string | null {
  for (const tool of ['mkfs.vfat', 'mcopy', 'mkfs.ext4', 'debugfs', 'sfdisk', 'setcap', 'getcap', 'setfattr', 'xz', 'zstd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`], { env: TOOL_ENV }).status !== 0) return `${tool} is not installed`;
  }
  if (process.getuid?.() !== 0) return 'building the root needs root (owners, capabilities)';
  return null;
}

/** The root file system's source folder (what mkfs.ext4 -d copies). */
function makeRootSource(dir: string): void {
  for (const d of ['bin', 'etc', 'home/pi', 'dev', 'usr/bin']) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(path.join(dir, 'usr/bin/tool'), '#!/bin/sh\necho tool\n');
  chmodSync(path.join(dir, 'usr/bin/tool'), 0o755);
  writeFileSync(path.join(dir, 'usr/bin/sudo'), '#!/bin/sh\necho sudo\n');
  chmodSync(path.join(dir, 'usr/bin/sudo'), 0o4755);
  linkSync(path.join(dir, 'usr/bin/tool'), path.join(dir, 'usr/bin/tool-again'));
  symlinkSync('../usr/bin/tool', path.join(dir, 'bin/tool'));
  writeFileSync(path.join(dir, 'usr/bin/ping'), '#!/bin/sh\necho ping\n');
  chmodSync(path.join(dir, 'usr/bin/ping'), 0o755);
  execFileSync('setcap', ['cap_net_raw+ep', path.join(dir, 'usr/bin/ping')]);
  writeFileSync(path.join(dir, 'home/pi/secret'), 'only for pi\n');
  chmodSync(path.join(dir, 'home/pi/secret'), 0o600);
  chownSync(path.join(dir, 'home/pi/secret'), 1000, 1000);
  chownSync(path.join(dir, 'home/pi'), 1000, 1000);
  execFileSync('mknod', ['-m', '0666', path.join(dir, 'dev/null'), 'c', '1', '3']);
  writeFileSync(path.join(dir, 'etc/fstab'), IMAGE_FSTAB);
  writeFileSync(path.join(dir, 'etc/hostname'), 'raspberrypi\n');
  writeFileSync(path.join(dir, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n\n127.0.1.1\t\traspberrypi\n');
}

export interface BuiltImage {
  readonly img: string;
  readonly xz: string;
  readonly zst: string;
  readonly gz: string;
}

export interface OsImageOptions {
  /** Alters the root's source folder before mkfs.ext4 copies it. */
  readonly changeRoot?: (rootDir: string) => void;
  /** Also write .xz, .zst and .gz (default true). */
  readonly compress?: boolean;
  readonly rootMiB?: number;
}

/** Builds os.img in `dir`, and its .xz, .zst and .gz. */
export function buildOsImage(dir: string, options: OsImageOptions = {}): BuiltImage {
  const rootSectors = (options.rootMiB ?? ROOT_SECTORS / 2048) * 2048;
  const bootDir = path.join(dir, 'boot-src');
  mkdirSync(path.join(bootDir, 'overlays'), { recursive: true });
  for (const name of Object.keys(BOOT_FILES)) writeFileSync(path.join(bootDir, name), bootFileBytes(name));
  writeFileSync(path.join(bootDir, 'config.txt'), IMAGE_CONFIG_TXT);
  writeFileSync(path.join(bootDir, 'cmdline.txt'), IMAGE_CMDLINE);
  const bootPart = path.join(dir, 'boot.part');
  execFileSync('truncate', ['-s', String(BOOT_SECTORS * SECTOR), bootPart]);
  execFileSync('mkfs.vfat', ['-F', '32', '-s', '1', '-n', 'bootfs', bootPart], { env: TOOL_ENV, stdio: 'ignore' });
  execFileSync('mcopy', ['-s', '-i', bootPart, ...['overlays', ...Object.keys(BOOT_FILES).filter((n) => !n.includes('/')), 'config.txt', 'cmdline.txt'].map((n) => path.join(bootDir, n)), '::/'], { env: TOOL_ENV });

  const rootDir = path.join(dir, 'root-src');
  makeRootSource(rootDir);
  options.changeRoot?.(rootDir);
  const rootPart = path.join(dir, 'root.part');
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', '-d', rootDir, rootPart, `${(rootSectors * SECTOR) / 1024}k`], { env: TOOL_ENV, stdio: 'ignore' });

  const img = path.join(dir, 'os.img');
  execFileSync('truncate', ['-s', String((ROOT_START + rootSectors) * SECTOR), img]);
  execFileSync('sfdisk', ['--quiet', img], {
    env: TOOL_ENV,
    input: `label: dos\nlabel-id: 0x${DISK_SIGNATURE.toString(16)}\nstart=${BOOT_START}, size=${BOOT_SECTORS}, type=c\nstart=${ROOT_START}, size=${rootSectors}, type=83\n`,
  });
  execFileSync('dd', [`if=${bootPart}`, `of=${img}`, `bs=${SECTOR}`, `seek=${BOOT_START}`, 'conv=notrunc,sparse', 'status=none']);
  execFileSync('dd', [`if=${rootPart}`, `of=${img}`, `bs=${SECTOR}`, `seek=${ROOT_START}`, 'conv=notrunc,sparse', 'status=none']);
  const xz = `${img}.xz`;
  const zst = `${img}.zst`;
  const gz = `${img}.gz`;
  if (options.compress !== false) execFileSync('sh', ['-c', `xz -T1 -1 -c "${img}" > "${xz}" && zstd -q -1 -c "${img}" > "${zst}" && gzip -1 -c "${img}" > "${gz}"`]);
  return { img, xz, zst, gz };
}
