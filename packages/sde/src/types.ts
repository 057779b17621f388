import type * as tf from '@tensorflow/tfjs-core';

/**
 * A score model $s_\theta(x, t) \approx \nabla_x \log p_t(x)$: `x [B, ...]`, `t [B]` with values in `[0, T]`;
 * returns a tensor of the shape of `x`. It must not dispose its inputs.
 */
export type ScoreFn = (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor;

/** Drift $f(x, t)$ (shape of `x`) and diffusion $g(t)$ (`[B]`) of an SDE $dx = f(x, t)\,dt + g(t)\,dw$. */
export type DriftDiffusion = {
  /** The drift $f(x, t)$ at every example, a rate per unit time; shape of `x` `[B, ...]`. */
  drift: tf.Tensor;
  /** The diffusion coefficient $g(t)$, one value per example: `[B]`. */
  diffusion: tf.Tensor1D;
};

/** Mean (shape of `x0`) and standard deviation (`[B]`) of the perturbation kernel $p_{0t}(x_t \mid x_0)$. */
export type MarginalMoments = {
  /** $\mathbb{E}[x_t \mid x_0] = \alpha(t)\,x_0$, shape of `x0` `[B, ...]`. */
  mean: tf.Tensor;
  /** $\sigma(t)$, the standard deviation of every element of $x_t$ given $x_0$, one value per example: `[B]`. */
  std: tf.Tensor1D;
};

/**
 * One step of a discretized SDE, $x_{i+1} = x_i + f_i(x_i) + G_i z_i$ with $z_i \sim \mathcal{N}(0, I)$
 * (Song et al. 2021, Eq. 46): `f` has the shape of `x`, `G` is `[B]`.
 */
export type Discretization = {
  /** The deterministic increment $f_i(x_i)$ of the step (already multiplied by the step length); shape of `x` `[B, ...]`. */
  f: tf.Tensor;
  /** The noise scale $G_i$ that multiplies $z_i$, one value per example: `[B]`. */
  G: tf.Tensor1D;
};
