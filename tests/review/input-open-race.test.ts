/**
 * Review of issue 11 (item 8): the input opener looked at a path with stat and
 * then opened it by name. A link swapped in between (a local user's own
 * folder, named by the operator of a root `bootcard serve`) made root open a
 * node stat never saw: a FIFO's blocked writer was released within about 100
 * tries; with /dev/watchdog the same open arms the machine's watchdog. Now the
 * node is taken with O_PATH, checked, and opened through that handle only.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { inputKind, openInputFile } from '../../electron/core/files/input-file.io.js';

it('a link swapped between a file and a FIFO while bootcard opens it never opens the FIFO', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-review-race-'));
  const fifo = path.join(dir, 'fifo');
  writeFileSync(path.join(dir, 'real.zip'), 'PK');
  execFileSync('mkfifo', [fifo]);
  // Blocks in open() until something opens the FIFO for reading.
  const writer = spawn('sh', ['-c', `echo released > '${fifo}'`], { stdio: 'ignore' });
  let released = false;
  writer.on('exit', () => (released = true));
  const swapper = spawn(
    'python3',
    [
      '-c',
      `import os, sys
d = sys.argv[1]
i = 0
while True:
    t = os.path.join(d, 'tmp%d' % (i % 2))
    try: os.remove(t)
    except FileNotFoundError: pass
    os.symlink('fifo' if i % 2 else 'real.zip', t)
    os.replace(t, os.path.join(d, 'input'))
    i += 1`,
      dir,
    ],
    { stdio: 'ignore' },
  );
  const outcomes = { opened: 0, refused: 0 };
  try {
    const input = path.join(dir, 'input');
    while (!(await import('node:fs')).existsSync(input)) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 5000 && !released; i++) {
      try {
        const file = await openInputFile(input, { what: 'firmware zip', maxBytes: 1024 * 1024 });
        await file.close();
        outcomes.opened++;
      } catch {
        outcomes.refused++;
      }
      // inputKind (file or folder?) opens the same way.
      await inputKind(input, { what: 'firmware' }).catch(() => undefined);
    }
    // Give a released writer a moment to be seen exiting.
    await new Promise((r) => setTimeout(r, 300));
    console.log(`[review] link swap against the input opener: ${outcomes.opened} opened the file, ${outcomes.refused} refused the FIFO, writer released: ${released}`);
    expect(released).toBe(false);
    expect(outcomes.opened).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  } finally {
    swapper.kill('SIGKILL');
    writer.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
