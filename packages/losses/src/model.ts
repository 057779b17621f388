import { type Parameterization, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { describe } from './validate.js';

/**
 * A network as the losses call it: `x [B, ...]` (float32), the conditioning time `t [B]` (float32)
 * and, for class-conditional models, integer class labels `labels [B]`; returns a tensor of the
 * shape of `x`. It must not dispose its inputs. What `t` holds depends on the loss: the SDE time
 * for {@link denoisingScoreMatchingLoss}, the step or level index for {@link ddpmLoss} and
 * {@link smldLoss}, the noise level σ for {@link edmLoss}.
 */
export type ModelFn = (x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor1D) => tf.Tensor;

/**
 * A network together with what it predicts (see `Parameterization` of `@sbm/sde`): `'score'`
 * ($\nabla_x \log p_t(x)$), `'eps'` (the noise $\epsilon$), `'x0'` (the denoised $\hat{x}_0$) or `'v'`
 * ($\alpha\,\epsilon - \sigma\,x_0$), for $x_t = \alpha\,x_0 + \sigma\,\epsilon$. Every loss accepts every parameterization.
 */
export interface DiffusionModel {
  /** The network: `predict(x [B, ...], t [B], labels? [B])` returns a tensor of the shape of `x` (see {@link ModelFn}). */
  readonly predict: ModelFn;
  /** What `predict` returns: `'score'`, `'eps'`, `'x0'` or `'v'`. */
  readonly parameterization: Parameterization;
}

/** A {@link DiffusionModel}, or a bare {@link ModelFn}, which is taken to predict the score. */
export type ModelInput = DiffusionModel | ModelFn;

const PARAMETERIZATIONS: readonly string[] = ['score', 'eps', 'x0', 'v'];

/** Reads a {@link ModelInput}, checking its parameterization. */
export function toDiffusionModel(model: ModelInput): DiffusionModel {
  if (typeof model === 'function') return { predict: model, parameterization: 'score' };
  if (model === null || typeof model !== 'object' || typeof model.predict !== 'function') {
    throw new SbmArgumentError(
      'model',
      `expected a function (x, t, labels?) => Tensor or { predict, parameterization }, got ${describe(model)}`,
    );
  }
  if (!PARAMETERIZATIONS.includes(model.parameterization)) {
    throw new SbmArgumentError(
      'model.parameterization',
      `expected one of ${PARAMETERIZATIONS.join(', ')}, got ${describe(model.parameterization)}`,
    );
  }
  return model;
}

/** Calls the model and checks that its output has the shape of `x`. */
export function callModel(
  model: DiffusionModel,
  x: tf.Tensor,
  t: tf.Tensor1D,
  labels: tf.Tensor1D | undefined,
  name = 'model',
): tf.Tensor {
  const out = labels === undefined ? model.predict(x, t) : model.predict(x, t, labels);
  if (!(out instanceof tf.Tensor) || !tf.util.arraysEqual(out.shape, x.shape)) {
    throw new SbmArgumentError(
      name,
      `expected an output of the shape of its input x [${x.shape.join(',')}], got ${describe(out)}`,
    );
  }
  return out;
}
