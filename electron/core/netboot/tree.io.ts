/**
 * Builds the server half of network boot from an OS image:
 *
 *   TFTP_ROOT/bootcode.bin                 (Pi 3 and older ask for it at the root)
 *   TFTP_ROOT/.bootcard-shared/<sha256>    one copy of every boot file
 *   TFTP_ROOT/<pi folder>/...              the boot partition, hard links into .bootcard-shared,
 *                                          with its own config.txt, cmdline.txt (NFS root) and first-boot files
 *   NFS_ROOT/<pi folder>/...               the image's root file system, /etc/fstab for NFS
 *
 * A hundred Pis cost one boot partition. Each Pi's folder is built beside
 * the old one and swapped in by rename, so a failed run leaves the old
 * folder working; a folder without bootcard's marker file is never touched.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { applyConfigTxtEdits, type ConfigTxtEdit } from '../configtxt/config-txt.js';
import { BootcardError, CommonErrorCode, inWizardWords, toBootcardError } from '../errors.js';
import { openByteReader } from '../fat32/byte-reader.io.js';
import { decompressToSparseFile, detectCompression } from '../image/compressed-image.io.js';
import { netbootCmdline, type NfsRootOptions } from './cmdline.js';
import { NetbootErrorCode } from './errors.js';
import { extractExt4 } from './ext4-extract.io.js';
import type { ExtractSummary, PiTreeResult, TreeResult } from './tree-result.js';

export type { ExtractSummary, PiTreeResult, TreeResult } from './tree-result.js';
import { netbootFstab } from './fstab.js';
import { readOsImageLayout } from './image-layout.js';
import { TFTP_PREFIX_MODE } from './pi-id.js';
import type { PiSpec } from './pis.js';

const execFileAsync = promisify(execFile);

/** Marks a folder bootcard made; it also says which Pi, root and server it was made for. */
export const MARKER_FILE = '.bootcard-netboot.json';
export const SHARED_FOLDER = '.bootcard-shared';
const WORK_PREFIX = '.bootcard-work-';
/** Files each Pi gets its own copy of (edited per Pi, or edited on the Pi over NFS). */
const OWN_COPY = new Set(['config.txt', 'cmdline.txt']);

export interface NetbootMarker {
  readonly madeBy: 'bootcard netboot tree';
  readonly kind: 'tftp' | 'nfs';
  readonly pi: { readonly kind: string; readonly folder: string; readonly tftpPrefix: number };
  readonly image: string;
  readonly server?: string;
  readonly tftpFolder: string;
  readonly nfsFolder?: string;
}

export interface TreeOptions {
  readonly image: string;
  readonly tftpRoot: string;
  readonly nfsRoot?: string;
  /** The NFS (and TFTP) server address the Pis mount from; needed with nfsRoot. */
  readonly server?: string;
  readonly nfsOptions?: string;
  readonly pis: readonly PiSpec[];
  readonly configTxtEdits?: readonly ConfigTxtEdit[];
  readonly onProgress?: (text: string) => void;
  /** Aborting stops the run within seconds (child processes killed); finished Pi folders stay, the rest as before. */
  readonly signal?: AbortSignal;
}

function unsafePath(name: string): BootcardError {
  return new BootcardError(NetbootErrorCode.UNSAFE_PATH, `The image's boot partition holds "${name}", a path bootcard will not create on the server.`, { path: name });
}

/** Boot partition paths become server paths: no `..`, no empty or hidden bootcard names. */
function checkBootPath(relative: string): void {
  for (const part of relative.split('/')) {
    if (part === '' || part === '.' || part === '..' || part.includes('\\') || part.includes('\0') || part.startsWith('.bootcard')) throw unsafePath(relative);
  }
}

