import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFilesAtomically } from '../../electron/core/files/atomic-write.io.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('atomic output files', () => {
  it('writes every file of a set, creating the folder', async () => {
    const a = path.join(dir, 'out', 'pieeprom.bin');
    const b = path.join(dir, 'out', 'pieeprom.sig');
    await writeFilesAtomically([{ path: a, data: new Uint8Array([1, 2, 3]) }, { path: b, data: 'sig\n' }]);
    expect([...readFileSync(a)]).toEqual([1, 2, 3]);
    expect(readFileSync(b, 'utf8')).toBe('sig\n');
  });

  it('leaves nothing behind, not even the files that did succeed, when one of the set fails', async () => {
    const good = path.join(dir, 'set', 'one.bin');
    const blocked = path.join(dir, 'set', 'blocker', 'two.bin');
    // "blocker" is a file, so the second output cannot be created.
    await writeFilesAtomically([{ path: path.join(dir, 'set', 'keep.txt'), data: 'x' }]);
    writeFileSync(path.join(dir, 'set', 'blocker'), 'I am a file');
    const error = await writeFilesAtomically([{ path: good, data: 'a' }, { path: blocked, data: 'b' }]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((error as Error).message).toContain('not a folder');
    expect(existsSync(good)).toBe(false);
    expect(readdirSync(path.join(dir, 'set')).sort()).toEqual(['blocker', 'keep.txt']);
  });

  it('replaces a file the CLI was told to write, keeping its mode, as cp does (a private 0600 file stays private)', async () => {
    const file = path.join(dir, 'private.bin');
    writeFileSync(file, 'old');
    chmodSync(file, 0o600);
    await writeFilesAtomically([{ path: file, data: 'new' }]);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    chmodSync(file, 0o640);
    await writeFilesAtomically([{ path: file, data: 'newer', mode: 0o644 }]);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  (process.getuid?.() === 0 ? it : it.skip)('as root, also keeps the replaced file’s owner (a user’s file stays theirs)', async () => {
    const file = path.join(dir, 'users.sig');
    writeFileSync(file, 'old');
    chownSync(file, 65534, 65534);
    await writeFilesAtomically([{ path: file, data: 'new' }]);
    expect(readFileSync(file, 'utf8')).toBe('new');
    expect(statSync(file)).toMatchObject({ uid: 65534, gid: 65534 });
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });
});
