/**
 * The inputs of `bootcard eeprom boot-image`: the files of a boot folder, or
 * of the boot (first FAT32) partition of an OS image, read with bootcard's
 * FAT reader (no mount).
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { BootcardError, toBootcardError } from '../errors.js';
import { openByteReader } from '../fat32/byte-reader.io.js';
import type { FatFileInput } from '../fat32/compose.js';
import { readFatImage } from '../fat32/reader.js';
import { readInputFile } from '../files/input-file.io.js';
import { EepromErrorCode } from './codes.js';

/** A boot folder is tens of MiB; this bounds what is read into memory. */
export const MAX_BOOT_CONTENT_BYTES = 1024 * 1024 * 1024;

/** Every file under `dir` (symbolic links are refused: boot.img holds plain files). */
export async function readBootFolder(dir: string): Promise<FatFileInput[]> {
  const out: FatFileInput[] = [];
  let total = 0;
  const walk = async (folder: string, prefix: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(folder)).sort();
    } catch (error) {
      throw toBootcardError(error, `Could not read the boot folder ${folder}`);
    }
    for (const name of names) {
      const full = path.join(folder, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const info = await lstat(full);
      if (info.isDirectory()) {
        out.push({ path: rel, directory: true, mtime: Math.floor(info.mtimeMs / 1000) });
        await walk(full, rel);
      } else if (info.isFile()) {
        total += info.size;
        if (total > MAX_BOOT_CONTENT_BYTES) {
          throw new BootcardError(EepromErrorCode.BAD_BOOT_IMAGE, `${dir} holds more than 1 GiB of files: boot.img is loaded into the Pi's RAM, so give only the boot files.`, { path: dir });
        }
        const data = await readInputFile(full, { what: 'boot file', maxBytes: MAX_BOOT_CONTENT_BYTES, noFollow: true });
        out.push({ path: rel, data, mtime: Math.floor(info.mtimeMs / 1000) });
      } else {
        throw new BootcardError(EepromErrorCode.BAD_BOOT_IMAGE, `${full} is not a regular file or folder (a symbolic link, device or pipe); boot.img holds plain files: copy what it points to.`, { path: full });
      }
    }
  };
  await walk(dir, '');
  return out;
}

/** The files of an OS image's boot partition (its first FAT32 partition). */
export async function readImageBootPartition(imageFile: string): Promise<FatFileInput[]> {
  const reader = await openByteReader(imageFile, { what: 'OS image' });
  try {
    const fat = await readFatImage(reader);
    const entries = await fat.volume.files();
    const out: FatFileInput[] = [];
    for (const entry of entries) {
      if (entry.directory) out.push({ path: entry.path, directory: true, mtime: entry.mtime });
      else out.push({ path: entry.path, data: await fat.volume.readFile(entry.path), mtime: entry.mtime });
    }
    return out;
  } finally {
    await reader.close();
  }
}
