import { createRng, energyDistance as referenceEnergyDistance } from '@sbm/test-utils';
import { describe, expect, it } from 'vitest';
import { energyDistance } from './energy-distance.js';

describe('energyDistance', () => {
  it('equals the V-statistic of @sbm/test-utils', () => {
    const rng = createRng(9);
    for (const [n, m, d] of [
      [50, 80, 2],
      [30, 30, 3],
      [1, 7, 1],
    ] as const) {
      const a = rng.normals(n * d);
      const b = Float64Array.from(rng.normals(m * d), (v) => 0.5 + 1.3 * v);
      expect(energyDistance(a, b, d)).toBeCloseTo(referenceEnergyDistance(a, b, n, m, d), 12);
    }
  });

  it('is 0 for the same sample and skips rows with NaN or infinite values', () => {
    const a = [0, 1, 2, 3, 4, 5];
    expect(energyDistance(a, a, 2)).toBeCloseTo(0, 14);
    expect(energyDistance([...a, Number.NaN, 1, 2, Number.POSITIVE_INFINITY], a, 2)).toBeCloseTo(0, 14);
    expect(energyDistance([Number.NaN, 0], a, 2)).toBeNaN();
  });
});
