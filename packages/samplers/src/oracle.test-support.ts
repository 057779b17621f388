/**
 * Shared oracle for the sampler tests: a well-separated 2-D Gaussian mixture with exact scores at every t
 * under VP, sub-VP and VE (from @sbm/test-utils, independent of @sbm/sde), a per-component moment check,
 * and a float64 RK4 reference solution of the probability-flow ODE.
 */
import { type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import {
  createRng,
  energyDistance,
  GaussianMixture,
  type LinearSdeSpec,
  linearSdeCoefficients,
  sampleCovariance,
  sampleMean,
} from '@sbm/test-utils';
import type * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Three isotropic components, 2-D, separated by > 6 component standard deviations. */
export const mixture = GaussianMixture.isotropic(
  [0.2, 0.5, 0.3],
  [
    [-2, -1.5],
    [1.5, -1],
    [0, 2],
  ],
  [0.35, 0.5, 0.3],
);

export interface OracleCase {
  name: 'VP' | 'sub-VP' | 'VE';
  sde: SDE;
  spec: LinearSdeSpec;
}

export const cases: OracleCase[] = [
  { name: 'VP', sde: new VPSDE(), spec: { kind: 'vp', betaMin: 0.1, betaMax: 20 } },
  { name: 'sub-VP', sde: new SubVPSDE(), spec: { kind: 'subvp', betaMin: 0.1, betaMax: 20 } },
  { name: 'VE', sde: new VESDE(), spec: { kind: 've', sigmaMin: 0.01, sigmaMax: 50 } },
];

/** Exact score of the diffused mixture, `(x, t [B]) => ∇log p_t(x)`. */
export function exactScore(spec: LinearSdeSpec): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  return mixture.scoreFn(spec) as (x: tf.Tensor, t: tf.Tensor) => tf.Tensor;
}

/**
 * Checks that 2-D samples reproduce the mixture: each point is assigned to its most responsible component
 * (the components are so far apart that the assignment truncates < 1e-6 of the mass), then per component
 * - weight `n_k/n` within `4·√(w(1−w)/n) + 0.01`,
 * - mean within `4·√(C_jj/n_k) + 0.03` per coordinate,
 * - covariance entries within `4·√((C_ii C_jj + C_ij²)/n_k) + 0.01` (the standard error of a sample
 *   covariance entry of a Gaussian),
 * i.e. four standard errors plus a small allowance for discretization bias; and the energy distance to
 * an independent sample of the mixture is below `3×` that of a second independent sample plus 0.002.
 */
export function expectMixture(samples: tf.Tensor, label: string): void {
  const x = samples.dataSync();
  const n = samples.shape[0]!;
  expect(samples.shape, label).toEqual([n, 2]);
  const K = mixture.k;
  const members: number[][] = Array.from({ length: K }, () => []);
  const row = [0, 0];
  for (let i = 0; i < n; i++) {
    row[0] = x[2 * i]!;
    row[1] = x[2 * i + 1]!;
    let best = 0;
    let bestL = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) {
      const m = mixture.means[k]!;
      const c = mixture.covs[k]![0]![0]!;
      const l =
        Math.log(mixture.weights[k]!) -
        Math.log(c) -
        ((row[0] - m[0]!) ** 2 + (row[1] - m[1]!) ** 2) / (2 * c);
      if (l > bestL) {
        bestL = l;
        best = k;
      }
    }
    members[best]!.push(row[0], row[1]);
  }
  for (let k = 0; k < K; k++) {
    const w = mixture.weights[k]!;
    const pts = members[k]!;
    const nk = pts.length / 2;
    const where = `${label}, component ${k}`;
    expect(Math.abs(nk / n - w), `${where}: weight ${nk / n} vs ${w}`).toBeLessThan(
      4 * Math.sqrt((w * (1 - w)) / n) + 0.01,
    );
    const C = mixture.covs[k]!;
    const m = sampleMean(pts, nk, 2);
    const cov = sampleCovariance(pts, nk, 2);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(m[i]! - mixture.means[k]![i]!), `${where}: mean[${i}] ${m[i]}`).toBeLessThan(
        4 * Math.sqrt(C[i]![i]! / nk) + 0.03,
      );
      for (let j = 0; j < 2; j++) {
        const se = Math.sqrt((C[i]![i]! * C[j]![j]! + C[i]![j]! ** 2) / nk);
        expect(
          Math.abs(cov[i]![j]! - C[i]![j]!),
          `${where}: cov[${i}][${j}] ${cov[i]![j]} vs ${C[i]![j]}`,
        ).toBeLessThan(4 * se + 0.01);
      }
    }
  }
  const a = Float64Array.from(x);
  const truth = mixture.sample(n, createRng(1001)).x;
  const other = mixture.sample(n, createRng(1002)).x;
  const floor = energyDistance(other, truth, n, n, 2);
  const energy = energyDistance(a, truth, n, n, 2);
  expect(energy, `${label}: energy distance ${energy} (independent-sample floor ${floor})`).toBeLessThan(
    3 * floor + 0.002,
  );
}

/** Fixed prior latents `[n, 2]` (float64 rows) from a seeded stream. */
export function latents(n: number, priorStd: number, seed = 7): Float64Array {
  const z = createRng(seed).normals(2 * n);
  return z.map((v) => v * priorStd);
}

/**
 * Float64 reference solution of the probability-flow ODE `dx/dt = f(t) x − ½ g(t)² ∇log p_t(x)` with the
 * exact mixture score, by classical RK4 with `steps` uniform steps from `t0` to `t1` (all in float64,
 * independent of @sbm/sde and tfjs).
 */
export function referenceOde(
  spec: LinearSdeSpec,
  x0: Float64Array,
  t0: number,
  t1: number,
  steps = 2000,
): Float64Array {
  const drift = (x: Float64Array, t: number): Float64Array => {
    const { f, g } = linearSdeCoefficients(spec, t);
    const s = mixture.marginalAt(spec, t).score(x);
    return x.map((v, i) => f * v - 0.5 * g * g * s[i]!);
  };
  let x = Float64Array.from(x0);
  const h = (t1 - t0) / steps;
  for (let i = 0; i < steps; i++) {
    const t = t0 + i * h;
    const k1 = drift(x, t);
    const k2 = drift(
      x.map((v, j) => v + 0.5 * h * k1[j]!),
      t + 0.5 * h,
    );
    const k3 = drift(
      x.map((v, j) => v + 0.5 * h * k2[j]!),
      t + 0.5 * h,
    );
    const k4 = drift(
      x.map((v, j) => v + h * k3[j]!),
      t + h,
    );
    x = x.map((v, j) => v + (h / 6) * (k1[j]! + 2 * k2[j]! + 2 * k3[j]! + k4[j]!));
  }
  return x;
}

/** Tweedie's denoiser `(x + σ² ∇log p_t(x))/α` in float64 with the exact mixture score. */
export function referenceDenoise(spec: LinearSdeSpec, x: Float64Array, t: number): Float64Array {
  const { alpha, sigma } = linearSdeCoefficients(spec, t);
  const s = mixture.marginalAt(spec, t).score(x);
  return x.map((v, i) => (v + sigma * sigma * s[i]!) / alpha);
}

/** Largest absolute difference between two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Mean absolute difference between two equal-length arrays. */
export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += Math.abs(a[i]! - b[i]!);
  return m / a.length;
}
