import { describe, expect, it } from 'vitest';
import { energyDistance, sampleCovariance, sampleMean } from './moments.js';
import { createRng } from './rng.js';

describe('sampleMean / sampleCovariance', () => {
  it('match a hand-computed example', () => {
    // samples (1,2), (3,6), (5,4)
    const x = new Float64Array([1, 2, 3, 6, 5, 4]);
    expect(sampleMean(x, 3, 2)).toEqual([3, 4]);
    // deviations (-2,-2), (0,2), (2,0): Σ = [[8, 4], [4, 8]] / 2
    expect(sampleCovariance(x, 3, 2)).toEqual([
      [4, 2],
      [2, 4],
    ]);
    expect(sampleMean(new Float32Array([1.5, 2.5]), 2, 1)).toEqual([2]);
  });

  it('validates sizes', () => {
    expect(() => sampleMean([1, 2, 3], 2, 2)).toThrow();
    expect(() => sampleCovariance([1, 2], 1, 2)).toThrow();
    expect(() => sampleMean([], 0, 1)).toThrow();
  });
});

describe('energyDistance', () => {
  const d = 2;
  const n = 600;
  const draw = (seed: number, shift: number, scale = 1): Float64Array => {
    const z = createRng(seed).normals(n * d);
    for (let i = 0; i < z.length; i++) z[i] = scale * z[i]! + (i % d === 0 ? shift : 0);
    return z;
  };

  it('is zero for identical samples and symmetric', () => {
    const a = draw(1, 0);
    const b = draw(2, 0.3);
    expect(Math.abs(energyDistance(a, a, n, n, d))).toBeLessThan(1e-12);
    expect(energyDistance(a, b, n, n, d)).toBeCloseTo(energyDistance(b, a, n, n, d), 12);
  });

  it('is small for the same law and larger for shifted or scaled laws', () => {
    const a = draw(11, 0);
    const same = energyDistance(a, draw(12, 0), n, n, d);
    const shifted = energyDistance(a, draw(13, 0.5), n, n, d);
    const farShifted = energyDistance(a, draw(14, 2), n, n, d);
    const scaled = energyDistance(a, draw(15, 0, 1.5), n, n, d);
    expect(same).toBeGreaterThanOrEqual(0);
    expect(same).toBeLessThan(0.02);
    expect(shifted).toBeGreaterThan(3 * same);
    expect(shifted).toBeGreaterThan(0.05);
    expect(farShifted).toBeGreaterThan(shifted);
    expect(scaled).toBeGreaterThan(3 * same);
  });

  it('handles different sample sizes', () => {
    const a = draw(3, 0);
    const b = createRng(4).normals(200 * d);
    const e = energyDistance(a, b, n, 200, d);
    expect(e).toBeGreaterThanOrEqual(0);
    expect(e).toBeLessThan(0.03);
  });
});
