/**
 * The unprivileged side of an image file written through the privileged
 * child: the file is opened here, once, with the rights of whoever runs
 * bootcard, and checked on the opened handle (a regular file, a whole number of
 * sectors). The child then asks for byte ranges and gets them from this handle,
 * so what reaches a card is exactly what this user could read, whatever the
 * path turns into later (a swapped symlink, a folder whose mode changes).
 */
import { constants } from 'node:fs';
import { open, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { deviceNumberOf } from '../drives/enumerate.io.js';
import { BootcardError, CommonErrorCode, toBootcardError } from '../errors.js';
import { assertDiskImageSize } from './prepared-image.io.js';
import { MAX_READ, type ImageStreamFacts } from './protocol.js';
import { WriteErrorCode } from './types.js';

export interface OpenedImage {
  readonly facts: ImageStreamFacts;
  /** The opened file's device and inode: the same file under another name (a hard link) is still this file. */
  readonly node: { readonly dev: bigint; readonly ino: bigint };
  /** Exactly `length` bytes at `offset`, all inside the image (anything else is refused). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function openedPath(handle: FileHandle, fallback: string): Promise<string> {
  const named = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => fallback);
  return named.startsWith('/') ? named : fallback;
}

export async function openImageForChild(given: string): Promise<OpenedImage> {
  const file = path.resolve(given);
  let handle: FileHandle;
  try {
    // Non-blocking: a FIFO named as the image must not hang the open; it is refused just below.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new BootcardError(
        CommonErrorCode.PERMISSION_DENIED,
        `Cannot read the image ${given}: you have no permission to read it (or a folder on its way). Nothing was written. bootcard reads the image with your own rights; copy it somewhere you can read, or ask its owner.`,
        { path: given },
      );
    }
    throw toBootcardError(error, `Cannot read the image ${given}`);
  }
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile()) throw new BootcardError(WriteErrorCode.BAD_REQUEST, `${given} is not an image file (it is a folder, a device or a pipe). Nothing was written.`, { path: given });
    const size = Number(info.size);
    assertDiskImageSize(given, size);
    // The checksums come from one pass over the file and the card from another: a file changed in between (rebuilt in
    // place, appended to) would put two images on the card and have the read-back blame the card. Any change since the
    // open (size, contents or inode change time, to the nanosecond) ends the write instead, saying what happened.
    const changedSinceOpen = async (): Promise<boolean> => {
      const now = await handle.stat({ bigint: true });
      return now.size !== info.size || now.mtimeNs !== info.mtimeNs || now.ctimeNs !== info.ctimeNs;
    };
    const changedError = () =>
      new BootcardError(
        WriteErrorCode.IMAGE_CHANGED,
        `${given} changed while it was being written (a program wrote to it after bootcard opened it); the cards are incomplete, not faulty. Write them again from an image nobody changes meanwhile.`,
        { path: given },
      );
    return {
      // The path of the file actually opened, as the kernel names it (links and `..` resolved): what a loop device's
      // backing_file and the card's mount points are compared with, so a link to the image cannot hide it.
      facts: { size, sourcePath: await openedPath(handle, file), sourceDeviceNumber: deviceNumberOf(Number(info.dev)) },
      node: { dev: info.dev, ino: info.ino },
      read: async (offset, length) => {
        if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0 || length > MAX_READ || offset + length > size) {
          throw new BootcardError(WriteErrorCode.CHILD_FAILED, `The privileged helper asked for bytes ${offset}..${offset + length} of a ${size}-byte image.`);
        }
        const bytes = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
          if (bytesRead === 0) {
            throw new BootcardError(WriteErrorCode.BAD_REQUEST, `${given} became shorter while it was being written (it was ${size} bytes); the cards are incomplete. Write them again from an image nobody changes meanwhile.`, { path: given });
          }
          done += bytesRead;
        }
        // Checked after the read: a change before it or during it (which may have torn these bytes) is caught alike.
        if (await changedSinceOpen()) throw changedError();
        return bytes;
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
