// Examples of the guide "Scores and denoising" (guides/scores.md). Run by scores.test.ts.
import { denoisingScoreMatchingLoss } from '@sbm/losses';
import { convertPrediction, expandToRank, type ScoreFn, type SDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

// #region gaussian-score
/**
 * The exact score of Gaussian data `x_0 ~ N(0, dataStd² I)` after the
 * forward process of `sde`: `p_t = N(0, (α(t)² dataStd² + σ(t)²) I)`, so
 * `∇_x log p_t(x) = −x / (α(t)² dataStd² + σ(t)²)`. `x [B, ...]`, `t [B]` →
 * `[B, ...]`.
 */
export function gaussianScore(sde: SDE, dataStd: number): ScoreFn {
  return (x, t) =>
    tf.tidy(() => {
      const variance = Array.from(t.dataSync(), (ti) => (sde.alpha(ti) * dataStd) ** 2 + sde.sigma(ti) ** 2);
      return tf.div(tf.neg(x), expandToRank(tf.tensor1d(variance), x.rank));
    });
}
// #endregion gaussian-score

// #region dsm-loss
/**
 * Denoising score matching (Song et al. 2021, Eq. 7) of a score function on
 * a batch of data `x0 [B, ...]`: `E_t E_ε σ(t)² ‖s(α x_0 + σ ε, t) +
 * ε/σ‖²`, averaged over the elements of an example and the batch. The same
 * `seed` draws the same times and noise, so two models are compared on the
 * same draws.
 */
export function dsmLoss(sde: SDE, score: ScoreFn, x0: tf.Tensor, seed: number): number {
  const loss = denoisingScoreMatchingLoss({ sde, weighting: 'sigma2' });
  const value = loss(score, x0, seed);
  const result = value.dataSync()[0]!;
  value.dispose();
  return result;
}
// #endregion dsm-loss

// #region tweedie
/**
 * Tweedie's formula: the denoised estimate `E[x_0 | x_t] = (x_t + σ(t)²
 * ∇log p_t(x_t)) / α(t)` from the score, and the noise estimate `epsHat =
 * −σ(t) ∇log p_t(x_t)` of the ε-parameterization. `xt [B, ...]`, `t` one
 * time.
 */
export function denoise(
  sde: SDE,
  score: ScoreFn,
  xt: tf.Tensor,
  t: number,
): { x0: tf.Tensor; eps: tf.Tensor } {
  return tf.tidy(() => {
    const s = score(xt, tf.fill([xt.shape[0]!], t) as tf.Tensor1D);
    const x0 = convertPrediction({ sde, x: xt, t, value: s, from: 'score', to: 'x0' });
    const eps = convertPrediction({ sde, x: xt, t, value: s, from: 'score', to: 'eps' });
    return { x0, eps };
  });
}
// #endregion tweedie

// #region train
/**
 * Learns the spread of Gaussian data by denoising alone: the model `s_θ(x,
 * t) = −x / (α(t)² e^θ + σ(t)²)` is the exact score of `N(0, e^θ I)`, so
 * the minimizer of the denoising loss is `e^θ` = the data variance. The
 * model never sees a score, only noisy data and the noise that was added.
 * Returns the learned variance `e^θ`.
 */
export function learnDataVariance(sde: SDE, data: tf.Tensor, steps: number, seed = 0): number {
  const logVariance = tf.tidy(() => tf.variable(tf.scalar(0))); // θ, starting at variance 1
  const model: ScoreFn = (x, t) => {
    const alpha2 = tf.tensor1d(Array.from(t.dataSync(), (ti) => sde.alpha(ti) ** 2));
    const sigma2 = tf.tensor1d(Array.from(t.dataSync(), (ti) => sde.sigma(ti) ** 2));
    const variance = tf.add(tf.mul(alpha2, tf.exp(logVariance)), sigma2) as tf.Tensor1D;
    return tf.div(tf.neg(x), expandToRank(variance, x.rank));
  };
  const loss = denoisingScoreMatchingLoss({ sde });
  const optimizer = tf.train.adam(0.05);
  for (let step = 0; step < steps; step++) {
    optimizer.minimize(() => loss(model, data, seed + step), true)?.dispose();
  }
  const variance = Math.exp(logVariance.dataSync()[0]!);
  logVariance.dispose();
  optimizer.dispose();
  return variance;
}
// #endregion train
