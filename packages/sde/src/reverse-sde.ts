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
 * The reverse-time process of a forward {@link SDE} driven by a score model (Song et al. 2021).
 *
 * Reverse SDE (Eq. 6): `dx = [f(x,t) − g(t)² s(x,t)] dt + g(t) dw̄`;
 * probability-flow ODE (Eq. 13): `dx = [f(x,t) − ½ g(t)² s(x,t)] dt`, with `s ≈ ∇_x log p_t(x)`.
 * Time runs from `T` down to 0, so a solver steps with a negative `dt`. The drift is returned in
 * the forward-time convention above (as in score_sde's `sde_lib`).
 *
 * The `...WithScore` methods take a precomputed score (e.g. from an async model) instead of
 * calling `scoreFn`.
 */
export class ReverseSDE {
  readonly forward: SDE;
  readonly scoreFn: ScoreFn;
  readonly probabilityFlow: boolean;

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

  get T(): number {
    return this.forward.T;
  }

  get N(): number {
    return this.forward.N;
  }

  /**
   * Drift `f − c g² s` (`c = 1`, or `½` for the ODE) and diffusion (`g`, or 0 for the ODE).
   * @param x - `[B, ...]`; @param t - `[B]`, array or number.
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
   * Discretized reverse step (Song et al. 2021, Eq. 46–47, "reverse diffusion"):
   * `f_rev = f − c G² s`, `G_rev = G` (or 0 for the ODE), from the forward discretization `f, G`.
   * A reverse-diffusion predictor then sets `x ← x − f_rev + G_rev z`.
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
