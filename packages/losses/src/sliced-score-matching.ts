import * as tf from '@tensorflow/tfjs-core';
import { type LossFn, modelLabels, readBatch } from './batch.js';
import {
  halfSquaredNorm,
  jacobianQuadraticForms,
  readScoreMatchingOptions,
  type ScoreMatchingOptions,
  scoreOf,
  tileRows,
} from './jacobian.js';
import { toDiffusionModel } from './model.js';
import { randomStream } from './random.js';
import { checkChoice, checkInteger } from './validate.js';

/** Options of {@link slicedScoreMatchingLoss}. */
export interface SlicedScoreMatchingOptions extends ScoreMatchingOptions {
  /** `'ssm'` or the variance-reduced `'ssm-vr'` (default). */
  variant?: 'ssm' | 'ssm-vr';
  /** Distribution of the projections v: `'gaussian'` N(0, I) (default) or `'rademacher'` (±1). */
  projection?: 'gaussian' | 'rademacher';
  /** Projections per example M, default 1. */
  numProjections?: number;
}

/**
 * Sliced score matching (Song, Garg, Shi & Ermon 2019, Eq. 7 and 9), with M projections
 * `v_m` (`E[v vᵀ] = I`) per example:
 * - `'ssm'`: `(1/M) Σ_m [ v_mᵀ ∇_x (v_mᵀ s_θ(x)) + ½ (v_mᵀ s_θ(x))² ]`;
 * - `'ssm-vr'`: `(1/M) Σ_m v_mᵀ ∇_x (v_mᵀ s_θ(x)) + ½ ‖s_θ(x)‖²`.
 * Both are unbiased for the implicit score matching objective `E[tr ∇_x s_θ(x) + ½ ‖s_θ(x)‖²]`
 * (Hyvärinen 2005), which equals `½ E‖s_θ − ∇ log p‖² − ½ E‖∇ log p‖²`. `reduction: 'mean'`
 * divides the per-example value by D. The batch `x [B, ...]` is the data; the model is called
 * at the fixed time `options.t` (default 0). `vᵀ J v` is a fourth-order central difference of
 * `vᵀ s(x + δ v)` (step `options.differenceStep`), so the model runs on 4·M·B + B rows and the loss
 * needs only first-order gradients (see the README on why not `tf.grad`).
 *
 * @returns a {@link LossFn} `(model, batch, seed?) => scalar`.
 */
export function slicedScoreMatchingLoss(options: SlicedScoreMatchingOptions = {}): LossFn {
  const settings = readScoreMatchingOptions(options);
  const variant = checkChoice('options.variant', options.variant ?? 'ssm-vr', ['ssm', 'ssm-vr'] as const);
  const projection = checkChoice('options.projection', options.projection ?? 'gaussian', [
    'gaussian',
    'rademacher',
  ] as const);
  const m = checkInteger('options.numProjections', options.numProjections ?? 1, 1);
  return (modelInput, batch, seed) => {
    const model = toDiffusionModel(modelInput);
    const data = readBatch(batch);
    const rng = randomStream(seed);
    const projectionSeed = rng.tfSeed();
    return tf.tidy(() => {
      const labels = modelLabels(data, settings, rng);
      const score = scoreOf(model, settings);
      const tiled = tileRows(data.x, labels, m);
      const shape = tiled.x.shape;
      const v =
        projection === 'gaussian'
          ? tf.randomNormal(shape, 0, 1, 'float32', projectionSeed)
          : tf.sub(tf.mul(2, tf.floor(tf.randomUniform(shape, 0, 2, 'float32', projectionSeed))), 1);
      const s = score(data.x, labels);
      const quad = tf.mean(
        tf.reshape(jacobianQuadraticForms(score, tiled.x, tiled.labels, v, settings.h), [m, data.B]),
        0,
      );
      let second: tf.Tensor;
      if (variant === 'ssm-vr') {
        second = halfSquaredNorm(s);
      } else {
        const sTiled = m === 1 ? s : tf.tile(s, [m, ...new Array(s.rank - 1).fill(1)]);
        const proj = tf.sum(tf.reshape(tf.mul(v, sTiled), [m * data.B, -1]), 1);
        second = tf.mean(tf.reshape(tf.mul(0.5, tf.square(proj)), [m, data.B]), 0);
      }
      const perExample = tf.add(quad, second);
      const reduced = settings.reduction === 'mean' ? tf.div(perExample, data.D) : perExample;
      return tf.mean(reduced) as tf.Scalar;
    });
  };
}
