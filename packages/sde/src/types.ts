import type * as tf from '@tensorflow/tfjs-core';

/**
 * A score model `s_θ(x, t) ≈ ∇_x log p_t(x)`: `x [B, ...]`, `t [B]` with values in `[0, T]`;
 * returns a tensor of the shape of `x`. It must not dispose its inputs.
 */
export type ScoreFn = (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor;

/** Drift `f(x, t)` (shape of `x`) and diffusion `g(t)` (`[B]`) of an SDE `dx = f dt + g dw`. */
export type DriftDiffusion = {
  drift: tf.Tensor;
  diffusion: tf.Tensor1D;
};

/** Mean (shape of `x0`) and standard deviation (`[B]`) of the marginal `p_{0t}(x_t | x_0)`. */
export type MarginalMoments = {
  mean: tf.Tensor;
  std: tf.Tensor1D;
};

/**
 * One step of a discretized SDE, `x_{i+1} = x_i + f_i(x_i) + G_i z_i` (Song et al. 2021, Eq. 46):
 * `f` has the shape of `x`, `G` is `[B]`.
 */
export type Discretization = {
  f: tf.Tensor;
  G: tf.Tensor1D;
};
