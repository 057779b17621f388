import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { checkLabelDropout, dropLabels, type LabelDropout } from './label-dropout.js';
import type { ModelInput } from './model.js';
import type { RandomStream } from './random.js';
import { checkChoice, describe } from './validate.js';

/**
 * A training batch: the data `x [B, ...]` (float32, batch first, rank >= 2), or the data with
 * class labels `[B]` for class-conditional models.
 */
export type Batch =
  | tf.Tensor
  | {
      /** The data `x [B, ...]`: float32, batch first, rank ≥ 2. */
      x: tf.Tensor;
      /** Class labels `[B]`, one per example, passed to the model as its third argument. */
      labels?: tf.Tensor1D;
    };

/**
 * How the squared error of one example is reduced over its `D` elements: `'mean'` (÷ D, the
 * DDPM/`score_sde reduce_mean` convention) or `'sum'`. The batch is always averaged.
 * Note that `score_sde`'s `reduce_mean = False` is ½ · sum.
 */
export type Reduction = 'mean' | 'sum';

/**
 * A training loss: `(model, batch, seed?) => scalar`, differentiable with respect to the model's
 * variables, so that it can be used inside `optimizer.minimize(() => loss(model, batch, step))`.
 * The same seed gives the same value; without one the randomness is fresh each call.
 * It disposes nothing it did not create.
 */
export type LossFn = (model: ModelInput, batch: Batch, seed?: number) => tf.Scalar;

/** Options every loss takes. */
export interface CommonLossOptions {
  /** Reduction over the elements of one example, default `'mean'`. */
  reduction?: Reduction;
  /** Drop class labels to a null label before calling the model (classifier-free guidance training). */
  labelDropout?: LabelDropout;
}

/** Validated {@link CommonLossOptions}. */
export interface CommonSettings {
  reduction: Reduction;
  labelDropout: LabelDropout | undefined;
}

export function readCommonOptions(options: CommonLossOptions): CommonSettings {
  if (options === null || typeof options !== 'object') {
    throw new SbmArgumentError('options', `expected an object, got ${describe(options)}`);
  }
  return {
    reduction: checkChoice('options.reduction', options.reduction ?? 'mean', ['mean', 'sum'] as const),
    labelDropout:
      options.labelDropout === undefined
        ? undefined
        : checkLabelDropout('options.labelDropout', options.labelDropout),
  };
}

/** The data and labels of a {@link Batch}, checked. */
export interface BatchData {
  x: tf.Tensor;
  labels: tf.Tensor1D | undefined;
  /** Batch size B. */
  B: number;
  /** Elements per example D. */
  D: number;
}

export function readBatch(batch: Batch): BatchData {
  const isTensor = batch instanceof tf.Tensor;
  if (!isTensor && (batch === null || typeof batch !== 'object')) {
    throw new SbmArgumentError('batch', `expected a tensor or { x, labels? }, got ${describe(batch)}`);
  }
  const x = isTensor ? batch : batch.x;
  const labels = isTensor ? undefined : batch.labels;
  const name = isTensor ? 'batch' : 'batch.x';
  if (!(x instanceof tf.Tensor) || x.rank < 2 || x.dtype !== 'float32' || x.size === 0) {
    throw new SbmArgumentError(
      name,
      `expected a non-empty float32 tensor [B, ...] of rank >= 2, got ${describe(x)}`,
    );
  }
  const B = x.shape[0]!;
  if (
    labels !== undefined &&
    (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== B)
  ) {
    throw new SbmArgumentError(
      'batch.labels',
      `expected a [${B}] tensor (one label per example), got ${describe(labels)}`,
    );
  }
  return { x, labels, B, D: x.size / B };
}

/**
 * The labels to give the model: the batch's labels after the optional dropout (a new tensor), or
 * the batch's own labels. Must be called inside a `tf.tidy`.
 */
export function modelLabels(
  data: BatchData,
  settings: CommonSettings,
  rng: RandomStream,
): tf.Tensor1D | undefined {
  if (settings.labelDropout === undefined) return data.labels;
  if (data.labels === undefined) {
    throw new SbmArgumentError('batch.labels', 'expected class labels, since options.labelDropout is set');
  }
  return dropLabels(data.labels, settings.labelDropout, rng.tfSeed());
}

/** Per-example reduction of `e [B, ...]` over its D elements: `[B]`. */
export function reduceExample(e: tf.Tensor, reduction: Reduction): tf.Tensor1D {
  const flat = tf.reshape(e, [e.shape[0]!, -1]);
  return (reduction === 'mean' ? tf.mean(flat, 1) : tf.sum(flat, 1)) as tf.Tensor1D;
}
