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

/**
 * Implicit score matching with the full Jacobian trace (Hyvärinen 2005, Thm. 1):
 * `J(θ) = E_x [ tr ∇_x s_θ(x) + ½ ‖s_θ(x)‖² ] = ½ E‖s_θ − ∇ log p‖² − ½ E‖∇ log p‖²`,
 * with the full Jacobian trace `Σ_j ∂s_j/∂x_j`, each diagonal entry by a fourth-order central
 * difference along `e_j` (step `options.differenceStep`, error O(h⁴)): the model runs on 4·D·B + B
 * rows, so memory and time grow with D — use it in low dimension (toy data) and
 * {@link slicedScoreMatchingLoss} otherwise. `reduction: 'mean'` divides by D. The model is
 * called at the fixed time `options.t` (default 0). No randomness is used unless labels are dropped.
 *
 * @returns a {@link LossFn} `(model, batch, seed?) => scalar`.
 */
export function implicitScoreMatchingLoss(options: ScoreMatchingOptions = {}): LossFn {
  const settings = readScoreMatchingOptions(options);
  return (modelInput, batch, seed) => {
    const model = toDiffusionModel(modelInput);
    const data = readBatch(batch);
    const { B, D } = data;
    // Row k·B + b of the tiled batch is example b with the projection e_k.
    const basis = new Float32Array(D * B * D);
    for (let k = 0; k < D; k++) for (let b = 0; b < B; b++) basis[(k * B + b) * D + k] = 1;
    return tf.tidy(() => {
      const labels = modelLabels(data, settings, randomStream(seed));
      const score = scoreOf(model, settings);
      const tiled = tileRows(data.x, labels, D);
      const v = tf.tensor(basis, tiled.x.shape, 'float32');
      const quad = jacobianQuadraticForms(score, tiled.x, tiled.labels, v, settings.h);
      const trace = tf.sum(tf.reshape(quad, [D, B]), 0);
      const perExample = tf.add(trace, halfSquaredNorm(score(data.x, labels)));
      const reduced = settings.reduction === 'mean' ? tf.div(perExample, D) : perExample;
      return tf.mean(reduced) as tf.Scalar;
    });
  };
}
