import type * as tf from '@tensorflow/tfjs-core';

/**
 * One step of a stepping schedule: evaluate the model at time `t` (on the current state), then step to
 * `tNext` (`null` = clean data, `α = 1`, `σ = 0`). `index` counts from 0.
 */
export interface StepInfo {
  readonly index: number;
  readonly t: number;
  readonly tNext: number | null;
}

/** What a stepper's `step` returns (new tensors, owned by the caller). */
export interface StepOutput<S = undefined> {
  /** The state at `tNext`, shape of `x`. */
  prevSample: tf.Tensor;
  /** The denoised estimate `x̂_0` at `t`, shape of `x`. */
  denoised: tf.Tensor;
  /** Solver state to pass to the next `step` (multistep history); `undefined` for one-step methods. */
  state: S;
}
