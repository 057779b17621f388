import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectTensorsClose } from './expect-tensors-close.js';
import { GaussianMixture } from './gaussian-mixture.js';
import { type LinearSdeSpec, linearSdeCoefficients } from './linear-sde-oracle.js';
import { sampleCovariance, sampleMean } from './moments.js';
import { expectNoLeaks } from './no-leaks.js';
import { createRng } from './rng.js';
import { useCpuBackend } from './setup-tf.js';

beforeAll(async () => {
  await useCpuBackend();
});

const mix2d = () =>
  new GaussianMixture({
    weights: [2, 1, 1], // normalised to [0.5, 0.25, 0.25]
    means: [
      [0, 0],
      [3, -1],
      [-2, 2.5],
    ],
    covs: [
      [
        [1, 0.3],
        [0.3, 0.5],
      ],
      [
        [0.4, -0.1],
        [-0.1, 0.8],
      ],
      [
        [0.2, 0],
        [0, 0.3],
      ],
    ],
  });

function normal1d(x: number, m: number, s: number): number {
  return Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
}

function normal2d(x: number[], m: number[], c: number[][]): number {
  const [a, b] = c[0]!;
  const d = c[1]![1]!;
  const det = a! * d - b! * b!;
  const dx = x[0]! - m[0]!;
  const dy = x[1]! - m[1]!;
  const quad = (d * dx * dx - 2 * b! * dx * dy + a! * dy * dy) / det;
  return Math.exp(-0.5 * quad) / (2 * Math.PI * Math.sqrt(det));
}

/** Checks sample mean/cov of an n×d sample against (mu, cov) within `z` standard errors. */
function expectMomentsWithinSE(x: Float64Array, n: number, mu: number[], cov: number[][], z = 5): void {
  const d = mu.length;
  const m = sampleMean(x, n, d);
  const c = sampleCovariance(x, n, d);
  for (let a = 0; a < d; a++) {
    expect(Math.abs(m[a]! - mu[a]!)).toBeLessThan(z * Math.sqrt(cov[a]![a]! / n));
    for (let b = 0; b < d; b++) {
      // SE of a covariance entry from the empirical variance of the centred products.
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const p = (x[i * d + a]! - m[a]!) * (x[i * d + b]! - m[b]!);
        s += p;
        s2 += p * p;
      }
      const varP = s2 / n - (s / n) ** 2;
      expect(Math.abs(c[a]![b]! - cov[a]![b]!)).toBeLessThan(z * Math.sqrt(varP / n));
    }
  }
}

describe('GaussianMixture construction', () => {
  it('normalises weights and exposes copies', () => {
    const g = mix2d();
    expect(g.dim).toBe(2);
    expect(g.k).toBe(3);
    expect(g.weights).toEqual([0.5, 0.25, 0.25]);
    g.means[0]![0] = 99;
    expect(g.means[0]![0]).toBe(0);
    const iso = GaussianMixture.isotropic([1], [[1, 2, 3]], [2]);
    expect(iso.covs[0]).toEqual([
      [4, 0, 0],
      [0, 4, 0],
      [0, 0, 4],
    ]);
  });

  it('validates shapes, weights and covariances', () => {
    expect(() => new GaussianMixture({ weights: [], means: [], covs: [] })).toThrow();
    expect(() => new GaussianMixture({ weights: [1, 0], means: [[0], [1]], covs: [[[1]], [[1]]] })).toThrow();
    expect(() => new GaussianMixture({ weights: [1], means: [[0, 0]], covs: [[[1]]] })).toThrow();
    expect(
      () => new GaussianMixture({ weights: [1, 1], means: [[0], [0, 1]], covs: [[[1]], [[1]]] }),
    ).toThrow();
    expect(
      () =>
        new GaussianMixture({
          weights: [1],
          means: [[0, 0]],
          covs: [
            [
              [1, 2],
              [2, 1],
            ],
          ],
        }),
    ).toThrow(/positive definite/);
    expect(
      () =>
        new GaussianMixture({
          weights: [1],
          means: [[0, 0]],
          covs: [
            [
              [1, 0.1],
              [0.2, 1],
            ],
          ],
        }),
    ).toThrow(/symmetric/);
    expect(() => GaussianMixture.isotropic([1], [[0]], [0])).toThrow();
  });
});

