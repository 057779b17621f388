import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { randomStream } from './random.js';
import { checkRange, describe } from './validate.js';

/** Class-label dropout for classifier-free guidance training (Ho & Salimans 2022, Alg. 1). */
export interface LabelDropout {
  /** Probability $p_{\mathrm{uncond}}$ of replacing a label by the null label, in [0, 1] (the paper uses 0.1–0.2). */
  prob: number;
  /** The label that means "no class" (commonly the number of classes). */
  nullLabel: number;
}

/** Checks a {@link LabelDropout}. */
export function checkLabelDropout(name: string, dropout: unknown): LabelDropout {
  if (dropout === null || typeof dropout !== 'object') {
    throw new SbmArgumentError(name, `expected { prob, nullLabel }, got ${describe(dropout)}`);
  }
  const { prob, nullLabel } = dropout as LabelDropout;
  checkRange(`${name}.prob`, prob, 0, 1);
  if (typeof nullLabel !== 'number' || !Number.isInteger(nullLabel)) {
    throw new SbmArgumentError(`${name}.nullLabel`, `expected an integer, got ${describe(nullLabel)}`);
  }
  return { prob, nullLabel };
}

/**
 * Replaces each label by `nullLabel` independently with probability `prob`, so that one network
 * learns both the conditional score $s(x, t, c)$ and the unconditional one $s(x, t, \varnothing)$
 * (Ho & Salimans 2022, Alg. 1: $c \leftarrow \varnothing$ with probability $p_{\mathrm{uncond}}$).
 *
 * @param labels - `[B]` class labels (any numeric dtype; the result has the same dtype).
 * @param dropout - `{ prob, nullLabel }`.
 * @param seed - optional seed; the same seed drops the same positions.
 * @returns a new `[B]` tensor.
 */
export function dropLabels(labels: tf.Tensor1D, dropout: LabelDropout, seed?: number): tf.Tensor1D {
  if (!(labels instanceof tf.Tensor) || labels.rank !== 1) {
    throw new SbmArgumentError('labels', `expected a [B] tensor, got ${describe(labels)}`);
  }
  const { prob, nullLabel } = checkLabelDropout('dropout', dropout);
  const rng = randomStream(seed);
  const B = labels.shape[0]!;
  const mask = new Uint8Array(B);
  for (let i = 0; i < B; i++) mask[i] = rng.uniform() < prob ? 1 : 0;
  return tf.tidy(() =>
    tf.where(tf.tensor1d(mask, 'bool'), tf.fill([B], nullLabel, labels.dtype), labels),
  ) as tf.Tensor1D;
}
