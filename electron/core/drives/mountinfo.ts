/**
 * Parsers for /proc/self/mountinfo and /proc/swaps (see proc(5)).
 *
 * mountinfo, one mount per line:
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)   (10)         (11)
 * Field 3 is the MAJOR:MINOR of the mounted device: the reliable way to tie a
 * mount to a disk, even when field 10 says /dev/root. Paths escape space, tab,
 * newline and backslash as octal (\040, \011, \012, \134).
 *
 * /proc/swaps: a header line, then "Filename Type Size Used Priority".
 */

export interface MountEntry {
  /** MAJOR:MINOR of the mounted device, e.g. "179:2". */
  readonly deviceNumber: string;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly source: string;
}

function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 6 || fields.length < dash + 3) continue;
    mounts.push({
      deviceNumber: fields[2]!,
      mountpoint: unescapeOctal(fields[4]!),
      fstype: fields[dash + 1]!,
      source: unescapeOctal(fields[dash + 2]!),
    });
  }
  return mounts;
}

/** A mount with its place in the mount tree (fields 1 and 2). */
export interface MountNode extends MountEntry {
  readonly id: number;
  readonly parentId: number;
}

/** Like parseMountinfo, with each mount's ID and its parent's: what is mounted on top of what. */
export function parseMountTree(text: string): MountNode[] {
  const nodes: MountNode[] = [];
  for (const line of text.split('\n')) {
    const [mount] = parseMountinfo(line);
    if (!mount) continue;
    const [id, parentId] = line.split(' ').map(Number);
    nodes.push({ ...mount, id: id!, parentId: parentId! });
  }
  return nodes;
}

/** The swap files and partitions in use (their paths). */
export function parseSwaps(text: string): string[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name.length > 0)
    .map(unescapeOctal);
}
