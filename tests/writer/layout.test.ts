import { describe, expect, it } from 'vitest';
import { HEAD_WIPE_BYTES, planCardWrite, rawImageRanges, TAIL_WIPE_BYTES } from '../../electron/core/writer/layout.js';
import { ProgressMeter } from '../../electron/core/writer/progress.js';

const MiB = 1024 * 1024;

describe('card write plan', () => {
  it('clears the first 4 MiB first, then the last 1 MiB around the data, and writes the partition table last', () => {
    const ranges = [
      { offset: 0, length: 512 },
      { offset: 4 * MiB, length: 2 * MiB },
      { offset: 60 * MiB, length: 3.5 * MiB },
    ];
    const plan = planCardWrite(ranges, 64 * MiB);
    expect(plan.headWipe).toEqual({ offset: 0, length: HEAD_WIPE_BYTES, kind: 'zero' });
    expect(plan.blocks).toEqual([
      // Only the part of the last MiB that the image leaves empty.
      { offset: 63.5 * MiB, length: 0.5 * MiB, kind: 'zero' },
      { offset: 4 * MiB, length: 2 * MiB, kind: 'data' },
      { offset: 60 * MiB, length: 3.5 * MiB, kind: 'data' },
      { offset: 0, length: 512, kind: 'data' },
    ]);
    expect(plan.blocks.at(-1)!.offset).toBe(0);
    expect(plan.bytesToWrite).toBe(HEAD_WIPE_BYTES + 2 * MiB + 3.5 * MiB + 0.5 * MiB + 512);
  });

  it('on a card larger than the image, the tail wipe lies past the image', () => {
    const plan = planCardWrite([{ offset: 0, length: 1024 }], 1024 * MiB);
    expect(plan.blocks).toEqual([
      { offset: 1024 * MiB - TAIL_WIPE_BYTES, length: TAIL_WIPE_BYTES, kind: 'zero' },
      { offset: 0, length: 1024, kind: 'data' },
    ]);
  });

  it('a raw image is written whole, its first 4 MiB last', () => {
    const plan = planCardWrite(rawImageRanges(256 * MiB), 256 * MiB);
    expect(plan.blocks.map((b) => [b.offset, b.length])).toEqual([
      [4 * MiB, 252 * MiB],
      [0, 4 * MiB],
    ]);
  });
});

describe('progress meter', () => {
  it('reports speed over a window and the time left', () => {
    const meter = new ProgressMeter('/dev/sdb', 'write', 100 * MiB);
    meter.sample(0, 0);
    const p = meter.sample(20 * MiB, 2000);
    expect(p).toMatchObject({ target: '/dev/sdb', phase: 'write', bytes: 20 * MiB, total: 100 * MiB, speed: 10 * MiB, etaSeconds: 8 });
  });
});
