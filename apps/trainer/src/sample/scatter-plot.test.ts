import { describe, expect, it } from 'vitest';
import { scatterPlot, scatterWindow } from './scatter-plot.js';

const pixel = (im: { width: number; data: Uint8Array }, x: number, y: number) =>
  Array.from(im.data.subarray(3 * (y * im.width + x), 3 * (y * im.width + x) + 3));

describe('scatterPlot', () => {
  it('puts a point at column ⌊(x − x0)/side·size⌋ and row size − 1 − ⌊(y − y0)/side·size⌋, y upwards', () => {
    const window = { x0: 0, y0: 0, side: 1 };
    const im = scatterPlot([0.3, 0.8], { size: 10, window });
    expect([im.width, im.height, im.channels]).toEqual([10, 10, 3]);
    const [r, g, b] = pixel(im, 3, 1);
    expect(b!).toBeGreaterThan(r! + 50); // blue dot on white
    expect(g!).toBeLessThan(200);
    expect(pixel(im, 6, 6)).toEqual([255, 255, 255]);
    // The reference is grey; points outside the window are left out.
    const ref = scatterPlot([5, 5], { size: 10, window, reference: [0.55, 0.55] });
    const [rr, rg, rb] = pixel(ref, 5, 4);
    expect(rr).toBe(rg);
    expect(rg).toBe(rb);
    expect(rr!).toBeLessThan(255);
    expect(ref.data.filter((_, i) => i % 3 === 2 && ref.data[i - 2]! + 50 < ref.data[i]!).length).toBe(0);
    expect(() => scatterPlot([1, 2, 3])).toThrow(/^points: expected interleaved x, y values/);
    expect(() => scatterPlot([1, 2], { window: { x0: 0, y0: 0, side: 0 } })).toThrow(/^window: /);
  });

  it('chooses a square window holding the bulk of the points (robust to a few outliers)', () => {
    const points: number[] = [];
    for (let i = 0; i < 1000; i++) points.push(Math.cos(i) * 2, Math.sin(i) * 2);
    points.push(1e6, -1e6); // one stray sample
    const w = scatterWindow(points);
    expect(w.x0).toBeLessThan(-2);
    expect(w.y0).toBeLessThan(-2);
    expect(w.x0 + w.side).toBeGreaterThan(2);
    expect(w.side).toBeLessThan(6);
    expect(scatterWindow([])).toEqual({ x0: -1, y0: -1, side: 2 });
  });
});
