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
});
