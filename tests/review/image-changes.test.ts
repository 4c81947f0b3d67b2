/**
 * Review of issue 11: an image file that changes while bootcard writes it (a
 * careless user rebuilding it in place, or a second program appending to it).
 * The checksums are taken in a first pass and the card written from a second;
 * a card then holds bytes of two different images, and the read-back must not
 * blame the card ("faulty or fake") for what the image did.
 */
import { mkdtempSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { writeImageToDrives } from '../../electron/core/writer/writer.io.js';
import { openImageForChild } from '../../electron/core/writer/image-stream.io.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { MiB } from '../writer/card-image.js';

function overwrite(file: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-review-image-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('the image handle refuses to hand out bytes once the file changed after it was opened', async () => {
  const file = path.join(dir, 'handle.img');
  writeFileSync(file, pseudoRandomBytes(2 * MiB, 7));
  const opened = await openImageForChild(file);
  try {
    expect((await opened.read(0, 4096)).length).toBe(4096);
    overwrite(file, MiB, new Uint8Array(512).fill(0xaa));
    await expect(opened.read(0, 4096)).rejects.toMatchObject({ code: 'WRITE_IMAGE_CHANGED', message: expect.stringMatching(/changed while/) });
  } finally {
    await opened.close();
  }
});

describeLoop('an image file changed between the checksum pass and the write', () => {
  let loop: LoopDevice | undefined;
  afterEach(() => {
    loop?.detach();
    loop = undefined;
  });

  it('says the image changed, not that the card is faulty', async () => {
    // Larger than the chunks the child keeps, so the write pulls the start of the image again.
    const file = path.join(dir, 'raw.img');
    writeFileSync(file, pseudoRandomBytes(40 * MiB, 11));
    loop = attachLoop(48 * MiB, dir);
    let changed = false;
    const [result] = await writeImageToDrives({
      image: { path: file },
      targets: [loop.device],
      verify: true,
      includeLoop: true,
      onProgress: (p) => {
        // The checksum pass is over when the first write progress arrives; the write has not pulled a byte yet.
        if (p.phase === 'write' && !changed) {
          changed = true;
          overwrite(file, 0, new Uint8Array(MiB).fill(0x55));
        }
      },
    });
    expect(changed).toBe(true);
    expect(result).toMatchObject({ ok: false, verified: false });
    expect(result!.error?.code).toBe('WRITE_IMAGE_CHANGED');
    expect(result!.error?.message).toMatch(/changed while/);
    expect(result!.error?.message).not.toMatch(/faulty or fake|do not use it/);
  }, 120_000);
});