describe('GaussianMixture densities', () => {
  it('logProb matches the direct 1-D density formula', () => {
    const g = GaussianMixture.isotropic([0.3, 0.7], [[-1], [2]], [0.5, 1.5]);
    const xs = [-3, -1, 0, 0.5, 2, 7];
    const lp = g.logProb(xs);
    xs.forEach((x, i) => {
      const p = 0.3 * normal1d(x, -1, 0.5) + 0.7 * normal1d(x, 2, 1.5);
      expect(lp[i]).toBeCloseTo(Math.log(p), 12);
    });
    // far in the tail the log-sum-exp stays finite
    const far = g.logProb([1000])[0]!;
    expect(Number.isFinite(far)).toBe(true);
    expect(far).toBeCloseTo(Math.log(0.7 / (1.5 * Math.sqrt(2 * Math.PI))) - 0.5 * (998 / 1.5) ** 2, 6);
  });

  it('logProb matches the direct 2-D density formula (rows and flat input)', () => {
    const g = mix2d();
    const pts = [
      [0, 0],
      [1, -0.5],
      [3, -1],
      [-2, 2],
      [4, 4],
    ];
    const lpRows = g.logProb(pts);
    const lpFlat = g.logProb(new Float64Array(pts.flat()));
    pts.forEach((x, i) => {
      let p = 0;
      for (let k = 0; k < 3; k++) p += g.weights[k]! * normal2d(x, g.means[k]!, g.covs[k]!);
      expect(lpRows[i]).toBeCloseTo(Math.log(p), 12);
      expect(lpFlat[i]).toBe(lpRows[i]);
    });
    expect(() => g.logProb([1, 2, 3])).toThrow();
  });

  it('score matches central finite differences of logProb', () => {
    const g = mix2d();
    const rng = createRng(3);
    const { x } = g.sample(20, rng);
    const s = g.score(x);
    const h = 1e-5;
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 2; j++) {
        const xp = [x[i * 2]!, x[i * 2 + 1]!];
        const xm = xp.slice();
        xp[j]! += h;
        xm[j]! -= h;
        const fd = (g.logProb(xp)[0]! - g.logProb(xm)[0]!) / (2 * h);
        const exact = s[i * 2 + j]!;
        expect(Math.abs(fd - exact)).toBeLessThanOrEqual(1e-5 * Math.abs(exact) + 1e-7);
      }
    }
  });

  it('score of a single Gaussian is −C⁻¹(x − m)', () => {
    const g = new GaussianMixture({
      weights: [1],
      means: [[1, 2]],
      covs: [
        [
          [2, 1],
          [1, 2],
        ],
      ],
    });
    // C⁻¹ = (1/3)[[2,−1],[−1,2]], x − m = (1, 0) → score = −(1/3)(2, −1)
    const s = g.score([[2, 2]]);
    expect(s[0]).toBeCloseTo(-2 / 3, 14);
    expect(s[1]).toBeCloseTo(1 / 3, 14);
  });
});

describe('GaussianMixture moments and sampling', () => {
  it('mean and covariance by the law of total covariance (hand example)', () => {
    const g = GaussianMixture.isotropic([1, 1], [[-1], [1]], [1, 1]);
    expect(g.mean()).toEqual([0]);
    expect(g.covariance()).toEqual([[2]]);
  });

  it('samples have the mixture moments and label frequencies', () => {
    const g = mix2d();
    const n = 20_000;
    const { x, labels } = g.sample(n, createRng(11));
    expectMomentsWithinSE(x, n, g.mean(), g.covariance());
    const counts = [0, 0, 0];
    for (const l of labels) counts[l]!++;
    g.weights.forEach((w, k) => {
      expect(Math.abs(counts[k]! / n - w)).toBeLessThan(5 * Math.sqrt((w * (1 - w)) / n));
    });
    // reproducible
    expect(Array.from(g.sample(5, createRng(11)).x)).toEqual(Array.from(x.subarray(0, 10)));
  });

  it('sampleTensor returns a float32 [n, D] tensor', () => {
    const g = mix2d();
    const t = g.sampleTensor(7, createRng(1));
    expect(t.shape).toEqual([7, 2]);
    expect(t.dtype).toBe('float32');
    expectTensorsClose(t, Float32Array.from(g.sample(7, createRng(1)).x), { rtol: 0, atol: 0 });
    t.dispose();
  });

  it('perturbed(alpha, sigma) matches Monte-Carlo alpha·x + sigma·z', () => {
    const g = mix2d();
    const n = 20_000;
    const alpha = 0.6;
    const sigma = 0.9;
    const rng = createRng(21);
    const { x } = g.sample(n, rng);
    const z = rng.normals(n * 2);
    const y = x.map((v, i) => alpha * v + sigma * z[i]!);
    const p = g.perturbed(alpha, sigma);
    expectMomentsWithinSE(y, n, p.mean(), p.covariance());
    // closed form of the moments: alpha·μ and alpha²·Σ + sigma²·I
    const mu = g.mean();
    const cov = g.covariance();
    p.mean().forEach((v, i) => {
      expect(v).toBeCloseTo(alpha * mu[i]!, 14);
    });
    p.covariance().forEach((row, i) => {
      row.forEach((v, j) => {
        expect(v).toBeCloseTo(alpha ** 2 * cov[i]![j]! + (i === j ? sigma ** 2 : 0), 13);
      });
    });
    expect(p.weights).toEqual(g.weights);
  });

  it('marginalAt uses alpha(t), sigma(t) of the linear SDE', () => {
    const g = mix2d();
    const spec: LinearSdeSpec = { kind: 'subvp', betaMin: 0.1, betaMax: 20 };
    const { alpha, sigma } = linearSdeCoefficients(spec, 0.3);
    const m = g.marginalAt(spec, 0.3);
    const p = g.perturbed(alpha, sigma);
    expect(m.means).toEqual(p.means);
    expect(m.covs).toEqual(p.covs);
    const ve = g.marginalAt({ kind: 've', sigmaMin: 0.01, sigmaMax: 50 }, 1);
    expect(ve.covariance()[0]![0]).toBeCloseTo(g.covariance()[0]![0]! + 2500, 9);
  });
});

