import * as tf from '@tensorflow/tfjs-core';
import { SbmArgumentError } from './errors.js';
import { LinearBetaSDE, type VPSDEOptions } from './linear-beta-sde.js';
import { linspace, softplus } from './numeric.js';
import { batchSize, coefficientTensor, expandToRank, readTimes, type TimeInput } from './time-input.js';
import type { Discretization } from './types.js';

/**
 * Variance-preserving SDE (Song et al. 2021, Eq. 11), the continuous limit of DDPM:
 * `dx = −½ β(t) x dt + √β(t) dw`, `β(t) = β_min + t (β_max − β_min)`, `t ∈ [0, 1]`.
 *
 * Marginal (Eq. 29): `α(t) = exp(−¼ t² (β_max − β_min) − ½ t β_min)`, `σ(t) = √(1 − α(t)²)`;
 * prior `N(0, I)`. `discretize` is the DDPM ancestral step with `β_i = linspace(β_min/N, β_max/N, N)`
 * (Eq. 47 with `f = (√(1 − β_i) − 1) x`, `G = √β_i`).
 *
 * @example
 * ```ts
 * const sde = new VPSDE({ betaMin: 0.1, betaMax: 20, N: 1000 });
 * const { mean, std } = sde.marginalProb(x0, 0.5); // x0 [B,H,W,C] → mean [B,H,W,C], std [B]
 * ```
 */
export class VPSDE extends LinearBetaSDE {
  /** DDPM betas of the discretization, `β_i = linspace(β_min/N, β_max/N, N)` (float64). */
  readonly discreteBetas: readonly number[];

  constructor(options: VPSDEOptions = {}) {
    super(options);
    const { betaMin, betaMax, N } = this;
    if (betaMax / N >= 1) {
      throw new SbmArgumentError(
        'options.N',
        `expected N > betaMax (${betaMax}) so that the DDPM betas betaMax/N stay below 1, got ${N}`,
      );
    }
    this.discreteBetas = Object.freeze(linspace(betaMin / N, betaMax / N, N));
  }

  diffusionCoefficient(t: number): number {
    return Math.sqrt(this.beta(t));
  }

  sigma(t: number): number {
    return Math.sqrt(-Math.expm1(2 * this.logMeanCoeff(t)));
  }

  /** Closed form: `α² = sigmoid(λ)`, then solve the quadratic `log α(t) = −½ softplus(−λ)` for t. */
  override tFromLogSNR(logSnr: number): number {
    this.checkLogSNR(logSnr);
    const s = softplus(-logSnr); // = −2 log α
    const d = this.betaMax - this.betaMin;
    // ¼ d t² + ½ β_min t − ½ s = 0, written without cancellation.
    return (2 * s) / (this.betaMin + Math.sqrt(this.betaMin * this.betaMin + 2 * d * s));
  }

  /**
   * DDPM discretization (Song et al. 2021, Eq. 47): with `i = round(t (N−1)/T)`,
   * `f = (√(1 − β_i) − 1) x`, `G = √β_i`.
   */
  override discretize(x: tf.Tensor, t: TimeInput): Discretization {
    const times = readTimes(t, batchSize(x), this.T);
    return tf.tidy(() => {
      const beta = (s: number) => this.discreteBetas[this.timestepIndex(s)]!;
      const f = coefficientTensor(times, (s) => Math.sqrt(1 - beta(s)) - 1);
      return {
        f: tf.mul(expandToRank(f, x.rank), x),
        G: coefficientTensor(times, (s) => Math.sqrt(beta(s))),
      };
    }) as Discretization;
  }
}