async function readMarker(folder: string): Promise<NetbootMarker | null> {
  try {
    const handle = await open(path.join(folder, MARKER_FILE), 'r');
    try {
      const parsed: unknown = JSON.parse(await handle.readFile('utf8'));
      return typeof parsed === 'object' && parsed !== null && (parsed as { madeBy?: unknown }).madeBy === 'bootcard netboot tree' ? (parsed as NetbootMarker) : null;
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

/** Throws NETBOOT_FOLDER_NOT_OURS when `folder` exists and bootcard did not make it; true when it exists. */
async function checkReplaceable(folder: string): Promise<boolean> {
  let info;
  try {
    info = await lstat(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw toBootcardError(error, `Could not look at ${folder}`);
  }
  if (info.isDirectory() && (await readMarker(folder))) return true;
  throw new BootcardError(
    NetbootErrorCode.FOLDER_NOT_OURS,
    `${folder} exists and bootcard did not make it (no ${MARKER_FILE} in it): bootcard never replaces it. Move it away, or choose another --tftp-root/--nfs-root.`,
    { path: folder, ...inWizardWords(`${folder} exists and bootcard did not make it (no ${MARKER_FILE} in it): bootcard never replaces it. Move it away, or choose another TFTP or NFS root folder.`) },
  );
}

async function ensureFolder(folder: string, what: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true, mode: 0o755 });
    const info = await lstat(folder);
    if (!info.isDirectory()) throw new BootcardError(CommonErrorCode.FILE_WRITE_FAILED, `The ${what} ${folder} is not a folder.`, { path: folder });
  } catch (error) {
    throw toBootcardError(error, `Could not make the ${what} ${folder}`);
  }
}

/**
 * Replaces `final` by `fresh` (both in one folder): the old one stays until
 * the new one is in place. The old one moves into a fresh private folder, not
 * to a name someone else could have prepared.
 */
async function swapIn(fresh: string, final: string, existed: boolean): Promise<void> {
  if (!existed) {
    await rename(fresh, final);
    return;
  }
  const holder = await mkdtemp(path.join(path.dirname(final), `${WORK_PREFIX}old-`));
  const old = path.join(holder, 'previous');
  await rename(final, old);
  try {
    await rename(fresh, final);
  } catch (error) {
    await rename(old, final);
    await rm(holder, { recursive: true, force: true });
    throw error;
  }
  await rm(holder, { recursive: true, force: true });
}

/** Writes a file inside a folder this run made (not a path that could be a link to elsewhere). */
async function writeNew(file: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
  await writeFile(file, content, { flag: 'wx', mode });
  await chmod(file, mode);
}

/**
 * Replaces `relative` under an extracted root with new content. Every folder
 * on the way must be a real folder and the file, if there, a regular file:
 * an image whose /etc is a link to the server's /etc must not make root
 * write there. The new file goes in by rename, keeping the old owner and mode.
 */
async function replaceInRoot(rootDir: string, relative: string, content: string, fallbackMode = 0o644): Promise<void> {
  const parts = relative.split('/');
  let dir = rootDir;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const info = await lstat(dir).catch(() => null);
    if (!info) await mkdir(dir, { mode: 0o755 });
    else if (!info.isDirectory()) throw new BootcardError(NetbootErrorCode.UNSAFE_PATH, `/${relative} in the image's root goes through a link or file (${dir}); bootcard will not write through it.`, { path: relative });
  }
  const file = path.join(dir, parts[parts.length - 1]!);
  const old = await lstat(file).catch(() => null);
  if (old && !old.isFile()) throw new BootcardError(NetbootErrorCode.UNSAFE_PATH, `/${relative} in the image's root is not a regular file (a link?); bootcard will not write through it.`, { path: relative });
  const temp = `${file}.bootcard-new`;
  await rm(temp, { force: true });
  await writeFile(temp, content, { flag: 'wx', mode: old ? old.mode & 0o7777 : fallbackMode });
  if (old) {
    const handle = await open(temp, 'r+');
    try {
      await handle.chown(old.uid, old.gid);
      await handle.chmod(old.mode & 0o7777);
    } finally {
      await handle.close();
    }
  }
  await rename(temp, file);
}

async function readInRoot(rootDir: string, relative: string): Promise<string | null> {
  const file = path.join(rootDir, relative);
  const info = await lstat(file).catch(() => null);
  if (!info || !info.isFile()) return null;
  return readFile(file, 'utf8');
}

interface BootFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

/**
 * The shared store is linked into every Pi folder and served over TFTP: a
 * store someone else owns or may write to could hold a link to any file on
 * the server, so it must be this user's and writable by no one else.
 */
