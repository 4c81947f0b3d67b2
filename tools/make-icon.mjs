#!/usr/bin/env node
/**
 * Draws resources/icon.png (512x512 RGBA): an SD card in Raspberry Pi red on a
 * rounded dark tile, with a network arrow. Plain code, no image tools, so the
 * icon can be regenerated anywhere: `node tools/make-icon.mjs`.
 */
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SIZE = 512;
const px = new Uint8Array(SIZE * SIZE * 4);

const inRoundRect = (x, y, x0, y0, x1, y1, r) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
/** The SD card outline: a rounded rectangle with its top-right corner cut. */
const inCard = (x, y) => inRoundRect(x, y, 136, 96, 376, 416, 22) && !(x > 296 && y < 96 + (x - 296));
const inArrow = (x, y) => {
  // A downward arrow (the network boot) in the card's middle.
  const shaft = x >= 238 && x <= 274 && y >= 250 && y <= 330;
  const head = y >= 320 && y <= 380 && Math.abs(x - 256) <= (380 - y) * 1.1;
  return shaft || head;
};
const inContacts = (x, y) => y >= 130 && y <= 190 && x >= 170 && x <= 290 && ((x - 170) % 26) < 16;

for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const i = (y * SIZE + x) * 4;
    let rgba = [0, 0, 0, 0];
    if (inRoundRect(x, y, 16, 16, 496, 496, 96)) rgba = [27, 31, 36, 255];
    if (inCard(x, y)) rgba = [197, 26, 74, 255];
    if (inCard(x, y) && inContacts(x, y)) rgba = [240, 200, 90, 255];
    if (inCard(x, y) && inArrow(x, y)) rgba = [255, 255, 255, 255];
    px.set(rgba, i);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) Buffer.from(px.buffer, y * SIZE * 4, SIZE * 4).copy(raw, y * (SIZE * 4 + 1) + 1);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'resources', 'icon.png');
writeFileSync(out, png);
console.log(`wrote ${out} (${png.length} bytes)`);
