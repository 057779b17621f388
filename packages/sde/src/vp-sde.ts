import * as tf from '@tensorflow/tfjs-core';
import { SbmArgumentError } from './errors.js';
import { LinearBetaSDE, type VPSDEOptions } from './linear-beta-sde.js';
import { linspace, softplus } from './numeric.js';
import { batchSize, coefficientTensor, expandToRank, readTimes, type TimeInput } from './time-input.js';
import type { Discretization } from './types.js';

/**
 * Variance-preserving SDE (Song et al. 2021, Eq. 11), the continuous limit of DDPM, on $t \in [0, 1]$:
 *
 * $$dx = -\tfrac{1}{2}\beta(t)\,x\,dt + \sqrt{\beta(t)}\,dw, \qquad \beta(t) = \beta_{\min} + t\,(\beta_{\max} - \beta_{\min}).$$
 *
 * Marginal (Eq. 29) $p_{0t}(x_t \mid x_0) = \mathcal{N}\big(\alpha(t)\,x_0, \sigma(t)^2 I\big)$ with
 *
 * $$\alpha(t) = \exp\!\big(-\tfrac{1}{4} t^2 (\beta_{\max} - \beta_{\min}) - \tfrac{1}{2} t\,\beta_{\min}\big), \qquad \sigma(t) = \sqrt{1 - \alpha(t)^2};$$
 *
 * prior $\mathcal{N}(0, I)$. `discretize` is the DDPM ancestral step
 * (Eq. 47) with the betas $\beta_i$ of `discreteBetas`: $f_i = \big(\sqrt{1 - \beta_i} - 1\big)\,x$, $G_i = \sqrt{\beta_i}$.
 *
 * @example
 * ```ts
 * const sde = new VPSDE({ betaMin: 0.1, betaMax: 20, N: 1000 });
 * const { mean, std } = sde.marginalProb(x0, 0.5); // x0 [B,H,W,C] → mean [B,H,W,C], std [B]
 * ```
 */
export class VPSDE extends LinearBetaSDE {
  /**
   * The N DDPM betas of the discretization, `linspace(betaMin/N, betaMax/N, N)`, i.e.
   * $\beta_i = \big(\beta_{\min} + \tfrac{i}{N - 1}(\beta_{\max} - \beta_{\min})\big)/N$ for $i = 0, \dots, N - 1$ (float64).
   */
  readonly discreteBetas: readonly number[];

  /**
   * Builds the VP SDE from its options (defaults `betaMin = 0.1`, `betaMax = 20`, `N = 1000`); `N` must exceed `betaMax` so that every DDPM beta stays below 1.
   */
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

  /** $g(t) = \sqrt{\beta(t)}$. */
  diffusionCoefficient(t: number): number {
    return Math.sqrt(this.beta(t));
  }

  /** $\sigma(t) = \sqrt{1 - \alpha(t)^2}$, computed as `sqrt(−expm1(2 log α))`. */
  sigma(t: number): number {
    return Math.sqrt(-Math.expm1(2 * this.logMeanCoeff(t)));
  }

  /**
   * Closed form: with $\lambda$ = `logSnr`, $\alpha^2 = \operatorname{sigmoid}(\lambda)$, so
   * $\log\alpha(t) = -\tfrac{1}{2}\operatorname{softplus}(-\lambda)$, a quadratic in t solved without cancellation.
   */
  override tFromLogSNR(logSnr: number): number {
    this.checkLogSNR(logSnr);
    const s = softplus(-logSnr); // = −2 log α
    const d = this.betaMax - this.betaMin;
    // ¼ d t² + ½ β_min t − ½ s = 0, written without cancellation.
    return (2 * s) / (this.betaMin + Math.sqrt(this.betaMin * this.betaMin + 2 * d * s));
  }

  /**
   * DDPM discretization (Song et al. 2021, Eq. 47): with $i = \operatorname{round}\big(t\,(N - 1)/T\big)$ and
   * $\beta_i$ from `discreteBetas`, $f_i = \big(\sqrt{1 - \beta_i} - 1\big)\,x$ and $G_i = \sqrt{\beta_i}$, so that
   * $x_{i+1} = \sqrt{1 - \beta_i}\,x_i + \sqrt{\beta_i}\,z_i$.
   * @param x - `[B, ...]`
   * @param t - `[B]`, array or number
   * @returns `f` of the shape of `x`, `G [B]`.
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
