/**
 * Picking files: serve's chooser (files.roots / files.list) shows only the
 * output root and bootcard's cache and never follows a link out of them; the
 * desktop app's dialogs.open runs the native dialog it is given, and is
 * refused behind serve.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BootcardError } from '../../electron/core/errors.js';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { dialogSpecFor, type OpenDialogSpec } from '../../electron/ipc/handlers/files.js';
import { wireTransport } from '../helpers/wire.js';

let dir: string;
let output: string;
let cache: string;

async function refusal(promise: Promise<unknown>): Promise<BootcardError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeTruthy();
  return error as BootcardError;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-files-'));
  output = path.join(dir, 'station-out');
  cache = path.join(dir, 'cache');
  mkdirSync(path.join(output, 'rack10'), { recursive: true });
  mkdirSync(path.join(output, 'rack2'));
  writeFileSync(path.join(output, 'rack2', 'private.pem'), 'key');
  writeFileSync(path.join(output, 'notes.txt'), 'hello');
  mkdirSync(path.join(dir, 'secret'));
  writeFileSync(path.join(dir, 'secret', 'shadow'), 'x');
  symlinkSync(path.join(dir, 'secret'), path.join(output, 'escape'));
  symlinkSync('/etc/passwd', path.join(output, 'passwd'));
  mkdirSync(cache);
  writeFileSync(path.join(cache, 'RPi4_UEFI_Firmware_v1.34.zip'), 'zip');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serveClient(cacheDir = cache) {
  return createClient(wireTransport(createHandlers({ frontEnd: 'serve', cwd: dir, outputRoot: output, cacheDir })));
}

describe('files.list: the station chooser', () => {
  it('lists the output root: folders first in natural order, files with sizes, links as links', async () => {
    const listing = await serveClient().call('files.list', { root: 'output', path: '' });
    expect(listing.path).toBe(output);
    expect(listing.entries).toEqual([
      { name: 'rack2', kind: 'folder' },
      { name: 'rack10', kind: 'folder' },
      { name: 'escape', kind: 'link' },
      { name: 'notes.txt', kind: 'file', size: 5 },
      { name: 'passwd', kind: 'link' },
    ]);
    const inner = await serveClient().call('files.list', { root: 'output', path: 'rack2' });
    expect(inner).toMatchObject({ relative: 'rack2', path: path.join(output, 'rack2'), entries: [{ name: 'private.pem', kind: 'file', size: 3 }] });
    expect((await serveClient().call('files.list', { root: 'cache', path: '' })).entries).toEqual([{ name: 'RPi4_UEFI_Firmware_v1.34.zip', kind: 'file', size: 3 }]);
  });

  it('never leaves its roots: not through a link, not with .., not with an absolute path elsewhere', async () => {
    const client = serveClient();
    const link = await refusal(client.call('files.list', { root: 'output', path: 'escape' }));
    expect(link.code).toBe('FILES_LINK');
    expect(link.message).toContain('does not follow links');
    expect((await refusal(client.call('files.list', { root: 'output', path: '..' }))).code).toBe('OUTPUT_OUTSIDE_ROOT');
    expect((await refusal(client.call('files.list', { root: 'output', path: path.join(dir, 'secret') }))).code).toBe('OUTPUT_OUTSIDE_ROOT');
    expect((await refusal(client.call('files.list', { root: 'output', path: 'rack2/../../secret' }))).code).toBe('OUTPUT_OUTSIDE_ROOT');
    expect((await refusal(client.call('files.list', { root: 'output', path: 'notes.txt' }))).code).toBe('FILES_NOT_A_FOLDER');
    // Only the two roots exist as choices: anything else fails validation before a handler runs.
    expect((await refusal(client.call('files.list', { root: 'home' as 'output', path: '' }))).code).toBe('INVALID_REQUEST');
  });

  it('offers the cache only once it exists', async () => {
    const client = serveClient(path.join(dir, 'no-cache-yet'));
    expect((await client.call('files.roots', {})).roots).toEqual({ output });
    expect((await refusal(client.call('files.list', { root: 'cache', path: '' }))).code).toBe('FILES_NO_ROOT');
  });
});

describe('dialogs.open: the desktop app’s native dialog', () => {
  it('runs the dialog it is given for the purpose, and answers its pick or null when cancelled', async () => {
    const asked: OpenDialogSpec[] = [];
    let answer = { canceled: false, filePaths: ['/home/me/Downloads/RPi4_UEFI_Firmware_v1.34.zip'] };
    const client = createClient(
      wireTransport(createHandlers({ frontEnd: 'electron', cwd: dir, showOpenDialog: async (spec) => (asked.push(spec), answer) })),
    );
    expect(await client.call('dialogs.open', { purpose: 'firmware-uefi' })).toEqual({ path: '/home/me/Downloads/RPi4_UEFI_Firmware_v1.34.zip' });
    expect(asked[0]).toEqual(dialogSpecFor('firmware-uefi'));
    expect(asked[0]!.filters?.[0]?.extensions).toEqual(['zip']);
    answer = { canceled: true, filePaths: [] };
    expect(await client.call('dialogs.open', { purpose: 'output-folder' })).toEqual({ path: null });
    expect(asked[1]!.properties).toContain('openDirectory');
    expect((await refusal(client.call('dialogs.open', { purpose: 'anything' as 'os-image' }))).code).toBe('INVALID_REQUEST');
  });

  it('is refused behind serve, saying to use Browse', async () => {
    const error = await refusal(serveClient().call('dialogs.open', { purpose: 'os-image' }));
    expect(error.code).toBe('DIALOG_UNAVAILABLE');
    expect(error.message).toMatch(/Browse/);
  });
});
