/**
 * Writing an image file (`bootcard flash X --to out.img`, run with sudo too) reads the image through the one
 * handle it checked: a link re-pointed after the checks (at another user's file, or a FIFO) changes nothing.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runWrite } from '../../electron/core/writer/engine.io.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('an image file target reads the image through one handle', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a link swapped after the checks: the copy is the image that was checked, and says so', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-one-handle-'));
    const original = pseudoRandomBytes(4 * 1024 * 1024, 7);
    const other = pseudoRandomBytes(4 * 1024 * 1024, 8);
    writeFileSync(path.join(dir, 'checked.img'), original);
    writeFileSync(path.join(dir, 'other.img'), other);
    const link = path.join(dir, 'image.img');
    symlinkSync('checked.img', link);
    const out = path.join(dir, 'out.img');
    let swapped = false;
    const [result] = await runWrite(
      {
        image: { path: link },
        targets: [out],
        verify: true,
        // The first progress report comes after the checks and checksums, right before the copy.
        onProgress: () => {
          if (swapped) return;
          swapped = true;
          unlinkSync(link);
          symlinkSync('other.img', link);
        },
      },
      { imageFiles: true },
    );
    expect(swapped).toBe(true);
    expect(result?.ok, JSON.stringify(result?.error)).toBe(true);
    expect(result?.sha256).toBe(sha256(original));
    expect(sha256(readFileSync(out))).toBe(sha256(original));
  });

  it('a FIFO swapped in after the checks is never opened (the write does not hang)', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-one-handle-'));
    const original = pseudoRandomBytes(2 * 1024 * 1024, 9);
    writeFileSync(path.join(dir, 'checked.img'), original);
    execFileSync('mkfifo', [path.join(dir, 'pipe')]);
    const link = path.join(dir, 'image.img');
    symlinkSync('checked.img', link);
    const out = path.join(dir, 'out.img');
    const [result] = await runWrite(
      {
        image: { path: link },
        targets: [out],
        verify: true,
        onProgress: () => {
          try {
            unlinkSync(link);
            symlinkSync('pipe', link);
          } catch {
            // already swapped
          }
        },
      },
      { imageFiles: true },
    );
    expect(result?.ok, JSON.stringify(result?.error)).toBe(true);
    expect(sha256(readFileSync(out))).toBe(sha256(original));
  }, 30_000);
});
