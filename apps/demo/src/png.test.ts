import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodePng } from './png.js';

describe('encodePng', () => {
  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('writes a valid PNG whose pixels decode back', () => {
    const w = 3;
    const h = 2;
    const rgba = Uint8Array.from({ length: 4 * w * h }, (_, i) => (i * 37) % 256);
    const png = encodePng(w, h, rgba);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // Walk the chunks, checking every CRC, and collect IDAT.
    let off = 8;
    const types: string[] = [];
    let idat = Buffer.alloc(0);
    while (off < png.length) {
      const len = png.readUInt32BE(off);
      const type = png.toString('ascii', off + 4, off + 8);
      expect(png.readUInt32BE(off + 8 + len)).toBe(crc32(png.subarray(off + 4, off + 8 + len)));
      if (type === 'IHDR') {
        expect(png.readUInt32BE(off + 8)).toBe(w);
        expect(png.readUInt32BE(off + 12)).toBe(h);
      }
      if (type === 'IDAT') idat = Buffer.concat([idat, png.subarray(off + 8, off + 8 + len)]);
      types.push(type);
      off += 12 + len;
    }
    expect(types).toEqual(['IHDR', 'IDAT', 'IEND']);
    const raw = inflateSync(idat);
    for (let y = 0; y < h; y++) {
      expect(raw[y * (4 * w + 1)]).toBe(0);
      expect([...raw.subarray(y * (4 * w + 1) + 1, (y + 1) * (4 * w + 1))]).toEqual([
        ...rgba.subarray(y * 4 * w, (y + 1) * 4 * w),
      ]);
    }
  });

  it('rejects a buffer of the wrong size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(3))).toThrow(/rgba must have 4·2·2 = 16 bytes, got 3/);
  });
});
