/**
 * Reads the pftf firmware from a zip (unzipper) or an unpacked folder.
 * Every entry is checked before anything is extracted: no absolute paths, no
 * `..`, no links, RPI_EFI.fd, start4.elf and config.txt at the top level, and
 * the declared unpacked size must fit the partition; a file's extracted size
 * must then match what the archive declared.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import unzipper from 'unzipper';
import { BootcardError, toBootcardError } from '../errors.js';
import { CardErrorCode } from './errors.js';
import { checkArchivePath, type FirmwareFile } from './firmware-files.js';
import { checkFirmwareFits, checkPftfFileNames } from './uefi-card.js';

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
/** Unix "made by" host in a zip's version-made-by high byte: external attributes carry a Unix mode. */
const ZIP_HOST_UNIX = 3;

export interface ReadFirmwareOptions {
  /** The partition the files must fit (bytes); checked against the declared sizes before extracting. */
  readonly partitionSize: number;
}

/** Reads every file of a firmware zip. Directories are implied by the files' paths. */
export async function readFirmwareZip(zipPath: string, options: ReadFirmwareOptions): Promise<FirmwareFile[]> {
  const source = path.basename(zipPath);
  let directory: unzipper.CentralDirectory;
  try {
    directory = await unzipper.Open.file(zipPath);
  } catch (error) {
    if (BootcardError.is(error)) throw error;
    const e = toBootcardError(error, `Could not open ${zipPath}`);
    if (e.code !== 'INTERNAL') throw e;
    throw new BootcardError(CardErrorCode.BAD_ARCHIVE, `${zipPath} is not a readable zip file (${(error as Error).message}). Download it again.`, { path: zipPath });
  }
  const entries: { path: string; entry: unzipper.File }[] = [];
  let total = 0;
  for (const entry of directory.files) {
    const entryPath = checkArchivePath(entry.path, source);
    const host = (entry as unknown as { versionMadeBy: number }).versionMadeBy >> 8;
    const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (host === ZIP_HOST_UNIX && mode === S_IFLNK) {
      throw new BootcardError(
        CardErrorCode.LINK_IN_ARCHIVE,
        `${source} was not used: its entry "${entry.path}" is a symbolic link, which a firmware zip never contains.`,
        { entry: entry.path },
      );
    }
    if (entry.type === 'Directory' || entryPath === '') continue;
    total += entry.uncompressedSize;
    entries.push({ path: entryPath, entry });
  }
  checkPftfFileNames(entries.map((e) => e.path), source);
  checkFirmwareFits(total, options.partitionSize, source);
  const files: FirmwareFile[] = [];
  for (const { path: p, entry } of entries) {
    let data: Buffer;
    try {
      data = await entry.buffer();
    } catch (error) {
      throw new BootcardError(CardErrorCode.BAD_ARCHIVE, `${source} is damaged: "${p}" cannot be extracted (${(error as Error).message}). Download it again.`, { entry: p });
    }
    if (data.length !== entry.uncompressedSize) {
      throw new BootcardError(CardErrorCode.BAD_ARCHIVE, `${source} is damaged: "${p}" unpacks to ${data.length} bytes, not the ${entry.uncompressedSize} it declares.`, { entry: p });
    }
    files.push({ path: p, data: new Uint8Array(data.buffer, data.byteOffset, data.length), mtime: Math.floor(entry.lastModifiedDateTime.getTime() / 1000) });
  }
  return files;
}

/** Reads an unpacked firmware folder; refuses links in it. */
export async function readFirmwareFolder(folder: string, options: ReadFirmwareOptions): Promise<FirmwareFile[]> {
  const source = folder;
  const found: { rel: string; full: string; size: number; mtime: number }[] = [];
  const walk = async (dir: string, rel: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const full = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(full);
      if (st.isSymbolicLink()) {
        throw new BootcardError(CardErrorCode.LINK_IN_ARCHIVE, `${source} was not used: "${r}" is a symbolic link, which the firmware never contains.`, { entry: r });
      }
      if (st.isDirectory()) await walk(full, r);
      else if (st.isFile()) found.push({ rel: r, full, size: st.size, mtime: Math.floor(st.mtimeMs / 1000) });
    }
  };
  try {
    await walk(folder, '');
  } catch (error) {
    throw toBootcardError(error, `Could not read the firmware folder ${folder}`);
  }
  checkPftfFileNames(found.map((f) => f.rel), source);
  checkFirmwareFits(found.reduce((s, f) => s + f.size, 0), options.partitionSize, source);
  const files: FirmwareFile[] = [];
  for (const f of found) files.push({ path: f.rel, data: new Uint8Array(await readFile(f.full)), mtime: f.mtime });
  return files;
}

/** A zip file or an unpacked folder. */
export async function readFirmwareSource(source: string, options: ReadFirmwareOptions): Promise<FirmwareFile[]> {
  let st;
  try {
    st = await lstat(source);
  } catch (error) {
    throw toBootcardError(error, `Could not read the firmware ${source}`);
  }
  return st.isDirectory() ? readFirmwareFolder(source, options) : readFirmwareZip(source, options);
}
