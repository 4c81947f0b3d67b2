/**
 * Plays the TFTP requests a Raspberry Pi 4 (BCM2711) or 5 (BCM2712) makes
 * when it network boots, against any file source (the check uses real TFTP),
 * and says what it would get.
 *
 * The order follows the bootloader documentation (eeprom-bootloader.adoc,
 * TFTP_PREFIX) and what a TFTP server logs for a Pi 4:
 *  1. the bootloader asks for PREFIX/start4.elf, then PREFIX/start.elf; with
 *     neither there it clears the prefix and asks at the TFTP root;
 *  2. config.txt (with its `include`s), read with the board's conditional
 *     sections ([pi4] / [pi5], [all], [none], [tryboot] ...);
 *  3. on a Pi 4 the GPU firmware start_file / fixup_file (start4.elf, fixup4.dat);
 *     a Pi 5 has its firmware in the EEPROM;
 *  4. the device tree (device_tree=, else bcm2711-rpi-4-b.dtb / bcm2712-rpi-5-b.dtb),
 *     the overlays (dtoverlay=, from overlay_prefix, the board's -pi4/-pi5
 *     variant first as overlay_map.dtb maps them), cmdline.txt (cmdline=),
 *     the kernel (kernel=, else kernel8.img / kernel_2712.img) and the
 *     initramfs (`initramfs FILE`, or auto_initramfs=1: initramfs8 / initramfs_2712),
 *     all under os_prefix.
 * The model is a Pi 4 Model B or a Pi 5 Model B; other models of the same
 * chip (400, CM4, 500, CM5) name other device trees, given with device_tree=.
 */
import { cmdlineNfsRoot, cmdlineRoot } from './cmdline.js';

export type NetbootBoard = '2711' | '2712';

/** Reads a file over TFTP: its bytes, or null when the server has no such file. */
export type TftpReader = (path: string) => Promise<Uint8Array | null>;

export type StepOutcome = 'sent' | 'missing' | 'absent-ok';

export interface BootStep {
  /** The file name as requested (prefix included). */
  readonly file: string;
  /** What the Pi wants it for. */
  readonly role: string;
  readonly outcome: StepOutcome;
  readonly bytes?: number;
}

export interface BootReport {
  readonly board: NetbootBoard;
  /** The folder the Pi's prefix named ('' for none). */
  readonly askedFolder: string;
  /** The folder its files came from ('' = the TFTP root, after the prefix was cleared). */
  readonly usedFolder: string;
  readonly steps: readonly BootStep[];
  /** Why the Pi would not boot; empty when it would. */
  readonly problems: readonly string[];
  readonly warnings: readonly string[];
  readonly kernel: string | null;
  readonly cmdline: string | null;
  readonly bootable: boolean;
}

const MODEL_FILTERS = new Set(['pi1', 'pi2', 'pi3', 'pi3+', 'pi4', 'pi400', 'pi5', 'pi500', 'pi0', 'pi0w', 'pi02', 'cm1', 'cm3', 'cm3+', 'cm4', 'cm4s', 'cm5', 'cm0', 'board-type']);

const BOARD = {
  '2711': { model: 'pi4', name: 'Pi 4', start: 'start4.elf', fixup: 'fixup4.dat', dtb: 'bcm2711-rpi-4-b.dtb', kernels: ['kernel8.img'], overlaySuffix: '-pi4' },
  '2712': { model: 'pi5', name: 'Pi 5', start: null, fixup: null, dtb: 'bcm2712-rpi-5-b.dtb', kernels: ['kernel_2712.img', 'kernel8.img'], overlaySuffix: '-pi5' },
} as const;

interface ConfigSettings {
  readonly values: Map<string, string>;
  readonly overlays: string[];
  initramfs: string | null;
}

/** Whether a conditional section applies to this board (filters bootcard cannot know, like [gpio4=1], are taken as true). */
function filterApplies(filter: string, board: NetbootBoard, serial: string | null): boolean {
  const f = filter.toLowerCase();
  if (f === 'none' || f === 'tryboot') return false;
  if (MODEL_FILTERS.has(f)) return f === BOARD[board].model;
  const serialFilter = /^0x([0-9a-f]+)$/.exec(f);
  if (serialFilter) return serial !== null && parseInt(serialFilter[1]!, 16) === parseInt(serial, 16);
  return true;
}

