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
 *
 * $$\begin{aligned} J(\theta) &= \mathbb{E}_x\Big[\operatorname{tr} \nabla_x s_\theta(x) + \tfrac{1}{2} \lVert s_\theta(x) \rVert^2\Big] \\ &= \tfrac{1}{2}\,\mathbb{E} \lVert s_\theta - \nabla_x \log p \rVert^2 - \tfrac{1}{2}\,\mathbb{E} \lVert \nabla_x \log p \rVert^2, \end{aligned}$$
 *
 * with the trace $\sum_j \partial s_j / \partial x_j$ over all D dimensions, each diagonal entry by a fourth-order
 * central difference along $e_j$ (step $h$ = `options.differenceStep`, error $O(h^4)$): the model runs on $4DB + B$
 * rows, so memory and time grow with D — use it in low dimension (toy data) and
 * {@link slicedScoreMatchingLoss} otherwise. `reduction: 'mean'` divides by D. The batch `x [B, ...]` is the data; the
 * model is called at the fixed time `options.t` (default 0). No randomness is used unless labels are dropped.
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
