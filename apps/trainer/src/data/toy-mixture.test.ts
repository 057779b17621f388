import { describe, expect, it } from 'vitest';
import { toyMixtureOfConfig } from './toy-mixture.js';

const base = { dataset: 'toy', radius: 2, std: 0.1, trainSize: 100, numClasses: 0 } as const;

describe('toyMixtureOfConfig', () => {
  it('puts a ring’s K equally weighted means at r·(cos 2πk/K, sin 2πk/K)', () => {
    const m = toyMixtureOfConfig({ ...base, mixture: 'ring', components: 8 });
    expect(m.weights).toEqual(Array(8).fill(1 / 8));
    expect(m.stds).toEqual(Array(8).fill(0.1));
    for (const [k, [x, y]] of m.means.entries()) {
      expect(Math.hypot(x, y)).toBeCloseTo(2, 12);
      expect(Math.atan2(y, x)).toBeCloseTo(k <= 4 ? (k * Math.PI) / 4 : (k * Math.PI) / 4 - 2 * Math.PI, 12);
    }
  });

  it('spans a grid over [−r, r]², √K points per side, and refuses a K that is not a square', () => {
    const m = toyMixtureOfConfig({ ...base, mixture: 'grid', components: 9 });
    const coords = [-2, 0, 2];
    expect(m.means).toEqual(coords.flatMap((y) => coords.map((x) => [x, y])));
    expect(toyMixtureOfConfig({ ...base, mixture: 'grid', components: 1 }).means).toEqual([[0, 0]]);
    expect(() => toyMixtureOfConfig({ ...base, mixture: 'grid', components: 8 })).toThrow(
      /^data\.components: expected a perfect square for data\.mixture 'grid', got 8/,
    );
  });
});
