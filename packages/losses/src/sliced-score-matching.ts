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
  /** Distribution of the projections $v$: `'gaussian'` $\mathcal{N}(0, I)$ (default) or `'rademacher'` (±1 entries). */
  projection?: 'gaussian' | 'rademacher';
  /** Projections per example $M$, default 1. */
  numProjections?: number;
}

/**
 * Sliced score matching (Song, Garg, Shi & Ermon 2019, Eq. 7 and 9), with $M$ projections
 * $v_m$ ($\mathbb{E}[v v^\top] = I$) per example; the value of one example is
 * - `'ssm'`: $\frac{1}{M} \sum_m \Big[v_m^\top \nabla_x \big(v_m^\top s_\theta(x)\big) + \tfrac{1}{2} \big(v_m^\top s_\theta(x)\big)^2\Big]$;
 * - `'ssm-vr'`: $\frac{1}{M} \sum_m v_m^\top \nabla_x \big(v_m^\top s_\theta(x)\big) + \tfrac{1}{2} \lVert s_\theta(x) \rVert^2$.
 *
 * Both are unbiased for the implicit score matching objective (Hyvärinen 2005)
 *
 * $$\begin{aligned} J(\theta) &= \mathbb{E}\Big[\operatorname{tr} \nabla_x s_\theta(x) + \tfrac{1}{2} \lVert s_\theta(x) \rVert^2\Big] \\ &= \tfrac{1}{2}\,\mathbb{E} \lVert s_\theta - \nabla_x \log p \rVert^2 - \tfrac{1}{2}\,\mathbb{E} \lVert \nabla_x \log p \rVert^2. \end{aligned}$$
 *
 * `reduction: 'mean'` divides the per-example value by D. The batch `x [B, ...]` is the data; the model is called
 * at the fixed time `options.t` (default 0). $v^\top J v$ is a fourth-order central difference of
 * $\delta \mapsto v^\top s(x + \delta v)$ (step $h$ = `options.differenceStep`), so the model runs on $4MB + B$ rows
 * and the loss needs only first-order gradients (see the README on why not `tf.grad`).
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
