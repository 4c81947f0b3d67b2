/**
 * The wizard's card.write (the handler table both transports use) with one
 * good card, one too small and one removed since it was chosen: the good one
 * is written and verified, each of the others fails alone with its reason, and
 * each card's own result arrives as it ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../electron/ipc/client.js';
import { createHandlers } from '../../electron/ipc/handlers/index.js';
import { attachLoop, describeLoop, type LoopDevice } from '../helpers/loop.js';
import { SHARED_ROOT, describeShared } from '../helpers/shared.js';
import { wireTransport } from '../helpers/wire.js';
import { MiB, readFileRange } from './card-image.js';

const recipe = {
  kind: 'eeprom-recovery',
  board: '2711',
  firmwarePath: `${SHARED_ROOT}/fixtures/rpi-eeprom`,
  config: '[all]\nBOOT_ORDER=0xf142\n',
} as const;

describeShared('the wizard writes the cards it can and reports the others', () => {
  describeLoop('card.write with a too-small and a removed card among the chosen ones', () => {
    let dir: string;
    const loops: LoopDevice[] = [];
    beforeAll(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'bootcard-wizard-partial-'));
    });
    afterAll(() => {
      for (const l of loops) l.detach();
      rmSync(dir, { recursive: true, force: true });
    });

    it('the good card is written and verified; the small one and the removed one fail alone', async () => {
      const good = attachLoop(300 * MiB, dir);
      const small = attachLoop(4 * MiB, dir);
      const removed = attachLoop(300 * MiB, dir);
      loops.push(good, small, removed);
      const client = createClient(wireTransport(createHandlers({ frontEnd: 'serve', includeLoop: true, cwd: dir })));
      const reviewed = await client.call('card.plan', { recipe });
      // Chosen, then pulled out before Write.
      removed.detach();
      const done: string[] = [];
      const result = await client.call(
        'card.write',
        { recipe, targets: [good.device, small.device, removed.device], verify: true, timestamp: reviewed.timestamp },
        { onProgress: (e) => e.type === 'card-done' && done.push(`${e.result.device}:${e.result.ok}`) },
      );
      expect(result.results.map((r) => [r.device, r.ok, r.verified])).toEqual([
        [good.device, true, true],
        [small.device, false, false],
        [removed.device, false, false],
      ]);
      expect(result.results[1]!.error?.message).toMatch(/but the image needs/);
      expect(result.results[2]!.error?.code).toMatch(/^DRIVE_/);
      expect(done.sort()).toEqual([`${good.device}:true`, `${small.device}:false`, `${removed.device}:false`].sort());
      expect(result.manifest.map((m) => m.ok)).toEqual([true, false, false]);
      // The good card holds the card: an MBR with its boot signature.
      expect([...readFileRange(good.backingFile, 510, 2)]).toEqual([0x55, 0xaa]);
    }, 120_000);
  });
});
