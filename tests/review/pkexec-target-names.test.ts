/**
 * Review of issue 11: through pkexec the privileged child must learn nothing
 * about paths the user could not look at. It resolved every target name as
 * root (realpath, stat), so a link in /tmp to a file in root's 0700 folder
 * came back as "… leads to /that/folder/private.img, which is a file", and a
 * name that does not exist there as "does not exist": an existence and
 * link-target oracle for any path on the machine. Through pkexec the child now
 * takes only device nodes directly in /dev (the parent resolves every name with
 * the user's own rights first) and follows no other name.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWriterChild } from '../../electron/core/writer/child.io.js';
import { encodeMessage } from '../../electron/core/writer/protocol.js';
import { writeImageToDrives } from '../../electron/core/writer/writer.io.js';
import { attachLoop, describeLoop } from '../helpers/loop.js';
import { MiB, testCardImage } from '../writer/card-image.js';

interface Result {
  target: string;
  ok: boolean;
  error?: { code: string; message: string };
}

async function childResults(uid: number | undefined, targets: string[]): Promise<Result[]> {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (c: Buffer) => (text += c.toString()));
  const running = runWriterChild(input, output, uid === undefined ? {} : { onBehalfOfUid: uid });
  const sparse = { kind: 'sparse', size: 4096, ranges: [{ offset: 0, data: Buffer.alloc(512, 1).toString('base64') }] };
  input.write(encodeMessage({ type: 'write', image: sparse, targets, verify: false, includeLoop: false, allowNonCard: false, lockAfterVerify: false } as never));
  await running;
  input.end();
  const last = JSON.parse(text.trim().split('\n').at(-1)!) as { type: string; results?: Result[] };
  expect(last, text).toMatchObject({ type: "done" });
  return last.results!;
}

const runsAsRoot = process.getuid?.() === 0;

describe.runIf(runsAsRoot)('target names through pkexec', () => {
  let dir: string;
  let hidden: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-review-names-'));
    chmodSync(dir, 0o1777);
    hidden = path.join(dir, 'root-only');
    mkdirSync(hidden, { mode: 0o700 });
    writeFileSync(path.join(hidden, 'private-name.img'), 'x');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('tell a user nothing about what lies in a folder they cannot read, however the name reaches it', async () => {
    const toFile = path.join(dir, 'to-file');
    const toNothing = path.join(dir, 'to-nothing');
    symlinkSync(path.join(hidden, 'private-name.img'), toFile);
    symlinkSync(path.join(hidden, 'no-such.img'), toNothing);
    const results: Result[] = [];
    for (const name of [toFile, toNothing, path.join(hidden, 'private-name.img'), path.join(hidden, 'no-such.img')]) results.push(...(await childResults(65534, [name])));
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe('WRITE_REFUSED');
      // The name the user gave is echoed; nothing beyond it (where a link leads, whether it exists, what it is).
      expect(r.error!.message.replaceAll(r.target, 'NAME')).not.toMatch(/private-name|no-such|exist|leads to|is a file|folder you/);
    }
    // An existing and a missing file get the same words: no existence oracle.
    const words = results.map((r) => r.error!.message.replaceAll(r.target, 'NAME'));
    expect(new Set(words).size).toBe(1);
  });

  it('a device node directly in /dev is still examined (a missing card is still called missing)', async () => {
    const [missing] = await childResults(65534, ['/dev/sdzz9']);
    expect(missing).toMatchObject({ ok: false, error: { code: 'DRIVE_VANISHED' } });
  });

  it('as root itself (no pkexec) a name is still followed as before', async () => {
    const [file] = await childResults(undefined, [path.join(hidden, 'private-name.img')]);
    expect(file!.error?.message).toMatch(/is a file/);
  });
});

describeLoop('the parent resolves names with its own rights and hands the child the /dev node', () => {
  it('a card named through a link is written, reported under the name the user gave', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-review-link-'));
    const loop = attachLoop(64 * MiB, dir);
    try {
      const link = path.join(dir, 'card-link');
      symlinkSync(loop.device, link);
      const progressTargets = new Set<string>();
      const [result] = await writeImageToDrives({ image: testCardImage(1), targets: [link], verify: true, includeLoop: true, onProgress: (p) => progressTargets.add(p.target) });
      expect(result, JSON.stringify(result?.error)).toMatchObject({ ok: true, target: link, device: loop.device });
      expect([...progressTargets]).toEqual([link]);
      // Two names of one card are refused before the child starts.
      await expect(writeImageToDrives({ image: testCardImage(1), targets: [link, loop.device], verify: true, includeLoop: true })).rejects.toMatchObject({ code: 'WRITE_BAD_REQUEST', message: expect.stringMatching(/same card/) });
    } finally {
      loop.detach();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
