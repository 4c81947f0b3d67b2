/**
 * card.inspect through the real handler table: only a whole disk the drive
 * layer lists or a regular image file is read; everything else is refused
 * with what to pick instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeRecoveryCard } from '../../electron/core/card/index.js';
import { saveSparseImage } from '../../electron/core/image/sparse-image.io.js';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { REPO_ROOT, describeShared, eepromFixture } from '../helpers/shared.js';
import { wireTransport } from '../helpers/wire.js';

/**
 * Why the "without root" test cannot run here, or null: it needs runuser, and the user nobody must be able to
 * run node on the checkout (a clone under /root, mode 0700, is out of nobody's reach).
 */
function nobodyUnavailableReason(): string | null {
  if (!existsSync('/usr/sbin/runuser')) return 'runuser is missing';
  const probe = spawnSync('runuser', ['-u', 'nobody', '--', 'test', '-r', path.join(REPO_ROOT, 'node_modules', 'tsx', 'package.json'), '-a', '-x', process.execPath]);
  if (probe.status !== 0) return `the user nobody cannot read ${REPO_ROOT} or run ${process.execPath}`;
  return null;
}
const nobodyUnavailable = nobodyUnavailableReason();
if (nobodyUnavailable) console.warn(`[skip] card.inspect as the user nobody: ${nobodyUnavailable}`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function clientFor(includeLoop: boolean) {
  return createClient(wireTransport(createHandlers({ frontEnd: 'serve', includeLoop, cwd: dir })));
}

async function refusal(request: Parameters<ReturnType<typeof clientFor>['call']>[1], includeLoop = false): Promise<{ code: string; message: string }> {
  const error = await clientFor(includeLoop).call('card.inspect', request as { image: string }).then(
    () => null,
    (e: unknown) => e as { code: string; message: string },
  );
  expect(error, 'the request should have been refused').not.toBeNull();
  return { code: error!.code, message: error!.message };
}

describe('card.inspect refuses what is not a card or an image file', () => {
  it('a folder, named as an image', async () => {
    expect(await refusal({ image: dir })).toEqual({ code: 'CARD_NOT_INSPECTABLE', message: `${dir} is a folder, not an image file. Name a card image file (such as card.img).` });
  });

  it('/dev/null, named as a device or as an image', async () => {
    expect(await refusal({ device: '/dev/null' })).toEqual({
      code: 'CARD_NOT_INSPECTABLE',
      message: '/dev/null is a character device, not a disk. Pick a card from the list, or name an image file.',
    });
    expect(await refusal({ image: '/dev/null' })).toEqual({
      code: 'CARD_NOT_INSPECTABLE',
      message: '/dev/null is a character device, not an image file. Name a card image file (such as card.img).',
    });
  });

  it('a FIFO, without hanging on it', async () => {
    const fifo = path.join(dir, 'pipe.img');
    execFileSync('mkfifo', [fifo]);
    expect(await refusal({ image: 'pipe.img' })).toMatchObject({ code: 'CARD_NOT_INSPECTABLE', message: expect.stringMatching(/pipe.img is a FIFO \(named pipe\), not an image file/) });
  });

  it('a path that does not exist, and a request with both or neither', async () => {
    expect(await refusal({ image: 'no-such.img' })).toEqual({ code: 'FILE_NOT_FOUND', message: `${path.join(dir, 'no-such.img')} does not exist. Check the path of the image file.` });
    expect(await refusal({ device: '/dev/../etc/passwd' })).toMatchObject({ code: 'INVALID_REQUEST' });
    expect(await refusal({ device: '/dev/sdz', image: 'x.img' } as unknown as { image: string })).toMatchObject({ code: 'INVALID_REQUEST' });
  });

  it('an image file that is no card says so in the FAT reader’s words', async () => {
    writeFileSync(path.join(dir, 'notes.img'), 'not a card\n'.repeat(100));
    const { code } = await refusal({ image: 'notes.img' });
    expect(code).toMatch(/^FAT_/);
  });
});

describeShared('card.inspect reads a real card', () => {
  describeLoop('on a loop device', () => {
    let loop: LoopDevice;
    beforeAll(() => {
      loop = attachLoop(300 * 1024 * 1024, dir);
      const card = composeRecoveryCard({
        board: '2712',
        pieeprom: readFileSync(eepromFixture('pieeprom-2712-2026-05-26.bin')),
        recovery: readFileSync(eepromFixture('recovery-2712.bin')),
        preset: 'usb',
        timestamp: 1760000000,
      });
      const fd = openSync(loop.device, 'r+');
      try {
        for (const r of card.ranges) writeSync(fd, r.data, 0, r.data.length, r.offset);
      } finally {
        closeSync(fd);
      }
    });
    afterAll(() => loop?.detach());

    /** Calls the real card.inspect handler with each request in one process running as the unprivileged user "nobody". */
    function inspectAsNobody(requests: readonly object[]): { ok: boolean; code?: string; message?: string; kind?: string }[] {
      const script = `
        const { createHandlers } = await import(${JSON.stringify(path.join(REPO_ROOT, 'electron/ipc/handlers/index.ts'))});
        const inspect = createHandlers({ frontEnd: 'serve', includeLoop: true })['card.inspect'];
        const out = [];
        for (const request of JSON.parse(process.argv[1])) {
          try {
            const r = await inspect(request, { progress() {}, signal: new AbortController().signal });
            out.push({ ok: true, kind: r.inspection.kind });
          } catch (e) {
            out.push({ ok: false, code: e.code, message: e.message });
          }
        }
        console.log(JSON.stringify(out));`;
      const out = execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(requests)], { cwd: REPO_ROOT, encoding: 'utf8' });
      return JSON.parse(out.trim().split('\n').at(-1)!) as { ok: boolean }[];
    }

    it.skipIf(nobodyUnavailable !== null)('without root: reads what the user may read, and says how to get read access otherwise', async () => {
      const shared = mkdtempSync(path.join(os.tmpdir(), 'bootcard-inspect-nobody-'));
      try {
        chmodSync(shared, 0o755);
        const card = composeRecoveryCard({ board: '2711', pieeprom: readFileSync(eepromFixture('pieeprom-2711-2026-05-17.bin')), recovery: readFileSync(eepromFixture('recovery-2711.bin')), preset: 'sd', timestamp: 1760000000 });
        const readable = path.join(shared, 'readable.img');
        const private_ = path.join(shared, 'private.img');
        for (const [file, mode] of [[readable, 0o644], [private_, 0o600]] as const) {
          await saveSparseImage(card, file);
          chmodSync(file, mode);
        }
        const [a, b, c] = inspectAsNobody([{ image: readable }, { image: private_ }, { device: loop.device }]);
        expect(a).toEqual({ ok: true, kind: 'eeprom-recovery' });
        expect(b).toEqual({
          ok: false,
          code: 'PERMISSION_DENIED',
          message: `Cannot read ${private_}: permission denied. Make the image file readable by your user (chmod or chown), or run bootcard as root.`,
        });
        // A loop device node is root:disk 0660: a user outside the disk group cannot read it.
        expect(c).toMatchObject({ ok: false, code: 'PERMISSION_DENIED', message: expect.stringMatching(/^Cannot read \/dev\/loop\d+: permission denied\. Reading a card needs read access to its device node: run bootcard as root, or add your user to the group that owns the node/) });
      } finally {
        rmSync(shared, { recursive: true, force: true });
      }
    });

    it('that the drive layer lists (test mode), and refuses it where loop devices are not listed', async () => {
      const { source, inspection } = await clientFor(true).call('card.inspect', { device: loop.device });
      expect(source).toEqual({ kind: 'device', path: loop.device });
      expect(inspection.kind).toBe('eeprom-recovery');
      expect(inspection.size).toBe(300 * 1024 * 1024);
      expect(inspection.tree.map((n) => n.name).sort()).toEqual(['pieeprom.bin', 'pieeprom.sig', 'recovery.bin']);
      expect(inspection.bootloader?.config).toBe(readFileSync(eepromFixture('imager-2712-boot-conf-usb.txt'), 'utf8'));
      expect(await refusal({ device: loop.device })).toEqual({
        code: 'CARD_NOT_INSPECTABLE',
        message: `${loop.device} is not a disk bootcard lists (a loop device). Pick a card from the list, or name an image file.`,
      });
      // A block device is not an image file, whatever the server's mode.
      expect(await refusal({ image: loop.device }, true)).toMatchObject({ code: 'CARD_NOT_INSPECTABLE', message: expect.stringMatching(/is a block device, not an image file/) });
    });
  });
});
