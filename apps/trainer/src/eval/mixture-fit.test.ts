import { describe, expect, it } from 'vitest';
import { type GaussianMixture2D, sampleToy } from '../data/toy.js';
import { mixtureFit, mixtureLogDensity } from './mixture-fit.js';

/** The toy/mixture preset's data: 8 components on a ring of radius 2, std 0.1. */
const ring: GaussianMixture2D = {
  weights: Array.from({ length: 8 }, () => 1 / 8),
  means: Array.from(
    { length: 8 },
    (_, k) => [2 * Math.cos((k * Math.PI) / 4), 2 * Math.sin((k * Math.PI) / 4)] as const,
  ),
  stds: Array.from({ length: 8 }, () => 0.1),
};

describe('mixtureLogDensity', () => {
  it('is log Σ_k w_k N(x; m_k, s_k² I), computed directly, and stays finite far from every mean', () => {
    const m: GaussianMixture2D = {
      weights: [1, 3],
      means: [
        [0, 0],
        [1, -1],
      ],
      stds: [0.5, 1.5],
    };
    const direct = (x: number, y: number) =>
      Math.log(
        m.weights.reduce((s, w, k) => {
          const [mx, my] = m.means[k]!;
          const v = m.stds[k]! ** 2;
          return s + ((w / 4) * Math.exp(-((x - mx) ** 2 + (y - my) ** 2) / (2 * v))) / (2 * Math.PI * v);
        }, 0),
      );
    const points = [0, 0, 1, -1, 0.3, 2, -2, -0.5];
    const got = mixtureLogDensity(m, points);
    for (let i = 0; i < 4; i++) expect(got[i]).toBeCloseTo(direct(points[2 * i]!, points[2 * i + 1]!), 12);
    // At 100 std from the nearest mean exp() underflows; log-sum-exp gives −|d|²/(2s²) + log w − log 2πs².
    const far = mixtureLogDensity(ring, [2 + 10, 0])[0]!;
    expect(far).toBeCloseTo(-(10 ** 2) / (2 * 0.01) + Math.log(1 / 8) - Math.log(2 * Math.PI * 0.01), 6);
    expect(() => mixtureLogDensity(ring, [1, 2, 3])).toThrow(/^points: expected interleaved x, y values/);
  });
});

describe('mixtureFit', () => {
  it('gives true samples the closed-form values: E log p = Σ w (log w − log 2πs² − 1), 1 − e^−4.5 within 3 std, n·w per component', () => {
    const n = 40_000;
    const fit = mixtureFit(ring, sampleToy({ n, seed: 3, mixture: ring }).data);
    expect(fit.count).toBe(n);
    // The components are 15 std apart, so log p ≈ log w_k + log N(x; m_k, s²I) = const − |z|²/2 with
    // |z|² ~ χ²₂ (variance 4): the mean has standard error 1/√n.
    const expected = Math.log(1 / 8) - Math.log(2 * Math.PI * 0.01) - 1;
    expect(Math.abs(fit.meanLogDensity - expected)).toBeLessThan(4 / Math.sqrt(n));
    const p3 = 1 - Math.exp(-4.5); // P(χ²₂ ≤ 9)
    expect(Math.abs(fit.within3Std - p3)).toBeLessThan(4 * Math.sqrt((p3 * (1 - p3)) / n));
    const q = p3 / 8;
    for (const c of fit.componentCounts)
      expect(Math.abs(c / n - q)).toBeLessThan(4 * Math.sqrt((q * (1 - q)) / n));
  });

  it('scores blurred samples lower by (v/s² − 1) nats and counts a dropped mode as missing', () => {
    const n = 20_000;
    // The ring with every std doubled: E log p = const − ½·E|x − m|²/s² = const − 4 (instead of − 1).
    const blurred = sampleToy({ n, seed: 4, mixture: { ...ring, stds: ring.stds.map((s) => 2 * s) } }).data;
    const truth = Math.log(1 / 8) - Math.log(2 * Math.PI * 0.01) - 1;
    const fit = mixtureFit(ring, blurred);
    // |z|² ~ 4·χ²₂ now: standard error 2/√n.
    expect(Math.abs(fit.meanLogDensity - (truth - 3))).toBeLessThan(8 / Math.sqrt(n));
    // within 3 std of s = within 1.5 std of 2s: 1 − e^(−1.125)
    expect(fit.within3Std).toBeCloseTo(1 - Math.exp(-1.125), 1);
    // Only the first 4 components: the others get (almost) nothing.
    const half = sampleToy({ n, seed: 5, mixture: { ...ring, weights: [1, 1, 1, 1, 0, 0, 0, 0] } }).data;
    expect(mixtureFit(ring, half).componentCounts.slice(4)).toEqual([0, 0, 0, 0]);
    expect(() => mixtureFit(ring, [])).toThrow(/^points: expected at least one point/);
  });
});
