import { describe, expect, it } from 'vitest';
import { scatterPanel, tilePanels } from './scatter-plot.js';

describe('scatterPanel / tilePanels', () => {
  it('marks a point at the pixel of its coordinates and leaves far pixels white', () => {
    const p = scatterPanel([2, 2], { size: 81, range: [-4, 4], color: [0, 0, 0] });
    // x = 2 → column floor(6/8·80) = 60; y = 2 → row 80 − 60 = 20.
    const at = (x: number, y: number) => p.rgba[4 * (y * 81 + x)]!;
    expect(at(60, 20)).toBeLessThan(200);
    expect(at(20, 60)).toBe(255);
  });

  it('tiles panels left to right with margins', () => {
    const a = scatterPanel([], { size: 10 });
    const t = tilePanels([a, a, a], 2);
    expect(t.width).toBe(3 * 10 + 4 * 2);
    expect(t.height).toBe(14);
    expect(t.rgba.length).toBe(4 * t.width * t.height);
  });

  it('tiles panels in a grid of the given number of columns', () => {
    const white = scatterPanel([], { size: 10 });
    const dark = { size: 10, rgba: new Uint8Array(400).fill(0) };
    const t = tilePanels([white, white, white, dark], 2, 3); // 3 columns → 2 rows, dark panel first in row 2
    expect(t.width).toBe(3 * 10 + 4 * 2);
    expect(t.height).toBe(2 * 10 + 3 * 2);
    const at = (x: number, y: number) => t.rgba[4 * (y * t.width + x)];
    expect(at(2 + 5, 2 + 10 + 2 + 5)).toBe(0); // inside the dark panel
    expect(at(2 + 10 + 2 + 5, 2 + 10 + 2 + 5)).toBe(255); // the empty slot stays white
  });
});