describe('GaussianMixture.scoreFn', () => {
  const specs: LinearSdeSpec[] = [
    { kind: 'vp', betaMin: 0.1, betaMax: 20 },
    { kind: 'subvp', betaMin: 0.1, betaMax: 20 },
    { kind: 've', sigmaMin: 0.01, sigmaMax: 50 },
  ];

  for (const spec of specs) {
    it(`${spec.kind}: equals the score of marginalAt with per-example t`, () => {
      const g = mix2d();
      const scoreFn = g.scoreFn(spec);
      const ts = [0.25, 0.5, 0.25, 1, 0.03125];
      const pts = Float32Array.from(g.sample(ts.length, createRng(8)).x);
      const x = tf.tensor2d(pts, [ts.length, 2]);
      const t = tf.tensor1d(ts);
      const s = scoreFn(x, t);
      expect(s.shape).toEqual([ts.length, 2]);
      expect(s.dtype).toBe('float32');
      const expected = new Float64Array(ts.length * 2);
      ts.forEach((ti, i) => {
        const row = g.marginalAt(spec, ti).score(pts.subarray(i * 2, i * 2 + 2));
        expected.set(row, i * 2);
      });
      expectTensorsClose(s, expected, { rtol: 1e-6, atol: 1e-6 });
      tf.dispose([x, t, s]);
    });
  }

  it('accepts x of shape [B, ...] with product of trailing dims = D, and scalar-like t', () => {
    const g = GaussianMixture.isotropic(
      [1, 2],
      [
        [1, 0, 0, -1],
        [0, 1, 1, 0],
      ],
      [0.5, 1],
    );
    const spec: LinearSdeSpec = { kind: 'vp', betaMin: 0.1, betaMax: 20 };
    const pts = Float32Array.from(g.sample(3, createRng(4)).x);
    const x = tf.tensor3d(pts, [3, 2, 2]);
    const t = tf.tensor1d([0.5]);
    const s = g.scoreFn(spec)(x, t);
    expect(s.shape).toEqual([3, 2, 2]);
    expectTensorsClose(s, g.marginalAt(spec, 0.5).score(pts), { rtol: 1e-6, atol: 1e-6 });
    const bad = tf.zeros([3, 3]);
    const t3 = tf.tensor1d([0.5, 0.5, 0.5]);
    const t2 = tf.tensor1d([0.5, 0.5]);
    expect(() => g.scoreFn(spec)(bad, t3)).toThrow(/features/);
    expect(() => g.scoreFn(spec)(x, t2)).toThrow(/batch size/);
    tf.dispose([x, t, s, bad, t3, t2]);
  });

  it('does not leak tensors', async () => {
    const g = mix2d();
    const scoreFn = g.scoreFn({ kind: 'vp', betaMin: 0.1, betaMax: 20 });
    const x = g.sampleTensor(16, createRng(2));
    const t = tf.fill([16], 0.4) as tf.Tensor1D;
    await expectNoLeaks(() => scoreFn(x, t));
    await expectNoLeaks(() => g.sampleTensor(4, createRng(0)));
    tf.dispose([x, t]);
  });
});