async function checkStore(store: string): Promise<void> {
  const info = await lstat(store);
  const uid = process.geteuid?.() ?? info.uid;
  if (!info.isDirectory() || info.uid !== uid || (info.mode & 0o022) !== 0) {
    throw new BootcardError(
      NetbootErrorCode.UNSAFE_PATH,
      `${store} is not a folder only bootcard's user can write to (owner ${info.uid}, mode ${(info.mode & 0o777).toString(8)}): its files are linked into every Pi folder, so bootcard will not use it. Remove it and run again.`,
      { path: store },
    );
  }
}

/** Puts every boot file in the shared store once (named by its SHA-256, so identical files are one). */
async function fillStore(store: string, files: readonly BootFile[], work: string): Promise<void> {
  await ensureFolder(store, 'shared boot file folder');
  await checkStore(store);
  for (const file of files) {
    const target = path.join(store, file.sha256);
    if (await lstat(target).then((s) => s.isFile() && s.size === file.bytes.length, () => false)) continue;
    const temp = path.join(work, `store-${file.sha256}`);
    await writeNew(temp, file.bytes);
    await rename(temp, target);
  }
}

/** Removes store files no Pi folder links to any more. */
async function pruneStore(store: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const name of await readdir(store)) {
    const file = path.join(store, name);
    const info = await lstat(file);
    if (info.isFile() && info.nlink <= 1) await rm(file, { force: true });
    else if (info.isFile()) {
      files++;
      bytes += info.size;
    }
  }
  return { files, bytes };
}

function firstBootFiles(spec: PiSpec): { name: string; content: string }[] {
  const out: { name: string; content: string }[] = [];
  if (spec.ssh) out.push({ name: 'ssh', content: '' });
  if (spec.user) out.push({ name: 'userconf.txt', content: `${spec.user.name}:${spec.user.hash}\n` });
  return out;
}

