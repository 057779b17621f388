import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { encodePng } from './png.js';

describe('encodePng', () => {
  it('writes a PNG whose pixels a decoder reads back', () => {
    const w = 3;
    const h = 2;
    const rgba = Uint8Array.from({ length: 4 * w * h }, (_, i) => (i * 37) % 256);
    const png = encodePng(w, h, rgba);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const back = PNG.sync.read(png);
    expect([back.width, back.height]).toEqual([w, h]);
    expect([...back.data]).toEqual([...rgba]);
  });

  it('names a buffer of the wrong size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(/^rgba: expected 4·2·2 = 16 bytes, got 15/);
  });
});
