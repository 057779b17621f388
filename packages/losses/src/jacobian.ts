import { convertPrediction, type MarginalCoefficients, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type BatchData, type CommonLossOptions, type CommonSettings, readCommonOptions } from './batch.js';
import { callModel, type DiffusionModel } from './model.js';
import { checkRange, describe } from './validate.js';

/** Options shared by the score matching losses on clean data ({@link slicedScoreMatchingLoss}, {@link implicitScoreMatchingLoss}). */
export interface ScoreMatchingOptions extends CommonLossOptions {
  /**
   * The time given to the model for every example, default 0. The data is taken as a sample of the
   * density whose score the model approximates at that time (perturb it yourself for a noisy level).
   */
  t?: number;
  /**
   * Where `α(t)`, `σ(t)` come from (an SDE of `@sbm/sde`, or `discreteMarginals(schedule)`); needed
   * to convert the output of a model that does not predict the score (`convertPrediction`).
   */
  sde?: MarginalCoefficients;
}

export interface ScoreMatchingSettings extends CommonSettings {
  t: number;
  sde: MarginalCoefficients | undefined;
}

export function readScoreMatchingOptions(options: ScoreMatchingOptions): ScoreMatchingSettings {
  const common = readCommonOptions(options);
  const { sde } = options;
  if (sde !== undefined && (sde === null || typeof sde !== 'object' || typeof sde.sigma !== 'function')) {
    throw new SbmArgumentError(
      'options.sde',
      `expected an SDE or MarginalCoefficients, got ${describe(sde)}`,
    );
  }
  const t = checkRange('options.t', options.t ?? 0, 0, sde?.T ?? Number.MAX_VALUE);
  return { ...common, t, sde };
}

/**
 * The model's score `s(x) [n, ...]` at the fixed time of the settings, converted from the model's
 * parameterization with `convertPrediction` (differentiable in `x`).
 */
export function scoreOf(
  model: DiffusionModel,
  settings: ScoreMatchingSettings,
  labels: tf.Tensor1D | undefined,
): (x: tf.Tensor) => tf.Tensor {
  const p = model.parameterization;
  if (p !== 'score' && settings.sde === undefined) {
    throw new SbmArgumentError(
      'options.sde',
      `is needed to turn a '${p}' prediction into a score; pass the SDE (or marginals) the model was trained for`,
    );
  }
  return (x) => {
    const out = callModel(model, x, tf.fill([x.shape[0]!], settings.t) as tf.Tensor1D, labels);
    if (p === 'score') return out;
    return convertPrediction({ sde: settings.sde!, x, t: settings.t, value: out, from: p, to: 'score' });
  };
}

/**
 * Repeats `x [B, ...]` (and labels `[B]`) `m` times along the batch: row `k·B + b` is example b.
 */
export function tileBatch(data: BatchData, labels: tf.Tensor1D | undefined, m: number) {
  const reps = [m, ...new Array(data.x.rank - 1).fill(1)];
  return {
    x: m === 1 ? data.x : tf.tile(data.x, reps),
    labels: labels === undefined || m === 1 ? labels : (tf.tile(labels, [m]) as tf.Tensor1D),
  };
}

/**
 * The quadratic forms `vᵀ J_s(x) v` of the Jacobian `J_s = ∂s/∂x` of the score, one per row of
 * `x [n, ...]` and `v [n, ...]`, as `[n]`: one reverse-mode pass, since
 * `∇_x (vᵀ s(x)) = J_sᵀ v` and rows are independent. Differentiable again (tfjs records the
 * backward pass), so the result can be minimized.
 */
export function jacobianQuadraticForms(
  score: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  v: tf.Tensor,
): tf.Tensor1D {
  const jTv = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(v, score(xx))))(x);
  return tf.sum(tf.reshape(tf.mul(v, jTv), [x.shape[0]!, -1]), 1) as tf.Tensor1D;
}

/** Per-example `½ ‖s‖²` as `[n]`. */
export function halfSquaredNorm(s: tf.Tensor): tf.Tensor1D {
  return tf.mul(0.5, tf.sum(tf.reshape(tf.square(s), [s.shape[0]!, -1]), 1)) as tf.Tensor1D;
}
