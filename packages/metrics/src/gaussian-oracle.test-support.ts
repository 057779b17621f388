/**
 * Differentiable exact scores for the likelihood tests: the diffused marginals of an isotropic Gaussian mixture
 * and of a diagonal Gaussian under the linear SDEs of Song et al. (2021), written with tfjs ops (so that tf.grad
 * gives their Jacobians) from the float64 coefficients of @sbm/test-utils' `linearSdeCoefficients` (independent
 * of @sbm/sde). Their densities come from @sbm/test-utils' `GaussianMixture` in float64.
 */
import { GaussianMixture, type LinearSdeSpec, linearSdeCoefficients } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';

/** An isotropic mixture `Σ_k w_k N(m_k, c_k² I)` with its float64 `GaussianMixture`. */
export interface IsotropicMixture {
  weights: number[];
  means: number[][];
  stds: number[];
  exact: GaussianMixture;
}

export function isotropicMixture(weights: number[], means: number[][], stds: number[]): IsotropicMixture {
  return { weights, means, stds, exact: GaussianMixture.isotropic(weights, means, stds) };
}

/**
 * `∇ log p_t(x)` of the mixture diffused by `spec`: component k becomes `N(α m_k, (α² c_k² + σ²) I)` and
 * `s(x) = −Σ_k r_k(x) (x − α m_k)/v_k` with responsibilities `r = softmax_k(log w_k − (D/2) log v_k −
 * ‖x − α m_k‖²/(2 v_k))`. `x [B, ...]` (D values per example), `t [B]` with one time for the batch.
 */
export function mixtureScore(
  mixture: IsotropicMixture,
  spec: LinearSdeSpec,
): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  const D = mixture.means[0]!.length;
  return (x, t) =>
    tf.tidy(() => {
      const { alpha, sigma } = linearSdeCoefficients(spec, t.dataSync()[0]!);
      const B = x.shape[0]!;
      const v = mixture.stds.map((c) => alpha * alpha * c * c + sigma * sigma);
      const means = tf.tensor2d(mixture.means.map((m) => m.map((value) => alpha * value)));
      const diff = tf.sub(tf.reshape(x, [B, 1, D]), tf.expandDims(means, 0)); // [B, K, D]
      const invV = tf.tensor1d(v.map((value) => 1 / value));
      const logits = tf.add(
        tf.tensor1d(mixture.weights.map((w, k) => Math.log(w) - 0.5 * D * Math.log(v[k]!))),
        tf.mul(tf.sum(tf.square(diff), 2), tf.mul(invV, -0.5)),
      );
      const r = tf.softmax(logits, 1); // [B, K]
      const weighted = tf.mul(tf.expandDims(tf.mul(r, invV), 2), diff);
      return tf.reshape(tf.neg(tf.sum(weighted, 1)), x.shape);
    });
}

/** Per-dimension variances `α(t)² c_d² + σ(t)²` of `N(0, diag(c²))` diffused by `spec`. */
export function diagonalVariances(stds: number[], spec: LinearSdeSpec, t: number): number[] {
  const { alpha, sigma } = linearSdeCoefficients(spec, t);
  return stds.map((c) => alpha * alpha * c * c + sigma * sigma);
}

/** `∇ log p_t(x) = −x / v(t)` of `N(0, diag(c²))` diffused by `spec`; `x [B, ...]` with `stds.length` values per example. */
export function diagonalGaussianScore(
  stds: number[],
  spec: LinearSdeSpec,
): (x: tf.Tensor, t: tf.Tensor) => tf.Tensor {
  return (x, t) =>
    tf.tidy(() => {
      const v = diagonalVariances(stds, spec, t.dataSync()[0]!);
      const inv = tf.reshape(tf.tensor1d(v.map((value) => -1 / value)), [1, ...x.shape.slice(1)]);
      return tf.mul(x, inv);
    });
}

/** `log N(x; 0, diag(v))` per row of `x` (`v.length` values per row), float64. */
export function diagonalGaussianLogDensity(x: ArrayLike<number>, v: number[]): Float64Array {
  const D = v.length;
  const out = new Float64Array(x.length / D);
  for (let b = 0; b < out.length; b++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += Math.log(2 * Math.PI * v[d]!) + x[b * D + d]! ** 2 / v[d]!;
    out[b] = -0.5 * s;
  }
  return out;
}
