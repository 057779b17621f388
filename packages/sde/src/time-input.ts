import * as tf from '@tensorflow/tfjs-core';
import { describeValue, SbmArgumentError } from './errors.js';

/**
 * A diffusion time for every example of a batch: a tensor `t [B]`, a JS array of B numbers,
 * or one number for the whole batch. Values must lie in `[0, T]`.
 */
export type TimeInput = number | ArrayLike<number> | tf.Tensor1D;

/** Float32 rounding of `T` is tolerated above `T` (and the value clamped to `T`). */
const UPPER_SLACK = 1e-6;

/**
 * Returns the batch size `B` of `x [B, ...]`, or throws if `x` is not a tensor of rank >= 1.
 */
export function batchSize(x: tf.Tensor, name = 'x'): number {
  if (!(x instanceof tf.Tensor)) {
    throw new SbmArgumentError(name, `expected a tf.Tensor, got ${describeValue(x)}`);
  }
  if (x.rank < 1) {
    throw new SbmArgumentError(name, 'expected a tensor of rank >= 1 with the batch first, got a scalar');
  }
  return x.shape[0]!;
}

/**
 * Reads a {@link TimeInput} as `B` float64 values, checking its shape against the batch
 * and every value against `[0, T]`. A tensor is read with `dataSync()`; times are small.
 *
 * @param t - the times: `[B]` tensor, array of length `B`, or one number.
 * @param batch - the batch size `B` they must match.
 * @param T - the end time of the SDE.
 * @param name - argument name used in error messages.
 */
export function readTimes(t: TimeInput, batch: number, T: number, name = 't'): Float64Array {
  let values: Float64Array;
  if (typeof t === 'number') {
    values = new Float64Array(batch).fill(t);
  } else if (t instanceof tf.Tensor) {
    if (t.rank !== 1 || t.shape[0] !== batch) {
      throw new SbmArgumentError(
        name,
        `expected a tensor of shape [${batch}] (one time per example of x), got shape [${t.shape.join(',')}]`,
      );
    }
    values = Float64Array.from(t.dataSync());
  } else if (Array.isArray(t) || ArrayBuffer.isView(t)) {
    if (t.length !== batch) {
      throw new SbmArgumentError(
        name,
        `expected ${batch} times (one per example of x), got an array of length ${t.length}`,
      );
    }
    values = Float64Array.from(t);
  } else {
    throw new SbmArgumentError(name, `expected a number, an array or a Tensor1D, got ${describeValue(t)}`);
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v) || v < 0 || v > T * (1 + UPPER_SLACK)) {
      const where = typeof t === 'number' ? '' : ` at index ${i}`;
      throw new SbmArgumentError(name, `expected times in [0, ${T}], got ${describeValue(v)}${where}`);
    }
    if (v > T) values[i] = T;
  }
  return values;
}

/** Applies a float64 coefficient function to every time and returns a float32 `[B]` tensor. */
export function coefficientTensor(times: Float64Array, fn: (t: number) => number): tf.Tensor1D {
  const out = new Float32Array(times.length);
  for (let i = 0; i < times.length; i++) out[i] = fn(times[i]!);
  return tf.tensor1d(out, 'float32');
}

/**
 * Reshapes a per-example vector `v [B]` to `[B, 1, ..., 1]` so that it broadcasts against
 * `x [B, ...]` (rank of `x`).
 */
export function expandToRank(v: tf.Tensor1D, rank: number): tf.Tensor {
  const shape = [v.shape[0]!, ...new Array<number>(Math.max(rank - 1, 0)).fill(1)];
  return tf.reshape(v, shape);
}

/** Times as a float32 `[B]` tensor (a tensor input is returned as is, so do not dispose it twice). */
export function timesToTensor(times: Float64Array): tf.Tensor1D {
  return tf.tensor1d(Float32Array.from(times), 'float32');
}
