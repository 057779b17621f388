// Test-only oracle of the replacement samplers: a correlated 3-D Gaussian N(mu, Sigma) under the VP SDE,
// its exact diffused score written with tf ops from @sbm/test-utils' float64 coefficients (independent of
// @sbm/sde), and the Monte-Carlo reference moments of scripts/replacement_reference.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  addScaledIdentity,
  inverseSpd,
  type LinearSdeSpec,
  linearSdeCoefficients,
  scaleMatrix,
} from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

export interface CaseMoments {
  mean: number[];
  cov: number[][];
  conditionalMean: number[];
  conditionalCov: number[][];
}

export interface ReplacementReference {
  n: number;
  mu: number[];
  Sigma: number[][];
  known: number;
  grey: number;
  inpaintPC: CaseMoments;
  inpaintDDIM: CaseMoments;
  inpaintDPMpp: CaseMoments;
  colorizePC: CaseMoments;
}

export const reference: ReplacementReference = JSON.parse(
  readFileSync(fileURLToPath(new URL('../test-fixtures/replacement-moments.json', import.meta.url)), 'utf8'),
);

export const vpSpec: LinearSdeSpec = { kind: 'vp', betaMin: 0.1, betaMax: 20 };

/** `∇ log p_t(x) = −(x − α μ) C_t⁻¹`, `C_t = α² Σ + σ² I`, for `x [B, ...]` with 3 values per example, `t [B]`. */
export function gaussianScore(x: tf.Tensor, t: tf.Tensor): tf.Tensor {
  const { alpha, sigma } = linearSdeCoefficients(vpSpec, t.dataSync()[0]!);
  const precision = inverseSpd(addScaledIdentity(scaleMatrix(reference.Sigma, alpha * alpha), sigma * sigma));
  return tf.tidy(() => {
    const flat = tf.reshape(x, [-1, 3]);
    const centred = tf.sub(flat, tf.mul(tf.tensor1d(reference.mu), alpha));
    return tf.reshape(tf.neg(tf.matMul(centred, tf.tensor2d(precision))), x.shape);
  });
}

/**
 * Checks the mean and covariance of `y` (`n` rows of 2) against `expected` within 4 standard errors of
 * the difference of two independent sample moments (`n` here, `reference.n` in the reference).
 */
export function expectMoments(
  y: Float64Array,
  n: number,
  expected: { mean: number[]; cov: number[][] },
  label: string,
  allowance = 0,
): void {
  const mean = [0, 0];
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) mean[j]! += y[2 * i + j]! / n;
  const cov = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 2; j++) {
      for (let k = 0; k < 2; k++)
        cov[j]![k]! += ((y[2 * i + j]! - mean[j]!) * (y[2 * i + k]! - mean[k]!)) / (n - 1);
    }
  }
  const c = expected.cov;
  const inflate = Math.sqrt(1 / n + 1 / reference.n);
  for (let j = 0; j < 2; j++) {
    const se = Math.sqrt(c[j]![j]!) * inflate;
    expect(Math.abs(mean[j]! - expected.mean[j]!), `${label} mean[${j}] = ${mean[j]}`).toBeLessThan(
      4 * se + allowance,
    );
    for (let k = 0; k < 2; k++) {
      const seCov = Math.sqrt(c[j]![j]! * c[k]![k]! + c[j]![k]! ** 2) * inflate;
      expect(Math.abs(cov[j]![k]! - c[j]![k]!), `${label} cov[${j}][${k}] = ${cov[j]![k]}`).toBeLessThan(
        4 * seCov + allowance,
      );
    }
  }
}

/** The largest |reference − closed-form conditional| of a case: the replacement method's bias. */
export function methodBias(m: CaseMoments): number {
  let worst = 0;
  for (let j = 0; j < 2; j++) {
    worst = Math.max(worst, Math.abs(m.mean[j]! - m.conditionalMean[j]!));
    for (let k = 0; k < 2; k++) worst = Math.max(worst, Math.abs(m.cov[j]![k]! - m.conditionalCov[j]![k]!));
  }
  return worst;
}
