import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng } from './png-io.js';

describe('PNG files', () => {
  it('writes RGB and gray PNGs that a PNG decoder reads back pixel for pixel', () => {
    const rgb = {
      width: 5,
      height: 3,
      channels: 3 as const,
      data: Uint8Array.from({ length: 45 }, (_, i) => (i * 37) % 256),
    };
    const back = PNG.sync.read(encodePng(rgb));
    expect([back.width, back.height]).toEqual([5, 3]);
    for (let p = 0; p < 15; p++) {
      expect([back.data[4 * p], back.data[4 * p + 1], back.data[4 * p + 2]]).toEqual([
        ...rgb.data.subarray(3 * p, 3 * p + 3),
      ]);
    }
    const gray = {
      width: 4,
      height: 2,
      channels: 1 as const,
      data: Uint8Array.from([0, 10, 20, 30, 40, 50, 60, 255]),
    };
    const g = decodePng(encodePng(gray));
    expect(g.channels).toBe(3);
    for (let p = 0; p < 8; p++)
      expect([...g.data.subarray(3 * p, 3 * p + 3)]).toEqual([gray.data[p], gray.data[p], gray.data[p]]);
  });

  it('names the problem for a wrong buffer size or an unreadable file', () => {
    expect(() => encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(11) })).toThrow(
      /^image: expected 2·2·3 = 12 bytes, got 11/,
    );
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'grid.png')).toThrow(/^grid.png: not a readable PNG/);
  });
});
