import { describe, expect, it } from 'vitest';
import { composeFat32Image } from '../../electron/core/fat32/compose.js';
import { assertSparseImage, dataBytes, readSparse, type SparseImage } from '../../electron/core/image/sparse-image.js';
import { imageFromWire, imageToWire, parentMessageSchema } from '../../electron/core/writer/protocol.js';

const data = (n: number) => new Uint8Array(n).fill(7);

describe('sparse image zero ranges', () => {
  const image = (zeroRanges: SparseImage['zeroRanges']): SparseImage => ({
    size: 16 * 512,
    ranges: [
      { offset: 0, data: data(512) },
      { offset: 8 * 512, data: data(1024) },
    ],
    ...(zeroRanges ? { zeroRanges } : {}),
  });

  it('accepts sorted, sector-aligned zero ranges beside the data, and counts only data as data', () => {
    const ok = image([
      { offset: 512, length: 7 * 512 },
      { offset: 10 * 512, length: 6 * 512 },
    ]);
    expect(() => assertSparseImage(ok)).not.toThrow();
    expect(dataBytes(ok)).toBe(1536);
    expect(readSparse(ok, 512, 7 * 512).every((b) => b === 0)).toBe(true);
  });

  it.each([
    ['overlaps a data range', [{ offset: 7 * 512, length: 2 * 512 }], /overlaps the data range at 4096/],
    ['covers a data range whole', [{ offset: 512, length: 12 * 512 }], /overlaps the data range at 4096/],
    ['is not sector aligned', [{ offset: 600, length: 512 }], /not sector aligned/],
    ['is empty', [{ offset: 512, length: 0 }], /empty or invalid/],
    ['is out of order', [{ offset: 12 * 512, length: 512 }, { offset: 512, length: 512 }], /out of order/],
    ['overlaps another zero range', [{ offset: 512, length: 2 * 512 }, { offset: 2 * 512, length: 512 }], /out of order/],
    ['ends past the image', [{ offset: 12 * 512, length: 8 * 512 }], /past the image size/],
  ])('refuses a zero range that %s', (_what, zeroRanges, message) => {
    expect(() => assertSparseImage(image(zeroRanges))).toThrow(message);
  });

  it('travel to the privileged writer and back unchanged', () => {
    const card = composeFat32Image({ files: [{ path: 'a.txt', data: data(3000) }], partitionSize: 64 * 1024 * 1024, partitionType: 0x0c });
    expect(card.zeroRanges!.length).toBeGreaterThan(1);
    const wire = imageToWire(card);
    const parsed = parentMessageSchema.parse({ type: 'write', image: wire, targets: ['/dev/sdz'], verify: true, includeLoop: false, allowNonCard: false, lockAfterVerify: false });
    const back = imageFromWire(parsed.type === 'write' ? parsed.image : wire) as SparseImage;
    expect(back.zeroRanges).toEqual(card.zeroRanges);
    expect(back.ranges.map((r) => [r.offset, r.data.length])).toEqual(card.ranges.map((r) => [r.offset, r.data.length]));
    expect(() => assertSparseImage(back)).not.toThrow();
  });
});