/** Reads config.txt as the firmware would, fetching `include`d files; returns the settings that apply. */
async function readConfig(
  text: string,
  board: NetbootBoard,
  serial: string | null,
  include: (name: string) => Promise<string | null>,
  settings: ConfigSettings = { values: new Map(), overlays: [], initramfs: null },
  depth = 0,
): Promise<ConfigSettings> {
  let model: string | null = null;
  const others: string[] = [];
  const active = () => (model === null || filterApplies(model, board, serial)) && others.every((o) => filterApplies(o, board, serial));
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      const filter = header[1]!.trim().toLowerCase();
      if (filter === 'all') {
        model = null;
        others.length = 0;
      } else if (MODEL_FILTERS.has(filter)) model = filter;
      else others.push(filter);
      continue;
    }
    if (!active()) continue;
    const spaced = /^(include|initramfs)\s+(\S+)/.exec(line);
    if (spaced) {
      if (spaced[1] === 'initramfs') settings.initramfs = spaced[2]!;
      else if (depth < 8) {
        const included = await include(spaced[2]!);
        if (included !== null) await readConfig(included, board, serial, include, settings, depth + 1);
      }
      continue;
    }
    const assign = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (!assign) continue;
    const key = assign[1]!.toLowerCase();
    const value = assign[2]!.trim();
    if (key === 'dtoverlay') {
      if (value === '') settings.overlays.length = 0;
      else settings.overlays.push(value.split(',')[0]!.split(':')[0]!);
    } else settings.values.set(key, value);
  }
  return settings;
}

export interface SimulateOptions {
  readonly board: NetbootBoard;
  /** The folder the Pi's TFTP_PREFIX names ('' when it asks at the root). */
  readonly folder: string;
  /** The Pi's serial number when known (for [0x...] sections). */
  readonly serial?: string | null;
  readonly read: TftpReader;
}

