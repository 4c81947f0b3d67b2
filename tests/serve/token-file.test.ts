import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CliContext } from '../../electron/cli/context.js';
import { startServeCommand } from '../../electron/cli/commands/serve.js';
import { BootcardError } from '../../electron/core/errors.js';
import { TokenFileErrorCode } from '../../electron/serve/token-file.io.js';
import type { RunningServer } from '../../electron/serve/server.js';
import { runBootcard } from '../helpers/cli.js';

let dir: string;
let renderer: string;
let log = '';

function context(): CliContext {
  return new CliContext({
    stdout: { write: (s: string) => (log += s) },
    stderr: { write: (s: string) => (log += s) },
    stdin: Readable.from([]),
    interactive: false,
    env: {},
    cwd: dir,
  });
}

function serve(tokenFile: string, port = '0'): Promise<RunningServer> {
  return startServeCommand({ host: '127.0.0.1', port, rendererDir: renderer, tokenFile }, context());
}

/** The app.info answer over a socket authenticated with `token`, or the close code when the server refuses it. */
function askAppInfo(port: number, token: string): Promise<{ answered: boolean; closeCode?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api`);
    ws.once('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token }));
      ws.send(JSON.stringify({ type: 'request', id: 'a1', channel: 'app.info', payload: {} }));
    });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; id: string; ok?: boolean };
      if (m.type === 'result' && m.id === 'a1') {
        resolve({ answered: m.ok === true });
        ws.close();
      }
    });
    ws.once('close', (code) => resolve({ answered: false, closeCode: code }));
    ws.once('error', reject);
  });
}

async function refusal(promise: Promise<unknown>): Promise<BootcardError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(BootcardError);
  return error as BootcardError;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-token-file-'));
  renderer = path.join(dir, 'renderer');
  mkdirSync(renderer);
  writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>bootcard</title>');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('bootcard serve --token-file', () => {
  it('creates the file with mode 0600 and keeps the token, so the URL from before still opens the wizard after a restart', async () => {
    const file = path.join(dir, 'station.token');
    const first = await serve(file);
    const firstUrlToken = new URL(first.url).hash.replace('#token=', '');
    const port = first.port;
    await first.close();
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(firstUrlToken);
    expect(log).toContain('new, mode 0600');

    const second = await serve(file, String(port));
    try {
      expect(second.url).toBe(first.url);
      // The bookmark's token is what the restarted server takes; another token is still refused.
      expect(await askAppInfo(second.port, firstUrlToken)).toEqual({ answered: true });
      expect((await askAppInfo(second.port, 'x'.repeat(firstUrlToken.length))).closeCode).toBe(4401);
    } finally {
      await second.close();
    }
  });

  it('without --token-file each start has a new token', async () => {
    const a = await startServeCommand({ host: '127.0.0.1', port: '0', rendererDir: renderer }, context());
    await a.close();
    const b = await startServeCommand({ host: '127.0.0.1', port: '0', rendererDir: renderer }, context());
    await b.close();
    expect(a.token).not.toBe(b.token);
  });

  it('refuses a token file others can read, and leaves it as it was', async () => {
    const file = path.join(dir, 'shared.token');
    writeFileSync(file, `${'A'.repeat(43)}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const error = await refusal(serve(file));
    expect(error.code).toBe(TokenFileErrorCode.UNSAFE);
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/other users can read or change it \(mode 0644\)/);
    expect(lstatSync(file).mode & 0o777).toBe(0o644);
  });

  it('refuses a symbolic link, even one to a private token file', async () => {
    const target = path.join(dir, 'real.token');
    writeFileSync(target, `${'B'.repeat(43)}\n`, { mode: 0o600 });
    const link = path.join(dir, 'link.token');
    symlinkSync(target, link);
    const error = await refusal(serve(link));
    expect(error.code).toBe(TokenFileErrorCode.UNSAFE);
    expect(error.message).toMatch(/symbolic link/);
    // A dangling link is not followed to create a file either.
    const dangling = path.join(dir, 'dangling.token');
    symlinkSync(path.join(dir, 'made-through-link'), dangling);
    expect((await refusal(serve(dangling))).code).toBe(TokenFileErrorCode.UNSAFE);
    expect(() => lstatSync(path.join(dir, 'made-through-link'))).toThrow();
  });

  it('refuses a folder, a FIFO, another user\'s file and one that holds no token', async () => {
    const folder = path.join(dir, 'a-folder');
    mkdirSync(folder, { mode: 0o700 });
    expect((await refusal(serve(folder))).message).toMatch(/not a regular file/);

    const fifo = path.join(dir, 'fifo.token');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    expect((await refusal(serve(fifo))).message).toMatch(/not a regular file/);

    const empty = path.join(dir, 'empty.token');
    writeFileSync(empty, 'short\n', { mode: 0o600 });
    expect((await refusal(serve(empty))).code).toBe(TokenFileErrorCode.MALFORMED);

    if (process.getuid?.() === 0) {
      const theirs = path.join(dir, 'theirs.token');
      writeFileSync(theirs, `${'C'.repeat(43)}\n`, { mode: 0o600 });
      chownSync(theirs, 1234, 1234);
      expect((await refusal(serve(theirs))).message).toMatch(/belongs to another user \(uid 1234\)/);
    }
  });

  it('the CLI exits 1 with the reason when the folder of the token file is missing', async () => {
    const missing = path.join(dir, 'no-such-folder', 'x.token');
    const run = await runBootcard(['serve', '--port', '0', '--renderer-dir', renderer, '--token-file', missing]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`its folder ${path.dirname(missing)} does not exist`);
  });
});
