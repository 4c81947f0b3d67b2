/**
 * A Pi's cmdline.txt for an NFS root. The kernel command line is one line of
 * space-separated arguments. The image's own arguments (console=, quiet,
 * splash, ...) stay in their order; the ones that name the SD card's root or
 * the first boot's resize step go, and the NFS root arguments take the place
 * of the old `root=` (raspberrypi/documentation, network-boot-raspberry-pi.adoc:
 * replace `root=` onwards with `root=/dev/nfs nfsroot=SERVER:PATH,... rw ip=dhcp rootwait`
 * and remove `init=`).
 */

/** What the Raspberry Pi OS boot partition says about its SD root, and Imager's first-boot resize. */
const REPLACED = [/^root=/, /^rootfstype=/, /^rootwait$/, /^rootdelay=/, /^nfsroot=/, /^ip=/, /^rw$/, /^ro$/, /^init=/, /^resize$/];

export interface NfsRootOptions {
  /** The NFS server's address. */
  readonly server: string;
  /** The exported folder holding this Pi's root file system. */
  readonly path: string;
  /** NFS mount options (default `vers=4.1,proto=tcp`). */
  readonly options?: string;
}

export const DEFAULT_NFS_OPTIONS = 'vers=4.1,proto=tcp';

export function nfsRootArguments(root: NfsRootOptions): string[] {
  return ['root=/dev/nfs', `nfsroot=${root.server}:${root.path},${root.options ?? DEFAULT_NFS_OPTIONS}`, 'rw', 'ip=dhcp', 'rootwait'];
}

/** The new cmdline.txt (one line, ending in a newline). */
export function netbootCmdline(original: string, root: NfsRootOptions): string {
  const args = original.split(/\s+/).filter((a) => a.length > 0);
  const kept: string[] = [];
  let insertAt = -1;
  for (const arg of args) {
    if (REPLACED.some((re) => re.test(arg))) {
      if (insertAt < 0 && arg.startsWith('root=')) insertAt = kept.length;
      continue;
    }
    kept.push(arg);
  }
  if (insertAt < 0) insertAt = kept.length;
  kept.splice(insertAt, 0, ...nfsRootArguments(root));
  return `${kept.join(' ')}\n`;
}

/** The NFS root a command line names (`SERVER:PATH`), or null when its root is not NFS. */
export function cmdlineNfsRoot(cmdline: string): { server: string; path: string; options: string } | null {
  const args = cmdline.split(/\s+/);
  if (!args.includes('root=/dev/nfs')) return null;
  const nfs = args.find((a) => a.startsWith('nfsroot='));
  if (!nfs) return null;
  const m = /^nfsroot=([^:,]+):([^,]+)(?:,(.*))?$/.exec(nfs);
  return m ? { server: m[1]!, path: m[2]!, options: m[3] ?? '' } : null;
}

/** The `root=` argument as written, or null. */
export function cmdlineRoot(cmdline: string): string | null {
  const arg = cmdline.split(/\s+/).find((a) => a.startsWith('root='));
  return arg ? arg.slice('root='.length) : null;
}
