// Runs the examples of guides/guidance.md with exact scores: a two-class Gaussian mixture (class means (∓2, 0),
// std 0.5) whose conditional and unconditional scores and Bayes classifier are known at every t under the VP SDE,
// and a correlated Gaussian whose conditional law is known for inpainting.
import '@tensorflow/tfjs-layers'; // gradients for classifier guidance
import { wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import { useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifierGuidedSamples, guidedSamples, inpaint } from './guidance.js';

beforeAll(useCpuBackend);

const sde = new VPSDE();
const means = [
  [-2, 0],
  [2, 0],
];
const componentVariance = 0.25;

/** α(t) [B, 1] and the component variance v(t) = α² · 0.25 + σ² [B, 1] of the perturbed mixture. */
function coefficients(t: tf.Tensor): { alpha: tf.Tensor; v: tf.Tensor } {
  const ts = Array.from(t.dataSync());
  const alpha = tf.tensor2d(
    ts.map((ti) => sde.alpha(ti)),
    [ts.length, 1],
  );
  const v = tf.tensor2d(
    ts.map((ti) => sde.alpha(ti) ** 2 * componentVariance + sde.sigma(ti) ** 2),
    [ts.length, 1],
  );
  return { alpha, v };
}

/** Log-densities up to a shared constant, `−‖x − α μ_k‖² / 2v` for k = 0, 1: `[B, 2]` (the Bayes classifier's logits). */
function classLogits(x: tf.Tensor, t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const { alpha, v } = coefficients(t);
    const columns = means.map((m) =>
      tf.div(tf.sum(tf.square(tf.sub(x, tf.mul(alpha, tf.tensor2d([m])))), 1, true), tf.mul(v, -2)),
    );
    return tf.concat(columns, 1);
  });
}

/** Exact score: class 0 or 1 for labels 0, 1; the mixture's for the null label 2 or no labels. Counts its calls. */
const calls: number[] = [];
function mixtureScore(x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor): tf.Tensor {
  calls.push(x.shape[0]!);
  return tf.tidy(() => {
    const { alpha, v } = coefficients(t);
    const scores = means.map((m) => tf.div(tf.neg(tf.sub(x, tf.mul(alpha, tf.tensor2d([m])))), v));
    const r = tf.softmax(classLogits(x, t)); // responsibilities [B, 2]
    const mixture = tf.add(
      tf.mul(tf.slice(r, [0, 0], [-1, 1]), scores[0]!),
      tf.mul(tf.slice(r, [0, 1], [-1, 1]), scores[1]!),
    );
    if (labels === undefined) return mixture;
    const y = tf.reshape(labels, [-1, 1]);
    return tf.where(tf.equal(y, 0), scores[0]!, tf.where(tf.equal(y, 1), scores[1]!, mixture));
  });
}

function moments(samples: tf.Tensor): { mean: number[]; variance: number[] } {
  const m = tf.moments(samples, 0);
  const out = { mean: Array.from(m.mean.dataSync()), variance: Array.from(m.variance.dataSync()) };
  tf.dispose([m.mean, m.variance]);
  return out;
}

