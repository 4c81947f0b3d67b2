import { describe, expect, it } from 'vitest';
import { HEAD_WIPE_BYTES, nonZeroPieces, planCardWrite, rawImageRanges, TABLE_WIPE_BYTES, TAIL_WIPE_BYTES, ZERO_GRANULE } from '../../electron/core/writer/layout.js';
import { ProgressMeter } from '../../electron/core/writer/progress.js';

const MiB = 1024 * 1024;

describe('card write plan', () => {
  it('zeroes the partition table area first, checks the other zero blocks, then writes data with the partition table last', () => {
    const ranges = [
      { offset: 0, length: 512 },
      { offset: 4 * MiB, length: 2 * MiB },
      { offset: 60 * MiB, length: 3.5 * MiB },
    ];
    const zeroRanges = [
      { offset: 512, length: 33 * 512 },
      { offset: 6 * MiB, length: 1 * MiB },
    ];
    const plan = planCardWrite(ranges, 64 * MiB, zeroRanges);
    expect(plan.tableWipe).toEqual({ offset: 0, length: TABLE_WIPE_BYTES, kind: 'zero' });
    expect(plan.zeroBlocks).toEqual([
      // The rest of the first 4 MiB, the image's zero range, and the part of the last MiB that the image leaves empty.
      { offset: TABLE_WIPE_BYTES, length: HEAD_WIPE_BYTES - TABLE_WIPE_BYTES, kind: 'zero' },
      { offset: 6 * MiB, length: 1 * MiB, kind: 'zero' },
      { offset: 63.5 * MiB, length: 0.5 * MiB, kind: 'zero' },
    ]);
    expect(plan.dataBlocks).toEqual([
      { offset: 4 * MiB, length: 2 * MiB, kind: 'data' },
      { offset: 60 * MiB, length: 3.5 * MiB, kind: 'data' },
      { offset: 0, length: 512, kind: 'data' },
    ]);
    // Verification covers the table area too (minus the MBR, which is data).
    expect(plan.verifyBlocks.filter((b) => b.kind === 'zero')[0]).toEqual({ offset: 512, length: HEAD_WIPE_BYTES - 512, kind: 'zero' });
    expect(plan.bytesToVerify).toBe(HEAD_WIPE_BYTES - 512 + MiB + 0.5 * MiB + 2 * MiB + 3.5 * MiB + 512);
    expect(plan.bytesToProcess).toBe(HEAD_WIPE_BYTES + MiB + 0.5 * MiB + 2 * MiB + 3.5 * MiB + 512);
  });

  it('on a card larger than the image, the tail wipe lies past the image', () => {
    const plan = planCardWrite([{ offset: 0, length: 1024 }], 1024 * MiB);
    expect(plan.zeroBlocks.at(-1)).toEqual({ offset: 1024 * MiB - TAIL_WIPE_BYTES, length: TAIL_WIPE_BYTES, kind: 'zero' });
    expect(plan.dataBlocks).toEqual([{ offset: 0, length: 1024, kind: 'data' }]);
  });

  it('a raw image is written whole, its first 4 MiB last, with nothing to zero but the table area', () => {
    const plan = planCardWrite(rawImageRanges(256 * MiB), 256 * MiB);
    expect(plan.zeroBlocks).toEqual([]);
    expect(plan.dataBlocks.map((b) => [b.offset, b.length])).toEqual([
      [4 * MiB, 252 * MiB],
      [0, 4 * MiB],
    ]);
  });
});

describe('zero pieces to rewrite', () => {
  it('finds the granules that are not zero, aligned on the card and merged', () => {
    const chunk = new Uint8Array(64 * 1024);
    chunk[10] = 1; // first granule
    chunk[4096 + 5] = 1; // second granule: merged with the first
    chunk[40000] = 0xff; // granule 9
    const at = 8 * MiB;
    expect(nonZeroPieces(chunk, at, ZERO_GRANULE)).toEqual([
      { offset: at, length: 8192 },
      { offset: at + 9 * 4096, length: 4096 },
    ]);
    expect(nonZeroPieces(new Uint8Array(64 * 1024), at)).toEqual([]);
  });

  it('clips pieces to a chunk that does not start or end on the grid', () => {
    const chunk = new Uint8Array(3 * 512);
    chunk[0] = 1;
    chunk[chunk.length - 1] = 1;
    // The chunk covers card bytes 3584..5120: granule 0's last sector and granule 1's first two.
    expect(nonZeroPieces(chunk, 3584, 4096)).toEqual([{ offset: 3584, length: 1536 }]);
    chunk[0] = 0;
    expect(nonZeroPieces(chunk, 3584, 4096)).toEqual([{ offset: 4096, length: 1024 }]);
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
