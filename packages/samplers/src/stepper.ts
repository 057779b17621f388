import type * as tf from '@tensorflow/tfjs-core';

/**
 * One step of a stepping schedule: evaluate the model at time `t` (on the current state), then step to
 * `tNext` (`null` = clean data, $\alpha = 1$, $\sigma = 0$). `index` counts from 0.
 */
export interface StepInfo {
  /** Position of the step in the schedule, 0-based (step `index` of `n` goes from $t_i$ to $t_{i+1}$). */
  readonly index: number;
  /** The time $t_i$ at which the model is evaluated, in `[0, T]` (the SDE's time, or a step index for `discreteMarginals`). */
  readonly t: number;
  /** The time $t_{i+1} < t_i$ the step lands at, or `null` for clean data ($\alpha = 1$, $\sigma = 0$, $\lambda = +\infty$). */
  readonly tNext: number | null;
}

/** What a stepper's `step` returns (new tensors, owned by the caller). */
export interface StepOutput<S = undefined> {
  /** The state at `tNext`, shape of `x`. */
  prevSample: tf.Tensor;
  /** The denoised estimate $\hat x_0$ at `t`, shape of `x`. */
  denoised: tf.Tensor;
  /** Solver state to pass to the next `step` (multistep history); `undefined` for one-step methods. */
  state: S;
}
