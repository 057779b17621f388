import { type MarginalCoefficients, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { LiveRng } from './rng.js';

/** A mixture of isotropic Gaussians `p_0 = Σ_k π_k N(μ_k, s_k² I)` in D dimensions. */
export interface IsotropicMixture {
  /** K positive weights `π_k` summing to 1. */
  readonly weights: readonly number[];
  /** K means `μ_k`, each of length D. */
  readonly means: readonly (readonly number[])[];
  /** K standard deviations `s_k > 0`. */
  readonly stds: readonly number[];
}

/** Checks a mixture and returns its dimension D. */
export function mixtureDim(mixture: IsotropicMixture): number {
  const { weights, means, stds } = mixture;
  const K = weights.length;
  if (K === 0 || means.length !== K || stds.length !== K) {
    throw new SbmArgumentError(
      'mixture',
      `expected K >= 1 weights, means and stds, got ${K}, ${means.length} and ${stds.length}`,
    );
  }
  const D = means[0]!.length;
  const total = weights.reduce((a, b) => a + b, 0);
  if (!weights.every((w) => w > 0) || Math.abs(total - 1) > 1e-9) {
    throw new SbmArgumentError('mixture.weights', `expected positive weights summing to 1, got ${weights}`);
  }
  if (D < 1 || !means.every((m) => m.length === D && m.every(Number.isFinite))) {
    throw new SbmArgumentError('mixture.means', `expected K finite means of one length D >= 1`);
  }
  if (!stds.every((s) => s > 0 && Number.isFinite(s))) {
    throw new SbmArgumentError('mixture.stds', `expected positive standard deviations, got ${stds}`);
  }
  return D;
}

/** The live page's data: eight equal blobs on a circle of radius 2, standard deviation 0.2 each. */
export const LIVE_MIXTURE: IsotropicMixture = Object.freeze({
  weights: Object.freeze(Array.from({ length: 8 }, () => 1 / 8)),
  means: Object.freeze(
    Array.from({ length: 8 }, (_, k) =>
      Object.freeze([2 * Math.cos((k * Math.PI) / 4), 2 * Math.sin((k * Math.PI) / 4)]),
    ),
  ),
  stds: Object.freeze(Array.from({ length: 8 }, () => 0.2)),
});

/** A score model `(x [B, D], t [B]) => ∇log p_t(x) [B, D]`, the form the samplers take as `model`. */
export type MixtureScoreFn = (x: tf.Tensor, t: tf.Tensor) => tf.Tensor;

/**
 * The exact score of the diffused mixture. Under a linear SDE with marginal `x_t = α(t) x_0 + σ(t) z`, `p_t` is the
 * mixture of `N(α μ_k, v_k I)` with `v_k = α² s_k² + σ²`, so
 * `∇log p_t(x) = −Σ_k r_k(x) (x − α μ_k)/v_k` with the responsibilities
 * `r_k ∝ π_k v_k^{−D/2} exp(−‖x − α μ_k‖²/(2 v_k))`, computed as a softmax of the log-weights (log-sum-exp stable).
 * `α(t)`, `σ(t)` are read from the SDE in float64 for each example's time; `x [B, D]`, `t [B]` (or one time);
 * returns `[B, D]` and disposes nothing it was given.
 */
export function mixtureScore(mixture: IsotropicMixture, sde: MarginalCoefficients): MixtureScoreFn {
  const D = mixtureDim(mixture);
  const K = mixture.weights.length;
  const logWeights = mixture.weights.map(Math.log);
  const variances = mixture.stds.map((s) => s * s);
  return (x, t) => {
    if (x.rank !== 2 || x.shape[1] !== D) {
      throw new SbmArgumentError('x', `expected [B, ${D}], got [${x.shape.join(',')}]`);
    }
    const B = x.shape[0]!;
    if (t.size !== B && t.size !== 1) {
      throw new SbmArgumentError('t', `expected ${B} times or one, got ${t.size}`);
    }
    const times = t.dataSync();
    // Per example and component, in float64: α μ_k, 1/v_k and the constant part of the log-weight.
    const centers = new Float32Array(B * K * D);
    const inverseVar = new Float32Array(B * K);
    const logConst = new Float32Array(B * K);
    for (let b = 0; b < B; b++) {
      const tb = times[t.size === 1 ? 0 : b]!;
      const a = sde.alpha(tb);
      const s2 = sde.sigma(tb) ** 2;
      for (let k = 0; k < K; k++) {
        for (let d = 0; d < D; d++) centers[(b * K + k) * D + d] = a * mixture.means[k]![d]!;
        const v = a * a * variances[k]! + s2;
        inverseVar[b * K + k] = 1 / v;
        logConst[b * K + k] = logWeights[k]! - 0.5 * D * Math.log(v);
      }
    }
    return tf.tidy(() => {
      const diff = tf.sub(tf.expandDims(x, 1), tf.tensor3d(centers, [B, K, D])); // x − α μ_k: [B, K, D]
      const inv = tf.tensor2d(inverseVar, [B, K]);
      const logits = tf.sub(
        tf.tensor2d(logConst, [B, K]),
        tf.mul(tf.mul(tf.sum(tf.square(diff), 2), inv), 0.5),
      );
      const resp = tf.softmax(logits); // [B, K]
      return tf.neg(tf.sum(tf.mul(diff, tf.expandDims(tf.mul(resp, inv), 2)), 1)); // [B, D]
    });
  };
}

/**
 * `log p_t` of the diffused mixture at the points `x` (n·D values, row-major) for the marginal scale `alpha` and
 * noise `sigma`, in float64 (for the density drawn behind the points).
 */
export function mixtureLogDensity(
  mixture: IsotropicMixture,
  alpha: number,
  sigma: number,
  x: ArrayLike<number>,
): Float64Array {
  const D = mixtureDim(mixture);
  const K = mixture.weights.length;
  const n = Math.floor(x.length / D);
  const out = new Float64Array(n);
  const logs = new Float64Array(K);
  const vars = mixture.stds.map((s) => alpha * alpha * s * s + sigma * sigma);
  const consts = vars.map((v, k) => Math.log(mixture.weights[k]!) - 0.5 * D * Math.log(2 * Math.PI * v));
  for (let i = 0; i < n; i++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) {
      let q = 0;
      const mu = mixture.means[k]!;
      for (let d = 0; d < D; d++) q += (x[i * D + d]! - alpha * mu[d]!) ** 2;
      logs[k] = consts[k]! - q / (2 * vars[k]!);
      if (logs[k]! > max) max = logs[k]!;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logs[k]! - max);
    out[i] = max + Math.log(sum);
  }
  return out;
}

/** `n` draws of the mixture, row-major `n·D` float32. */
export function sampleMixture(mixture: IsotropicMixture, n: number, rng: LiveRng): Float32Array {
  const D = mixtureDim(mixture);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of mixture.weights) {
    acc += w;
    cumulative.push(acc);
  }
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform() * acc;
    let k = 0;
    while (k < cumulative.length - 1 && u >= cumulative[k]!) k++;
    const mu = mixture.means[k]!;
    const s = mixture.stds[k]!;
    for (let d = 0; d < D; d++) out[i * D + d] = mu[d]! + s * rng.normal();
  }
  return out;
}
