import * as tf from '@tensorflow/tfjs-core';
import { describeValue, SbmArgumentError } from './errors.js';
import type { SDE } from './sde.js';
import { batchSize, expandToRank, readTimes, type TimeInput, timesToTensor } from './time-input.js';
import type { Discretization, DriftDiffusion, ScoreFn } from './types.js';

/** Options of {@link SDE.reverse}. */
export interface ReverseOptions {
  /** Use the probability-flow ODE (no noise, half the score term) instead of the reverse SDE. */
  probabilityFlow?: boolean;
}

/**
 * The reverse-time process of a forward {@link SDE} $dx = f(x, t)\,dt + g(t)\,dw$, driven by a score model
 * $s_\theta(x, t) \approx \nabla_x \log p_t(x)$ (Song et al. 2021).
 *
 * Reverse SDE (Eq. 6), where $\bar{w}$ is a Brownian motion running backwards in time:
 *
 * $$dx = \big[f(x, t) - g(t)^2\,\nabla_x \log p_t(x)\big]\,dt + g(t)\,d\bar{w}.$$
 *
 * Probability-flow ODE (Eq. 13), deterministic, with the same marginals $p_t$:
 *
 * $$dx = \big[f(x, t) - \tfrac{1}{2}\,g(t)^2\,\nabla_x \log p_t(x)\big]\,dt.$$
 *
 * The score $\nabla_x \log p_t(x)$ is replaced by `scoreFn(x, t)`: `x [B, ...]`, `t [B]`, output of the shape of `x`.
 * Time runs from $T$ down to 0, so a solver steps with a negative $dt$. The drift is returned in
 * the forward-time convention above (as in score_sde's `sde_lib`).
 *
 * The `...WithScore` methods take a precomputed score (e.g. from an async model) instead of
 * calling `scoreFn`.
 */
export class ReverseSDE {
  /** The forward SDE being reversed: it gives $f$, $g$, $T$, $N$ and the forward discretization. */
  readonly forward: SDE;
  /** The score model $s_\theta(x, t) \approx \nabla_x \log p_t(x)$ that stands in for the true score. */
  readonly scoreFn: ScoreFn;
  /** `true`: the probability-flow ODE (score term halved, no noise); `false` (default): the reverse SDE. */
  readonly probabilityFlow: boolean;

  /**
   * Reverses `forward` with `scoreFn` (usually built by {@link SDE.reverse}), throwing {@link SbmArgumentError} naming `scoreFn` if it is not a function.
   */
  constructor(forward: SDE, scoreFn: ScoreFn, options: ReverseOptions = {}) {
    if (typeof scoreFn !== 'function') {
      throw new SbmArgumentError(
        'scoreFn',
        `expected a function (x, t) => Tensor, got ${describeValue(scoreFn)}`,
      );
    }
    this.forward = forward;
    this.scoreFn = scoreFn;
    this.probabilityFlow = options.probabilityFlow ?? false;
  }

  /** End time $T$ of the forward SDE, where the reverse process starts. */
  get T(): number {
    return this.forward.T;
  }

  /** Number of discretization steps N of the forward SDE. */
  get N(): number {
    return this.forward.N;
  }

  /**
   * Drift $f(x, t) - c\,g(t)^2\,s_\theta(x, t)$ with $c = 1$ for the SDE or $c = \tfrac{1}{2}$ for the ODE, and
   * diffusion $g(t)$ for the SDE or 0 for the ODE.
   * @param x - `[B, ...]`
   * @param t - `[B]`, array or number in `[0, T]`
   * @returns `drift` of the shape of `x` and `diffusion [B]`.
   */
  sde(x: tf.Tensor, t: TimeInput): DriftDiffusion {
    return tf.tidy(() => this.sdeWithScore(x, t, this.callScore(x, t))) as DriftDiffusion;
  }

  /** As {@link ReverseSDE.sde} with a precomputed `score` of the shape of `x`. */
  sdeWithScore(x: tf.Tensor, t: TimeInput, score: tf.Tensor): DriftDiffusion {
    checkScore(x, score, 'score');
    const { drift, diffusion } = this.forward.sde(x, t);
    const [f, g] = this.combine(drift, diffusion, score);
    return { drift: f, diffusion: g };
  }

  /**
   * Discretized reverse step (Song et al. 2021, Eq. 46–47, "reverse diffusion"), from the forward
   * discretization $f_i$, $G_i$ of {@link SDE.discretize} and $c$ as in {@link ReverseSDE.sde}:
   *
   * $$f^{\mathrm{rev}}_i = f_i - c\,G_i^2\,s_\theta(x, t), \qquad G^{\mathrm{rev}}_i = G_i,$$
   *
   * with $G^{\mathrm{rev}}_i = 0$ for the ODE. A reverse-diffusion predictor then sets
   * $x \leftarrow x - f^{\mathrm{rev}}_i + G^{\mathrm{rev}}_i z$.
   * @param x - `[B, ...]`
   * @param t - `[B]`, array or number in `[0, T]`
   * @returns `f` of the shape of `x`, `G [B]`.
   */
  discretize(x: tf.Tensor, t: TimeInput): Discretization {
    return tf.tidy(() => this.discretizeWithScore(x, t, this.callScore(x, t))) as Discretization;
  }

  /** As {@link ReverseSDE.discretize} with a precomputed `score` of the shape of `x`. */
  discretizeWithScore(x: tf.Tensor, t: TimeInput, score: tf.Tensor): Discretization {
    checkScore(x, score, 'score');
    const fwd = this.forward.discretize(x, t);
    const [f, G] = this.combine(fwd.f, fwd.G, score);
    return { f, G };
  }

  /**
   * `[f − c g² s, g or 0]` with `c = 1` (SDE) or `½` (ODE), for a forward drift `f` (shape of `x`) and
   * diffusion `g [B]`; disposes `f` and `g`.
   */
  private combine(f: tf.Tensor, g: tf.Tensor1D, score: tf.Tensor): [tf.Tensor, tf.Tensor1D] {
    const out = tf.tidy(() => {
      const g2 = expandToRank(tf.square(g), f.rank);
      const c = this.probabilityFlow ? 0.5 : 1;
      return [
        tf.sub(f, tf.mul(tf.mul(g2, c), score)),
        this.probabilityFlow ? tf.zerosLike(g) : tf.clone(g),
      ] as [tf.Tensor, tf.Tensor1D];
    });
    tf.dispose([f, g]);
    return out;
  }

  private callScore(x: tf.Tensor, t: TimeInput): tf.Tensor {
    const tt = t instanceof tf.Tensor ? t : timesToTensor(readTimes(t, batchSize(x), this.T));
    const score = this.scoreFn(x, tt);
    checkScore(x, score, 'scoreFn');
    return score;
  }
}

function checkScore(x: tf.Tensor, score: tf.Tensor, name: string): void {
  if (!(score instanceof tf.Tensor) || !tf.util.arraysEqual(score.shape, x.shape)) {
    throw new SbmArgumentError(
      name,
      `expected a score of the shape of x [${x.shape.join(',')}], got ${describeValue(score)}`,
    );
  }
}
