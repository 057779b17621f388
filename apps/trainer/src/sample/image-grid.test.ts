import { describe, expect, it } from 'vitest';
import { imageGrid, toImages } from './image-grid.js';

describe('toImages', () => {
  it('maps [−1, 1] (centered) or [0, 1] to rounded, clipped 8-bit levels', () => {
    const x = Float32Array.from([-1, 0, 1, 2, -0.5, Number.NaN]);
    expect([...toImages(x, [1, 1, 2, 3], true)[0]!.data]).toEqual([0, 128, 255, 255, 64, 0]);
    expect([...toImages(Float32Array.from([0, 0.5, 1, -1]), [1, 2, 2, 1], false)[0]!.data]).toEqual([
      0, 128, 255, 0,
    ]);
    expect(() => toImages(new Float32Array(4), [1, 2, 2], true)).toThrow(
      /^x: expected samples \[B, H, W, C\]/,
    );
  });
});

describe('imageGrid', () => {
  it('places image k at row ⌊k/columns⌋, column k mod columns, with padding', () => {
    const images = [0, 1, 2].map((k) => ({
      width: 2,
      height: 2,
      channels: 1 as const,
      data: new Uint8Array(4).fill(10 * (k + 1)),
    }));
    const grid = imageGrid(images, { columns: 2, padding: 1, background: 255 });
    expect([grid.width, grid.height]).toEqual([2 * 2 + 3, 2 * 2 + 3]);
    const at = (x: number, y: number) => grid.data[y * grid.width + x];
    expect([at(1, 1), at(2, 2), at(4, 1), at(5, 2), at(1, 4), at(2, 5), at(4, 4), at(0, 0)]).toEqual([
      10, 10, 20, 20, 30, 30, 255, 255,
    ]);
    expect(() =>
      imageGrid([images[0]!, { width: 3, height: 2, channels: 1, data: new Uint8Array(6) }]),
    ).toThrow(/^images\[1\]: expected 2×2×1/);
  });

  it('scale repeats every pixel scale × scale times (RGB too) before tiling', () => {
    // a 2×1 RGB image: red, then blue
    const image = { width: 2, height: 1, channels: 3 as const, data: new Uint8Array([255, 0, 0, 0, 0, 255]) };
    const grid = imageGrid([image], { scale: 3, padding: 0 });
    expect([grid.width, grid.height]).toEqual([6, 3]);
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 6; x++) {
        const px = [...grid.data.subarray((y * 6 + x) * 3, (y * 6 + x) * 3 + 3)];
        expect(px, `(${x}, ${y})`).toEqual(x < 3 ? [255, 0, 0] : [0, 0, 255]);
      }
    }
    expect(imageGrid([image, image], { scale: 2, padding: 1 }).width).toBe(2 * 4 + 3);
    expect(() => imageGrid([image], { scale: 1.5 })).toThrow(/^scale: expected an integer >= 1/);
  });
});
