import { SbmArgumentError } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import { kernelInceptionDistance } from './kernel-inception-distance.js';
import { randomMatrix, statsReference } from './stats.test-support.js';

function features(seed: number, n: number, d: number, shift: number): Float64Array {
  return randomMatrix(seed, n, d).map((v) => v + shift);
}

describe('kernelInceptionDistance', () => {
  const equalSizes = statsReference.kid.filter((c) => c.nA === c.nB);

  it.each(equalSizes.map((c) => [c.nA, c.dim, c] as const))(
    'n = %i, d = %i: one subset of all samples equals the full unbiased MMD² computed with numpy',
    (_, __, c) => {
      const a = features(c.seedA, c.nA, c.dim, 0);
      const b = features(c.seedB, c.nB, c.dim, c.shift);
      const got = kernelInceptionDistance(a, b, c.dim, { subsetSize: c.nA, numSubsets: 1, seed: 5 });
      // Kernel values are O(1–10): float64 rounding of sums of n² of them.
      expect(Math.abs(got.mean - c.mmd2)).toBeLessThan(1e-12);
      expect(got.std).toBe(0);
    },
  );

  it('by hand, d = 1: X = {1, −1}, Y = {2, 0} → (0 + 2)/2 − 2 · 28/4 + 0 = −13', () => {
    // k(x, y) = (xy + 1)³: k(1, −1) = 0, k(2, 0) = 1; cross terms 27, 1, −1, 1 (sum 28).
    const got = kernelInceptionDistance(Float64Array.of(1, -1), Float32Array.of(2, 0), 1, {
      subsetSize: 2,
      numSubsets: 3,
    });
    expect(got.mean).toBeCloseTo(-13, 12);
    expect(got.std).toBeCloseTo(0, 12);
  });

  it('averaged over random subsets it estimates the full-sample MMD² (unbiased; 4σ/√numSubsets Monte-Carlo bound)', () => {
    const c = statsReference.kid.find((k) => k.nA !== k.nB)!;
    const a = features(c.seedA, c.nA, c.dim, 0);
    const b = features(c.seedB, c.nB, c.dim, c.shift);
    const numSubsets = 400;
    const got = kernelInceptionDistance(a, b, c.dim, { subsetSize: 10, numSubsets, seed: 1 });
    expect(got.std).toBeGreaterThan(0);
    // E over subsets of the subset U-statistic is the full U-statistic with sizes nA ≠ nB (numpy, the script).
    expect(Math.abs(got.mean - c.mmd2)).toBeLessThan((4 * got.std) / Math.sqrt(numSubsets));
  });

  it('the seed fixes the subsets: equal seeds agree, different seeds differ', () => {
    const a = features(1, 50, 3, 0);
    const b = features(2, 50, 3, 0.2);
    const opts = { subsetSize: 20, numSubsets: 5 };
    const r1 = kernelInceptionDistance(a, b, 3, { ...opts, seed: 7 });
    expect(kernelInceptionDistance(a, b, 3, { ...opts, seed: 7 })).toEqual(r1);
    expect(kernelInceptionDistance(a, b, 3, { ...opts, seed: 8 }).mean).not.toBe(r1.mean);
  });

  it('errors: too few samples (suggesting a smaller subsetSize), dimension mismatch, non-finite values', () => {
    const a = new Float64Array(30);
    expect(() => kernelInceptionDistance(a, a, 3)).toThrow(
      /featuresA: has 10 samples, fewer than options.subsetSize = 1000; pass a subsetSize <= 10/,
    );
    expect(() => kernelInceptionDistance(a, new Float64Array(31), 3, { subsetSize: 5 })).toThrow(
      /featuresB: expected a multiple of dim = 3 values, got 31/,
    );
    const bad = new Float64Array(30);
    bad[13] = Number.POSITIVE_INFINITY;
    expect(() => kernelInceptionDistance(a, bad, 3, { subsetSize: 5 })).toThrow(
      /featuresB: expected finite values, got Infinity in row 4/,
    );
    expect(() => kernelInceptionDistance(a, a, 3, { subsetSize: 1 })).toThrow(SbmArgumentError);
    expect(() => kernelInceptionDistance(a, a, 3, { subsetSize: 5, numSubsets: 0 })).toThrow(
      /options.numSubsets/,
    );
    expect(() => kernelInceptionDistance(a, a, 0)).toThrow(/dim: expected an integer >= 1/);
  });
});
