import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, type Transport } from '../../electron/ipc/client.js';
import type { WireFromMain } from '../../electron/ipc/define.js';
import { createDispatcher } from '../../electron/ipc/dispatcher.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { SHARED_ROOT, describeShared } from '../helpers/shared.js';

function clientFor(includeLoop: boolean) {
  const dispatcher = createDispatcher(createHandlers({ frontEnd: 'serve', includeLoop }));
  const listeners = new Set<(m: WireFromMain) => void>();
  const transport: Transport = {
    send: (m) => void dispatcher.receive(JSON.parse(JSON.stringify(m)), (r) => listeners.forEach((l) => l(JSON.parse(JSON.stringify(r)) as WireFromMain))),
    onMessage: (l) => (listeners.add(l), () => listeners.delete(l)),
  };
  return createClient(transport);
}

const recipe = {
  kind: 'eeprom-recovery',
  board: '2711',
  firmwarePath: `${SHARED_ROOT}/fixtures/rpi-eeprom`,
  config: '[all]\nBOOT_ORDER=0xf142\nTFTP_IP=10.10.0.10\n',
} as const;

describeShared('the wizard handlers on real loop devices', () => {
  describeLoop('loop devices are targets only in test mode', () => {
    let dir: string;
    let loop: LoopDevice;
    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-handlers-'));
      loop = attachLoop(300 * 1024 * 1024, dir);
    });
    afterAll(() => {
      loop?.detach();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a normal server lists no loop device and the writer refuses one, writing nothing', async () => {
      const client = clientFor(false);
      const { drives } = await client.call('drives.list', {});
      expect(drives.some((d) => d.device === loop.device)).toBe(false);
      const result = await client.call('card.write', { recipe, targets: [loop.device], verify: true });
      expect(result.results[0]).toMatchObject({ device: loop.device, ok: false, error: { code: 'DRIVE_LOOP' } });
      const head = Buffer.alloc(1024 * 1024);
      const fd = openSync(loop.backingFile, 'r');
      readSync(fd, head, 0, head.length, 0);
      closeSync(fd);
      expect(head.every((b) => b === 0)).toBe(true);
      expect(result.manifest[0]).toMatchObject({ ok: false });
    });

    it('a test-mode server offers it as usable and writes and verifies it, with progress per card', async () => {
      const client = clientFor(true);
      const { drives } = await client.call('drives.list', {});
      expect(drives.find((d) => d.device === loop.device)).toMatchObject({ problems: [], hiddenByDefault: false });
      const phases = new Set<string>();
      let planned = false;
      const result = await client.call('card.write', { recipe, targets: [loop.device], verify: true }, {
        onProgress: (e) => {
          if (e.type === 'planned') planned = true;
          if (e.type === 'progress') phases.add(`${e.device} ${e.phase}`);
        },
      });
      expect(planned).toBe(true);
      expect([...phases]).toEqual([`${loop.device} write`, `${loop.device} verify`]);
      expect(result.results).toEqual([{ device: loop.device, ok: true, verified: true, locked: false, cardSerial: null }]);
      expect(result.manifest[0]).toMatchObject({ device: loop.device, recipe: 'eeprom-recovery 2711', config: recipe.config, sha256: result.plan.sha256, ok: true, error: null });
    });
  });
});

it('rejects a write request with a duplicate card before any handler runs', async () => {
  const error = await clientFor(false)
    .call('card.write', { recipe, targets: ['/dev/sdb', '/dev/sdb'], verify: true })
    .catch((e: { code: string; message: string }) => e);
  expect(error).toMatchObject({ code: 'INVALID_REQUEST' });
  expect((error as { message: string }).message).toMatch(/each card may be picked once/);
});
