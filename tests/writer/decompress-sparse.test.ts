/**
 * decompressToSparseFile when its destination cannot be created: the error
 * says which file, and the decompressor it had already started (a real xz
 * process reading the real image) is gone, as is the image's handle.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BootcardError } from '../../electron/core/errors.js';
import { decompressToSparseFile } from '../../electron/core/image/compressed-image.io.js';
import { descendantsOf } from './cli-process.js';

function haveXz(): boolean {
  try {
    execFileSync('xz', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const xzChildren = () => descendantsOf(process.pid).filter((pid) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'xz';
  } catch {
    return false;
  }
});

const handlesOn = (file: string) => readdirSync('/proc/self/fd').filter((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === file;
  } catch {
    return false;
  }
}).length;

describe.skipIf(!haveXz())('decompressToSparseFile: a destination it cannot create', () => {
  let dir: string;
  let image: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-decompress-'));
    // Random bytes: xz's output fills its pipe, so a leaked xz would still be running afterwards.
    writeFileSync(path.join(dir, 'os.img'), randomBytes(4 * 1024 * 1024));
    execFileSync('xz', ['-0', '-T1', path.join(dir, 'os.img')]);
    image = path.join(dir, 'os.img.xz');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an existing destination is refused by name, and no xz process or image handle is left behind', async () => {
    const dest = path.join(dir, 'taken.img');
    writeFileSync(dest, 'someone else\'s file');
    const error = await decompressToSparseFile(image, dest).then(() => null, (e: unknown) => e);
    expect(BootcardError.is(error)).toBe(true);
    expect((error as BootcardError).message).toContain(dest);
    expect(readFileSync(dest, 'utf8')).toBe('someone else\'s file');
    expect(xzChildren()).toEqual([]);
    expect(handlesOn(image)).toBe(0);
  }, 30_000);
});
