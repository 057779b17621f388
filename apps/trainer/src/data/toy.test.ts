import { describe, expect, it } from 'vitest';
import { sampleToy, TOY_MIXTURE } from './toy.js';

describe('sampleToy', () => {
  it('matches the mixture: component weights, means and standard deviations within 4 standard errors', () => {
    const n = 40_000;
    const ds = sampleToy({ n, seed: 1 });
    expect(ds.shape).toEqual([2]);
    expect(ds.data).toBeInstanceOf(Float32Array);
    expect(ds.numClasses).toBe(3);
    const x = ds.data;
    for (let k = 0; k < 3; k++) {
      const w = TOY_MIXTURE.weights[k]!;
      const sd = TOY_MIXTURE.stds[k]!;
      const mean = TOY_MIXTURE.means[k]!;
      let nk = 0;
      const s = [0, 0];
      const s2 = [0, 0];
      for (let i = 0; i < n; i++) {
        if (ds.labels![i] !== k) continue;
        nk++;
        for (let d = 0; d < 2; d++) {
          s[d]! += x[2 * i + d]!;
          s2[d]! += x[2 * i + d]! ** 2;
        }
      }
      expect(Math.abs(nk / n - w)).toBeLessThan(4 * Math.sqrt((w * (1 - w)) / n));
      for (let d = 0; d < 2; d++) {
        const m = s[d]! / nk;
        const v = s2[d]! / nk - m * m;
        expect(Math.abs(m - mean[d]!), `component ${k} mean[${d}]`).toBeLessThan(4 * (sd / Math.sqrt(nk)));
        // The sample variance of a Gaussian has standard error σ²·√(2/n).
        expect(Math.abs(v - sd * sd), `component ${k} var[${d}]`).toBeLessThan(
          4 * sd * sd * Math.sqrt(2 / nk),
        );
      }
    }
  });

  it('labels each sample with the component it lies closest to (components are well separated)', () => {
    const ds = sampleToy({ n: 5000, seed: 2 });
    let agree = 0;
    for (let i = 0; i < ds.size; i++) {
      let best = -1;
      let bestD = Infinity;
      for (const [k, m] of TOY_MIXTURE.means.entries()) {
        const d =
          ((ds.data[2 * i]! - m[0]) ** 2 + (ds.data[2 * i + 1]! - m[1]) ** 2) / TOY_MIXTURE.stds[k]! ** 2;
        if (d < bestD) {
          bestD = d;
          best = k;
        }
      }
      if (best === ds.labels![i]) agree++;
    }
    expect(agree / ds.size).toBeGreaterThan(0.999);
  });

  it('is deterministic in the seed', () => {
    const a = sampleToy({ n: 100, seed: 7 });
    expect(sampleToy({ n: 100, seed: 7 }).data).toEqual(a.data);
    expect(sampleToy({ n: 100, seed: 8 }).data).not.toEqual(a.data);
    // A longer draw extends a shorter one (samples are generated in order from one stream).
    expect(sampleToy({ n: 150, seed: 7 }).data.subarray(0, 200)).toEqual(a.data);
  });

  it('accepts a custom mixture and validates its arguments', () => {
    const one = sampleToy({ n: 10, seed: 0, mixture: { weights: [1], means: [[5, 5]], stds: [1e-6] } });
    for (const v of one.data) expect(v).toBeCloseTo(5, 4);
    expect(() => sampleToy({ n: 0, seed: 1 })).toThrow('sampleToy: n must be an integer ≥ 1, got 0');
    expect(() => sampleToy({ n: 1, seed: 0.5 })).toThrow(/seed must be a safe integer/);
    expect(() =>
      sampleToy({ n: 1, seed: 1, mixture: { weights: [1, 1], means: [[0, 0]], stds: [1, 1] } }),
    ).toThrow(/one mean and std each/);
    expect(() => sampleToy({ n: 1, seed: 1, mixture: { weights: [1], means: [[0, 0]], stds: [0] } })).toThrow(
      /stds must be > 0/,
    );
  });
});
