/**
 * `serve --token-file` on a full file system (a real 64 KiB tmpfs, mounted as
 * root): creating the token file fails with a BootcardError that says why, and
 * leaves no empty file behind that every later start would refuse as malformed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateTokenFile } from '../../electron/serve/token-file.io.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('[skip] token-file-full: mounting a tmpfs needs root.');

describe.skipIf(!isRoot)('serve --token-file on a full file system', () => {
  let dir: string;
  let mounted = false;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-token-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir]);
    mounted = true;
    // Fill it: the token file can still be created (an inode is free), but not written.
    try {
      writeFileSync(path.join(dir, 'filler'), Buffer.alloc(1024 * 1024));
    } catch {
      // ENOSPC once it is full, as intended
    }
  });

  afterAll(() => {
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('says the file could not be written and leaves no file behind', async () => {
    const file = path.join(dir, 'serve.token');
    await expect(loadOrCreateTokenFile(file)).rejects.toMatchObject({ code: 'SERVE_TOKEN_FILE_UNREADABLE', message: expect.stringMatching(/could not be written \(ENOSPC\)/) });
    expect(existsSync(file)).toBe(false);
  });
});