describe('guides/guidance examples', () => {
  const model = wrapModel(mixtureScore, { sde, prediction: 'score' });

  it('classifier-free guidance: scale 1 samples the class, 0 the mixture, 3 stays in the class at a doubled batch', async () => {
    // 1000 points: standard errors 0.5/√1000 = 0.016 (mean), 0.25·√(2/999) = 0.011 (variance); 4 of them + 0.03.
    const labels = tf.fill([1000], 1, 'int32') as tf.Tensor1D;
    calls.length = 0;
    const conditional = await guidedSamples(sde, model, labels, [1000, 2], 1, 0);
    expect(calls).toEqual(new Array(conditional.nfe).fill(1000)); // scale 1 is the conditional model: one call at B
    const { mean, variance } = moments(conditional.samples);
    expect(Math.abs(mean[0]! - 2)).toBeLessThan(4 * 0.016 + 0.03);
    expect(Math.abs(mean[1]!)).toBeLessThan(4 * 0.016 + 0.03);
    for (const v of variance) expect(Math.abs(v - componentVariance)).toBeLessThan(4 * 0.011 + 0.03);

    const unconditional = await guidedSamples(sde, model, labels, [1000, 2], 0, 0);
    const shareRight = (s: tf.Tensor) =>
      tf.tidy(() => tf.mean(tf.cast(tf.greater(tf.slice(s, [0, 0], [-1, 1]), 0), 'float32')).dataSync()[0]!);
    // half of the mixture lies right of 0: standard error √(0.25/1000) = 0.016
    expect(Math.abs(shareRight(unconditional.samples) - 0.5)).toBeLessThan(4 * 0.016);

    calls.length = 0;
    const guided = await guidedSamples(sde, model, labels, [1000, 2], 3, 0);
    expect(calls).toEqual(new Array(guided.nfe).fill(2000)); // [x; x] with labels [y; ∅]: one call at 2B
    expect(shareRight(guided.samples)).toBeGreaterThan(0.99);
    tf.dispose([labels, conditional.samples, unconditional.samples, guided.samples]);
  });

  it('classifier guidance with the exact Bayes classifier samples the conditional law', async () => {
    const labels = tf.fill([1000], 0, 'int32') as tf.Tensor1D;
    const { samples } = await classifierGuidedSamples(sde, model, classLogits, labels, [1000, 2], 1);
    const { mean, variance } = moments(samples);
    expect(Math.abs(mean[0]! + 2)).toBeLessThan(4 * 0.016 + 0.03);
    expect(Math.abs(mean[1]!)).toBeLessThan(4 * 0.016 + 0.03);
    for (const v of variance) expect(Math.abs(v - componentVariance)).toBeLessThan(4 * 0.011 + 0.03);
    tf.dispose([labels, samples]);
  });

  it('inpainting keeps the known coordinates and samples the others from their conditional law', async () => {
    // Data: 16 independent pairs N(0, C), C = [[1, 0.8], [0.8, 1]], as x [B, 16, 2]. Given the first coordinate of a
    // pair = 1, the second is N(0.8, 0.36). Score of the perturbed law N(0, α² C + σ² I) by the 2×2 inverse.
    const correlated = wrapModel(
      (x: tf.Tensor, t: tf.Tensor1D) =>
        tf.tidy(() => {
          const rows = Array.from(t.dataSync(), (ti) => {
            const a2 = sde.alpha(ti) ** 2;
            const s2 = sde.sigma(ti) ** 2;
            const [p, q] = [a2 + s2, 0.8 * a2]; // the covariance [[p, q], [q, p]]
            const det = p * p - q * q;
            return [p / det, -q / det];
          });
          const diag = tf.tensor3d(rows.map((r) => [[r[0]!]]));
          const off = tf.tensor3d(rows.map((r) => [[r[1]!]]));
          return tf.neg(tf.add(tf.mul(diag, x), tf.mul(off, tf.reverse(x, 2))));
        }),
      { sde, prediction: 'score' },
    );
    const known = tf.tidy(() => tf.tile(tf.tensor3d([[[1, 0]]]), [100, 16, 1]));
    const mask = tf.tensor1d([1, 0]); // broadcast over [B, 16, 2]: the first coordinate of every pair is known
    const { samples } = await inpaint(sde, correlated, known, mask, 4);
    const first = tf.slice(samples, [0, 0, 0], [-1, -1, 1]);
    expect(tf.all(tf.equal(first, 1)).dataSync()[0]).toBe(1); // exactly the known value
    const { mean, variance } = moments(tf.reshape(tf.slice(samples, [0, 0, 1], [-1, -1, 1]), [-1, 1]));
    // 1600 values: standard errors 0.6/√1600 = 0.015 and 0.36·√(2/1599) = 0.013; 4 of them plus 0.04, the
    // accuracy @sbm/guidance states for its PC inpainter (replacement conditions only approximately)
    expect(Math.abs(mean[0]! - 0.8)).toBeLessThan(4 * 0.015 + 0.04);
    expect(Math.abs(variance[0]! - 0.36)).toBeLessThan(4 * 0.013 + 0.04);
    tf.dispose([known, mask, samples, first]);
  });
});