async function buildTftpFolder(
  options: TreeOptions,
  spec: PiSpec,
  files: readonly BootFile[],
  store: string,
): Promise<PiTreeResult> {
  const folder = spec.id.folder;
  const final = path.join(options.tftpRoot, folder);
  const existed = await checkReplaceable(final);
  const fresh = await mkdtemp(path.join(options.tftpRoot, `${WORK_PREFIX}${folder}-`));
  const nfsFolder = options.nfsRoot ? path.join(options.nfsRoot, folder) : null;
  try {
    for (const file of files) {
      const target = path.join(fresh, file.path);
      await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
      const name = file.path.toLowerCase();
      if (name === 'cmdline.txt' && nfsFolder && options.server) {
        const nfs: NfsRootOptions = { server: options.server, path: nfsFolder, ...(options.nfsOptions ? { options: options.nfsOptions } : {}) };
        await writeNew(target, netbootCmdline(new TextDecoder().decode(file.bytes), nfs));
      } else if (name === 'config.txt' && options.configTxtEdits?.length) {
        await writeNew(target, applyConfigTxtEdits(new TextDecoder().decode(file.bytes), options.configTxtEdits));
      } else if (OWN_COPY.has(name)) {
        await writeNew(target, file.bytes);
      } else {
        await link(path.join(store, file.sha256), target);
      }
    }
    for (const extra of firstBootFiles(spec)) await writeNew(path.join(fresh, extra.name), extra.content);
    const marker: NetbootMarker = {
      madeBy: 'bootcard netboot tree',
      kind: 'tftp',
      pi: { kind: spec.id.kind, folder, tftpPrefix: TFTP_PREFIX_MODE[spec.id.kind] },
      image: path.basename(options.image),
      ...(options.server ? { server: options.server } : {}),
      tftpFolder: final,
      ...(nfsFolder ? { nfsFolder } : {}),
    };
    await writeNew(path.join(fresh, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`);
    await chmod(fresh, 0o755);
    throwIfCancelled(options.signal);
    await swapIn(fresh, final, existed);
  } catch (error) {
    await rm(fresh, { recursive: true, force: true });
    throw toBootcardError(error, `Could not build the TFTP folder of ${folder}`);
  }
  return { folder, kind: spec.id.kind, tftpFolder: final, nfsFolder, bootFiles: files.length, replaced: existed };
}

/**
 * One Pi's root: a copy of the extracted root, or (`take`, for the last Pi)
 * the extracted root itself, so one Pi costs one extraction and no copy.
 */
async function buildNfsFolder(options: TreeOptions, spec: PiSpec, staging: string, take: boolean, diskSignature: number | null, rootMode: number): Promise<void> {
  const folder = spec.id.folder;
  const nfsRoot = options.nfsRoot!;
  const final = path.join(nfsRoot, folder);
  const existed = await checkReplaceable(final);
  const fresh = take ? staging : await mkdtemp(path.join(nfsRoot, `${WORK_PREFIX}${folder}-`));
  try {
    if (!take) {
      // cp -a keeps owners, modes, hard links, device nodes, xattrs and capabilities of the extracted root.
      await execFileAsync('cp', ['-a', '--reflink=auto', '--', `${staging}/.`, `${fresh}/`], { maxBuffer: 1024 * 1024, signal: options.signal, killSignal: 'SIGKILL' }).catch((error: unknown) => {
        if (options.signal?.aborted) throw new BootcardError(CommonErrorCode.CANCELLED, `Cancelled while copying the root for ${folder}; its old folder was left as it was.`);
        throw error;
      });
    }
    const fstab = (await readInRoot(fresh, 'etc/fstab')) ?? '';
    await replaceInRoot(fresh, 'etc/fstab', netbootFstab(fstab, { server: options.server!, bootPath: path.join(options.tftpRoot, folder), ...(options.nfsOptions ? { options: options.nfsOptions } : {}), diskSignature }));
    if (spec.hostname) {
      await replaceInRoot(fresh, 'etc/hostname', `${spec.hostname}\n`);
      const hosts = (await readInRoot(fresh, 'etc/hosts')) ?? '127.0.0.1\tlocalhost\n';
      const lines = hosts.split('\n').filter((l) => !/^127\.0\.1\.1\s/.test(l));
      while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      await replaceInRoot(fresh, 'etc/hosts', `${lines.join('\n')}\n127.0.1.1\t${spec.hostname}\n`);
    }
    const marker: NetbootMarker = {
      madeBy: 'bootcard netboot tree',
      kind: 'nfs',
      pi: { kind: spec.id.kind, folder, tftpPrefix: TFTP_PREFIX_MODE[spec.id.kind] },
      image: path.basename(options.image),
      server: options.server!,
      tftpFolder: path.join(options.tftpRoot, folder),
      nfsFolder: final,
    };
    await writeNew(path.join(fresh, MARKER_FILE), `${JSON.stringify(marker, null, 2)}\n`, 0o644);
    await chmod(fresh, rootMode & 0o7777);
    throwIfCancelled(options.signal);
    await swapIn(fresh, final, existed);
  } catch (error) {
    await rm(fresh, { recursive: true, force: true });
    throw toBootcardError(error, `Could not build the NFS root of ${folder}`);
  }
}

const LOCK_FILE = '.bootcard-netboot.lock';

/** Checked before each step and before a Pi's folder is swapped in (the point after which it is the new one). */
function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BootcardError(CommonErrorCode.CANCELLED, 'Cancelled: the Pi folders not built yet were left as they were.');
}

function notAnImage(file: string): BootcardError {
  return new BootcardError(NetbootErrorCode.IMAGE_LAYOUT, `${file} is not an image file (a device or a folder?): give the OS image as a file (.img, .img.xz, ...).`, { path: file });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One run at a time per tree. A lock left by a run that was killed is taken
 * over, and that run's half-built folders (bootcard's work folders) are removed.
 */
async function lockTree(tftpRoot: string, otherRoots: readonly string[]): Promise<() => Promise<void>> {
  const lock = path.join(tftpRoot, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lock, 'wx', 0o644);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      for (const root of [tftpRoot, ...otherRoots]) {
        for (const name of await readdir(root)) {
          if (name.startsWith(WORK_PREFIX)) await rm(path.join(root, name), { recursive: true, force: true });
        }
      }
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw toBootcardError(error, `Could not lock ${tftpRoot}`);
      const info = await lstat(lock);
      const pid = info.isFile() ? Number((await readFile(lock, 'utf8')).trim()) : NaN;
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new BootcardError(NetbootErrorCode.BUSY, `Another bootcard netboot tree (process ${pid}) is building ${tftpRoot}; wait for it to finish.`, { pid });
      }
      await rm(lock, { force: true });
    }
  }
  throw new BootcardError(NetbootErrorCode.BUSY, `Could not lock ${tftpRoot}: another run keeps taking it.`);
}

export async function buildNetbootTree(options: TreeOptions): Promise<TreeResult> {
  const report = options.onProgress ?? (() => undefined);
  const progress = (text: string) => {
    throwIfCancelled(options.signal);
    report(text);
  };
  if (options.pis.length === 0) throw new BootcardError(CommonErrorCode.USAGE, 'Name the Pis to build folders for: --pi ID (repeatable) or --pis pis.csv.', inWizardWords('Name the Pis to build folders for: one per line under Pis.'));
  if (options.nfsRoot && !options.server) throw new BootcardError(CommonErrorCode.USAGE, 'An NFS root needs the server address the Pis mount it from: --server IP.', inWizardWords('An NFS root needs the server address the Pis mount it from: fill in Server address.'));
  if (options.nfsRoot && process.geteuid?.() !== 0) {
    throw new BootcardError(
      CommonErrorCode.PERMISSION_DENIED,
      'Copying the root file system keeps its owners and file capabilities, which only root can set: run bootcard netboot tree with sudo for --nfs-root.',
      inWizardWords('Copying the root file system keeps its owners and file capabilities, which only root can set: leave NFS root folder empty, or start bootcard as root.'),
    );
  }
  if (options.nfsRoot) {
    // Both paths go into cmdline.txt (nfsroot=SERVER:PATH,OPTIONS) and /etc/fstab, which split at spaces and commas.
    for (const [what, dir] of [['--nfs-root', options.nfsRoot], ['--tftp-root', options.tftpRoot]] as const) {
      if (/[\s,]/.test(dir)) throw new BootcardError(CommonErrorCode.USAGE, `The ${what} path ${JSON.stringify(dir)} has a space or comma, which the Pi's cmdline.txt and /etc/fstab cannot hold: choose a path without them (e.g. /srv/nfs).`);
    }
  }
  const folders = new Set<string>();
  for (const spec of options.pis) {
    if (folders.has(spec.id.folder)) throw new BootcardError(CommonErrorCode.USAGE, `The Pi ${spec.id.folder} is named twice.`);
    folders.add(spec.id.folder);
  }
  const imageInfo = await stat(options.image).catch((error: unknown) => {
    throw toBootcardError(error, `Could not read the image ${options.image}`);
  });
  if (!imageInfo.isFile()) throw notAnImage(options.image);
  await ensureFolder(options.tftpRoot, 'TFTP root');
  if (options.nfsRoot) await ensureFolder(options.nfsRoot, 'NFS root');
  // Refuse before writing anything when one of the folders is not ours.
  for (const spec of options.pis) {
    await checkReplaceable(path.join(options.tftpRoot, spec.id.folder));
    if (options.nfsRoot) await checkReplaceable(path.join(options.nfsRoot, spec.id.folder));
  }

  const unlock = await lockTree(options.tftpRoot, options.nfsRoot ? [options.nfsRoot] : []);
  try {
    return await buildLocked(options, progress);
  } finally {
    await unlock();
  }
}

async function buildLocked(options: TreeOptions, progress: (text: string) => void): Promise<TreeResult> {
  const work = await mkdtemp(path.join(options.tftpRoot, WORK_PREFIX));
  try {
    await chmod(work, 0o700);
    // Everything reads the file opened here, checked on its handle: a regular file, not a device or a FIFO.
    const imageHandle = await open(options.image, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
      throw toBootcardError(error, `Could not open the image ${options.image}`);
    });
    try {
      if (!(await imageHandle.stat()).isFile()) throw notAnImage(options.image);
      return await buildFromImage(options, progress, work, `/proc/self/fd/${imageHandle.fd}`);
    } finally {
      await imageHandle.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function buildFromImage(options: TreeOptions, progress: (text: string) => void, work: string, openedImage: string): Promise<TreeResult> {
  let imageFile = openedImage;
  const compression = await detectCompression(openedImage);
  if (compression !== 'none') {
    progress(`Decompressing ${path.basename(options.image)} (${compression})...`);
    imageFile = path.join(work, 'image.img');
    await decompressToSparseFile(openedImage, imageFile, options.signal).catch((error: unknown) => {
      // Name the file the user gave, not the descriptor it was read through.
      throw BootcardError.is(error) ? new BootcardError(error.code, error.message.split(openedImage).join(options.image), error.details) : error;
    });
  }
  const reader = await openByteReader(imageFile);
  let files: BootFile[];
  let layout;
  try {
    layout = await readOsImageLayout(reader);
    progress('Reading the boot partition...');
    files = [];
    for (const entry of await layout.boot.files()) {
      checkBootPath(entry.path);
      const bytes = await layout.boot.readFile(entry.path);
      files.push({ path: entry.path, bytes, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
  } finally {
    await reader.close();
  }
  if (!files.some((f) => f.path.toLowerCase() === 'cmdline.txt')) {
    files.push({ path: 'cmdline.txt', bytes: new Uint8Array(0), sha256: createHash('sha256').digest('hex') });
  }
  if (options.nfsRoot && !layout.root) {
    throw new BootcardError(
      NetbootErrorCode.IMAGE_LAYOUT,
      'The image has no ext4 root partition to copy into --nfs-root; give a Raspberry Pi OS image, or leave out --nfs-root.',
      inWizardWords('The image has no ext4 root partition to copy into the NFS root folder; choose a Raspberry Pi OS image, or leave NFS root folder empty.'),
    );
  }

  const store = path.join(options.tftpRoot, SHARED_FOLDER);
  await fillStore(store, files.filter((f) => !OWN_COPY.has(f.path.toLowerCase())), work);

  let root: ExtractSummary | null = null;
  if (options.nfsRoot && layout.root) {
    const staging = await mkdtemp(path.join(options.nfsRoot, `${WORK_PREFIX}staging-`));
    try {
      await chmod(staging, 0o700);
      progress('Extracting the root file system...');
      root = await extractExt4(imageFile, layout.root.offset, staging, options.signal);
      const rootMode = (await lstat(staging)).mode;
      for (const [i, spec] of options.pis.entries()) {
        progress(`NFS root for ${spec.id.folder}...`);
        await buildNfsFolder(options, spec, staging, i === options.pis.length - 1, layout.diskSignature, rootMode);
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  const results: PiTreeResult[] = [];
  for (const spec of options.pis) {
    progress(`TFTP folder for ${spec.id.folder}...`);
    results.push(await buildTftpFolder(options, spec, files, store));
  }

  const bootcode = await placeBootcode(options.tftpRoot, store, files, work);
  const kept = await pruneStore(store);
  return { pis: results, sharedFiles: kept.files, sharedBytes: kept.bytes, bootcode, root, compression };
}

/** bootcode.bin at the TFTP root, unless a different one that is not bootcard's is there. */
async function placeBootcode(tftpRoot: string, store: string, files: readonly BootFile[], work: string): Promise<TreeResult['bootcode']> {
  const file = files.find((f) => f.path.toLowerCase() === 'bootcode.bin');
  if (!file) return 'absent';
  const target = path.join(tftpRoot, 'bootcode.bin');
  const shared = path.join(store, file.sha256);
  const existing = await lstat(target).catch(() => null);
  if (existing) {
    const sharedInfo = await lstat(shared);
    if (existing.ino === sharedInfo.ino) return 'kept';
    const ours = existing.isFile() && existing.nlink > 1 && (await isInStore(store, existing.ino));
    if (!ours) {
      if (existing.isFile() && Buffer.from(await readFile(target)).equals(Buffer.from(file.bytes))) return 'kept';
      return 'not-ours';
    }
  }
  // Linked in bootcard's private work folder, then moved: the TFTP root may be writable by others.
  const temp = path.join(work, 'bootcode.bin');
  await link(shared, temp);
  await rename(temp, target);
  return 'written';
}

async function isInStore(store: string, ino: number): Promise<boolean> {
  for (const name of await readdir(store)) {
    if ((await lstat(path.join(store, name))).ino === ino) return true;
  }
  return false;
}

/** The Pi folders bootcard made under a TFTP root (from their marker files), sorted by name. */
export async function readTreePis(tftpRoot: string): Promise<NetbootMarker[]> {
  let names: string[];
  try {
    names = await readdir(tftpRoot);
  } catch (error) {
    throw toBootcardError(error, `Could not read the TFTP root ${tftpRoot}`);
  }
  const out: NetbootMarker[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue;
    const folder = path.join(tftpRoot, name);
    const info = await lstat(folder).catch(() => null);
    if (!info?.isDirectory()) continue;
    const marker = await readMarker(folder);
    if (marker && marker.kind === 'tftp' && marker.pi.folder === name) out.push(marker);
  }
  return out;
}