export async function simulateNetboot(options: SimulateOptions): Promise<BootReport> {
  const { board, read } = options;
  const spec = BOARD[board];
  const steps: BootStep[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  const fetch = async (file: string, role: string, required: boolean): Promise<Uint8Array | null> => {
    const bytes = await read(file);
    steps.push(bytes ? { file, role, outcome: 'sent', bytes: bytes.length } : { file, role, outcome: required ? 'missing' : 'absent-ok' });
    return bytes;
  };

  let prefix = options.folder ? `${options.folder}/` : '';
  if (prefix) {
    const found = (await fetch(`${prefix}start4.elf`, 'the bootloader looks for the Pi\'s folder', false)) ?? (await fetch(`${prefix}start.elf`, 'the bootloader looks for the Pi\'s folder', false));
    if (!found) {
      warnings.push(`${options.folder}/ has no start4.elf or start.elf, so the bootloader clears the prefix and asks at the TFTP root instead.`);
      prefix = '';
    }
  }
  const usedFolder = prefix.replace(/\/$/, '');
  const where = usedFolder ? `${usedFolder}/` : 'the TFTP root';
  const text = (bytes: Uint8Array | null) => (bytes ? new TextDecoder().decode(bytes) : null);

  const configBytes = await fetch(`${prefix}config.txt`, 'bootloader and firmware settings', false);
  if (!configBytes) warnings.push(`There is no config.txt in ${where}: the firmware uses its defaults.`);
  const config = await readConfig(text(configBytes) ?? '', board, options.serial ?? null, async (name) => text(await fetch(`${prefix}${name}`, 'included by config.txt', false)));
  const value = (key: string) => config.values.get(key);

  if (board === '2711') {
    const startFile = value('start_file') ?? (value('start_x') === '1' ? 'start4x.elf' : spec.start!);
    const fixupFile = value('fixup_file') ?? (value('start_x') === '1' ? 'fixup4x.dat' : spec.fixup!);
    if (!(await fetch(`${prefix}${startFile}`, 'GPU firmware', true))) problems.push(`The GPU firmware ${startFile} is missing from ${where}.`);
    if (!(await fetch(`${prefix}${fixupFile}`, 'GPU firmware memory layout', true))) problems.push(`${fixupFile} (which goes with ${startFile}) is missing from ${where}.`);
  }

  const osPrefix = value('os_prefix') ?? '';
  const base = `${prefix}${osPrefix}`;
  const deviceTree = value('device_tree');
  if (deviceTree !== '') {
    const dtb = deviceTree ?? spec.dtb;
    if (!(await fetch(`${base}${dtb}`, 'device tree', true))) problems.push(`The device tree ${osPrefix}${dtb} is missing from ${where}${deviceTree ? ' (config.txt names it with device_tree=)' : ` (the ${spec.name} asks for it by default)`}.`);
  }
  const overlayPrefix = value('overlay_prefix') ?? 'overlays/';
  if (config.overlays.length > 0) await fetch(`${base}${overlayPrefix}overlay_map.dtb`, 'overlay names per board', false);
  for (const overlay of config.overlays) {
    const variant = await fetch(`${base}${overlayPrefix}${overlay}${spec.overlaySuffix}.dtbo`, `overlay ${overlay} for the ${spec.name}`, false);
    if (!variant && !(await fetch(`${base}${overlayPrefix}${overlay}.dtbo`, `overlay ${overlay}`, true))) {
      warnings.push(`The overlay ${overlay} (dtoverlay=${overlay}) is missing from ${where}${overlayPrefix}: the Pi boots without it.`);
    }
  }

  const cmdlineFile = value('cmdline') ?? 'cmdline.txt';
  const cmdline = text(await fetch(`${prefix}${cmdlineFile}`, 'kernel command line', true));
  if (cmdline === null) problems.push(`${cmdlineFile} is missing from ${where}: the kernel would not know where its root file system is.`);
  else {
    const nfs = cmdlineNfsRoot(cmdline);
    const root = cmdlineRoot(cmdline);
    if (!nfs) warnings.push(root ? `cmdline.txt mounts root=${root}, not an NFS root: the Pi would look for its root on a local disk.` : 'cmdline.txt names no root=.');
  }

  let kernel: string | null = null;
  const kernelNames = value('kernel') ? [value('kernel')!] : value('arm_64bit') === '0' && board === '2711' ? ['kernel7l.img'] : [...spec.kernels];
  for (const name of kernelNames) {
    if (await fetch(`${base}${name}`, 'kernel', name === kernelNames[kernelNames.length - 1])) {
      kernel = name;
      break;
    }
  }
  if (!kernel) {
    const why = value('kernel') ? 'config.txt names it with kernel=' : `config.txt names no kernel=, so the ${spec.name} asks for ${kernelNames.join(', then ')}`;
    problems.push(`The kernel ${osPrefix}${kernelNames[0]} is missing from ${where} (${why}).`);
  }

  if (config.initramfs) {
    if (!(await fetch(`${base}${config.initramfs}`, 'initramfs (config.txt: initramfs)', true))) problems.push(`The initramfs ${config.initramfs} that config.txt names is missing from ${where}.`);
  } else if (value('auto_initramfs') === '1' && kernel) {
    const initramfs = kernel.replace(/^kernel/, 'initramfs').replace(/\.img$/, '');
    await fetch(`${base}${initramfs}`, 'initramfs (auto_initramfs=1)', false);
  }

  return { board, askedFolder: options.folder, usedFolder, steps, problems, warnings, kernel, cmdline, bootable: problems.length === 0 };
}

/** The report in words, one line per request, then the verdict. */
export function formatBootReport(report: BootReport, server: string): string {
  const lines: string[] = [];
  const board = BOARD[report.board].name;
  lines.push(`A Raspberry Pi ${board.slice(3)} (${report.board}) asking ${server} for ${report.askedFolder ? `the folder ${report.askedFolder}/` : 'files at the TFTP root'}:`);
  for (const step of report.steps) {
    const status = step.outcome === 'sent' ? 'got    ' : step.outcome === 'missing' ? 'MISSING' : 'absent ';
    lines.push(`  ${status} ${step.file}${step.bytes !== undefined ? ` (${step.bytes} bytes)` : ''}  - ${step.role}`);
  }
  for (const w of report.warnings) lines.push(`Note: ${w}`);
  for (const p of report.problems) lines.push(`Problem: ${p}`);
  if (report.bootable) {
    const nfs = report.cmdline ? cmdlineNfsRoot(report.cmdline) : null;
    lines.push(
      `The Pi would boot: ${report.kernel} from ${report.usedFolder ? `${report.usedFolder}/` : 'the TFTP root'}${nfs ? `, with its root file system over NFS from ${nfs.server}:${nfs.path}` : ''}.`,
    );
  } else lines.push(`The Pi would not boot: ${report.problems.length} file(s) it needs are missing.`);
  return `${lines.join('\n')}\n`;
}
