/**
 * Review of issue 11: a loop device backed by the very image being written
 * (test mode, root) must be refused as holding the image, however the image
 * is named: the check compared the image's path as given with the loop's
 * backing file, so a symlink to the image (or a hard link) slipped past it and
 * bootcard wrote the image over itself while reading it.
 */
import { linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { writeImageToDrives } from '../../electron/core/writer/writer.io.js';
import { pseudoRandomBytes } from '../helpers/pseudo-random.js';
import { describeLoop } from '../helpers/loop.js';
import { execFileSync } from 'node:child_process';
import { MiB } from '../writer/card-image.js';

describeLoop('a loop device backed by the image itself', () => {
  it('is refused whether the image is named by its path, through a symlink or through a hard link, and the image stays as it was', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-review-self-'));
    const image = path.join(dir, 'card.img');
    const bytes = Buffer.from(pseudoRandomBytes(4 * MiB, 5));
    writeFileSync(image, bytes);
    const device = execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim();
    try {
      const viaLink = path.join(dir, 'link.img');
      symlinkSync(image, viaLink);
      const viaHardLink = path.join(dir, 'hard.img');
      linkSync(image, viaHardLink);
      for (const name of [image, viaLink, viaHardLink]) {
        const [result] = await writeImageToDrives({ image: { path: name }, targets: [device], verify: true, includeLoop: true });
        expect(result, `${name}: ${JSON.stringify(result?.error)}`).toMatchObject({ ok: false, error: { code: 'DRIVE_HOLDS_SOURCE' } });
        expect(result!.bytesWritten).toBe(0);
      }
      expect(readFileSync(image).equals(bytes)).toBe(true);
    } finally {
      execFileSync('losetup', ['-d', device]);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
