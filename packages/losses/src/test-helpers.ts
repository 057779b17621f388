// Test-only helpers of @sbm/losses (excluded from the build and the package).
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { Batch, LossFn } from './batch.js';
import type { ModelInput } from './model.js';

/** Composite Simpson rule on [a, b] with n (even) intervals, float64. */
export function simpson(f: (x: number) => number, a: number, b: number, n = 4000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

/** `∫_{tMin}^{T} f(t) dt` through `u = ln t` (accurate for integrands that grow like 1/t at 0). */
export function integrateLogTime(f: (t: number) => number, tMin: number, T: number): number {
  return simpson((u) => f(Math.exp(u)) * Math.exp(u), Math.log(tMin), Math.log(T));
}

/**
 * Monte-Carlo mean and standard error of a loss: `batches` independent evaluations, evaluation k
 * on the batch `data(k)` (a fresh data sample, disposed here) with seed `seed0 + k`; the standard
 * error is the sample standard deviation of the batch values over √batches.
 */
export function monteCarlo(
  loss: LossFn,
  model: ModelInput,
  data: (k: number) => Batch,
  batches: number,
  seed0 = 1,
): { mean: number; stdErr: number } {
  const values: number[] = [];
  for (let k = 0; k < batches; k++) {
    const batch = data(k);
    const l = loss(model, batch, seed0 + k);
    values.push(l.dataSync()[0]!);
    tf.dispose([l, ...(batch instanceof tf.Tensor ? [batch] : Object.values(batch))]);
  }
  return meanAndStdErr(values);
}

export function meanAndStdErr(values: ArrayLike<number>): { mean: number; stdErr: number } {
  const n = values.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += values[i]!;
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i]! - m) ** 2;
  return { mean: m, stdErr: Math.sqrt(v / (n - 1) / n) };
}

/** Asserts `|mc.mean − exact| ≤ k · mc.stdErr` (k = 4 unless told: a false alarm has probability ≈ 6e-5). */
export function expectWithinStdErr(
  mc: { mean: number; stdErr: number },
  exact: number,
  k = 4,
  what = '',
): void {
  const diff = Math.abs(mc.mean - exact);
  if (process.env['LOSSES_FIGURES']) {
    console.log(
      `FIG ${what}: MC ${mc.mean.toPrecision(6)} ± ${mc.stdErr.toPrecision(2)}, exact ${exact.toPrecision(6)}`,
    );
  }
  expect(
    diff,
    `${what}: MC ${mc.mean} ± ${mc.stdErr} vs exact ${exact} (|diff| = ${diff}, allowed ${k}·SE = ${k * mc.stdErr})`,
  ).toBeLessThanOrEqual(k * mc.stdErr);
}

/** A float32 [n, D] tensor of N(mean, diag(std²)) draws from tfjs's seeded generator. */
export function diagonalGaussianSample(n: number, mean: number[], std: number[], seed: number): tf.Tensor2D {
  return tf.tidy(() =>
    tf.add(
      tf.mul(tf.randomNormal([n, mean.length], 0, 1, 'float32', seed), tf.tensor1d(std)),
      tf.tensor1d(mean),
    ),
  ) as tf.Tensor2D;
}

/**
 * The expected residual `E‖σ ∇log p_t(x_t) + ε‖²` per dimension for data N(μ, s²) and
 * `x_t = α x_0 + σ ε` with the exact marginal score: `α² s² / (α² s² + σ²)` (derivation in the tests).
 */
export function irreducibleEpsError(alpha: number, sigma: number, std: number): number {
  const a2s2 = alpha * alpha * std * std;
  return a2s2 / (a2s2 + sigma * sigma);
}

/** A tiny tanh MLP `[x, t-features] → D` built from tf.variables; `features(t)` maps `[B]` to `[B, F]`. */
export function tinyMlp(
  dim: number,
  hidden: number,
  features: (t: tf.Tensor1D) => tf.Tensor2D,
  featureCount: number,
  seed: number,
) {
  const init = (shape: [number, number], s: number) =>
    tf.variable(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', s), 1 / Math.sqrt(shape[0])));
  const w1 = init([dim + featureCount, hidden], seed);
  const b1 = tf.variable(tf.zeros([hidden]));
  const w2 = init([hidden, hidden], seed + 1);
  const b2 = tf.variable(tf.zeros([hidden]));
  const w3 = init([hidden, dim], seed + 2);
  const b3 = tf.variable(tf.zeros([dim]));
  const variables = [w1, b1, w2, b2, w3, b3];
  const predict = (x: tf.Tensor, t: tf.Tensor1D): tf.Tensor =>
    tf.tidy(() => {
      const input = tf.concat([x as tf.Tensor2D, features(t)], 1);
      const h1 = tf.tanh(tf.add(tf.matMul(input, w1), b1));
      const h2 = tf.tanh(tf.add(tf.matMul(h1, w2), b2));
      return tf.add(tf.matMul(h2, w3), b3);
    });
  return { predict, variables, dispose: () => tf.dispose(variables) };
}
