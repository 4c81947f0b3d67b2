/**
 * Review of issue 11 (item 6): the child when its parent is gone. Its stdout
 * broken and its stdin closed (the parent died), the child's last words hit
 * EPIPE after it had already removed its error listener, and it crashed
 * through a dependency's rethrowing handler (a page of Emscripten source on
 * stderr) instead of ending as it means to. It must end cleanly, with its own
 * exit code.
 */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { writerChildEntry } from '../../electron/core/writer/writer.io.js';

it('a child whose parent closed both pipes ends with its own exit code, not a crash', async () => {
  const entry = writerChildEntry();
  const child = spawn(entry.nodePath, entry.nodeArgs, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...entry.env } });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  // The parent goes away: nothing reads the child's answers any more, and its input ends.
  child.stdout.destroy();
  child.stdin.end();
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  expect(stderr).not.toMatch(/EPIPE|Emscripten|Error/);
  // 2: the child's own answer to "no request" (INVALID_REQUEST), as child-main exits with it.
  expect(code).toBe(2);
}, 60_000);
