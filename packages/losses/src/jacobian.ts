import { convertPrediction, type MarginalCoefficients, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type CommonLossOptions, type CommonSettings, readCommonOptions } from './batch.js';
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
   * Where $\alpha(t)$, $\sigma(t)$ come from (an SDE of `@sbm/sde`, or `discreteMarginals(schedule)`); needed
   * to convert the output of a model that does not predict the score (`convertPrediction`).
   */
  sde?: MarginalCoefficients;
  /**
   * Step $h$ (in units of x) of the central difference that gives the Jacobian term, default 1e-2:
   * small against the length over which the score varies (data scale, or $\sigma(t)$ for noisy data), large
   * against float32 rounding (the error is about $10^{-6} \lVert s \rVert / h + O(h^4)$).
   */
  differenceStep?: number;
}

export interface ScoreMatchingSettings extends CommonSettings {
  t: number;
  h: number;
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
  const h = checkRange('options.differenceStep', options.differenceStep ?? 1e-2, 0, Number.MAX_VALUE, true);
  return { ...common, t, h, sde };
}

/**
 * The model's score `s(x) [n, ...]` (with labels `[n]`) at the fixed time of the settings, converted from the model's
 * parameterization with `convertPrediction` (differentiable in `x`).
 */
export function scoreOf(
  model: DiffusionModel,
  settings: ScoreMatchingSettings,
): (x: tf.Tensor, labels: tf.Tensor1D | undefined) => tf.Tensor {
  const p = model.parameterization;
  if (p !== 'score' && settings.sde === undefined) {
    throw new SbmArgumentError(
      'options.sde',
      `is needed to turn a '${p}' prediction into a score; pass the SDE (or marginals) the model was trained for`,
    );
  }
  return (x, labels) => {
    const out = callModel(model, x, tf.fill([x.shape[0]!], settings.t) as tf.Tensor1D, labels);
    if (p === 'score') return out;
    return convertPrediction({ sde: settings.sde!, x, t: settings.t, value: out, from: p, to: 'score' });
  };
}

/** Repeats `x [n, ...]` (and labels `[n]`) `m` times along the batch: row `k·n + i` is row i. */
export function tileRows(x: tf.Tensor, labels: tf.Tensor1D | undefined, m: number) {
  return {
    x: m === 1 ? x : tf.tile(x, [m, ...new Array(x.rank - 1).fill(1)]),
    labels: labels === undefined || m === 1 ? labels : (tf.tile(labels, [m]) as tf.Tensor1D),
  };
}

/**
 * The quadratic forms `vᵀ J_s(x) v` of the Jacobian `J_s = ∂s/∂x` of the score, one per row of
 * `x [n, ...]` and `v [n, ...]`, as `[n]`, by the fourth-order central difference of
 * `f(δ) = vᵀ s(x + δ v)` along v:
 * `vᵀ J v = f'(0) ≈ (8 [f(h) − f(−h)] − [f(2h) − f(−2h)]) / (12 h)`, error `O(h⁴)`.
 *
 * Why not `tf.grad` of `vᵀ s(x)` with respect to x: the loss must be differentiated again with
 * respect to the weights, and tfjs 4.22's second-order gradients are wrong for every op whose
 * gradient reuses its output (tanh, sigmoid, exp, elu, pow, softmax: the saved output is cloned onto
 * the tape before the op itself, so the backward pass drops that path) and fail for others (a
 * float32→float32 cast in the square gradient). The difference quotient needs only first-order
 * gradients, which are exact; all four points go through the model in one call of `4n` rows.
 */
export function jacobianQuadraticForms(
  score: (x: tf.Tensor, labels: tf.Tensor1D | undefined) => tf.Tensor,
  x: tf.Tensor,
  labels: tf.Tensor1D | undefined,
  v: tf.Tensor,
  h: number,
): tf.Tensor1D {
  const n = x.shape[0]!;
  const points = tf.concat([1, -1, 2, -2].map((c) => tf.add(x, tf.mul(c * h, v))));
  const s = score(points, tileRows(x, labels, 4).labels);
  const f = tf.reshape(tf.sum(tf.reshape(tf.mul(tf.concat([v, v, v, v]), s), [4 * n, -1]), 1), [4, n]);
  const [fp1, fm1, fp2, fm2] = tf.unstack(f);
  const first = tf.mul(8, tf.sub(fp1!, fm1!));
  return tf.div(tf.sub(first, tf.sub(fp2!, fm2!)), 12 * h) as tf.Tensor1D;
}

/** Per-example `½ ‖s‖²` as `[n]`. */
export function halfSquaredNorm(s: tf.Tensor): tf.Tensor1D {
  return tf.mul(0.5, tf.sum(tf.reshape(tf.square(s), [s.shape[0]!, -1]), 1)) as tf.Tensor1D;
}
