import { assertFinite, assertNonNegative, SbmArgumentError } from './errors.js';
import { SDE } from './sde.js';

/** Options of {@link VPSDE} and {@link SubVPSDE}. */
export interface VPSDEOptions {
  /** $\beta_{\min} = \beta(0)$, the noise rate at $t = 0$ (per unit time), ≥ 0; default 0.1. */
  betaMin?: number;
  /** $\beta_{\max} = \beta(1)$, the noise rate at $t = T = 1$; default 20. Must exceed `betaMin`. */
  betaMax?: number;
  /** Number of discretization steps, default 1000. */
  N?: number;
}

/**
 * What the VP and sub-VP SDEs (Song et al. 2021, Eq. 11–12) share: the linear noise rate
 * $\beta(t) = \beta_{\min} + t\,(\beta_{\max} - \beta_{\min})$, the drift $-\tfrac{1}{2}\beta(t)\,x$, the mean coefficient
 *
 * $$\alpha(t) = \exp\!\big(-\tfrac{1}{4} t^2 (\beta_{\max} - \beta_{\min}) - \tfrac{1}{2} t\,\beta_{\min}\big)$$
 *
 * and the standard normal prior $\mathcal{N}(0, I)$.
 */
export abstract class LinearBetaSDE extends SDE {
  /** $\beta_{\min} = \beta(0)$, the noise rate at $t = 0$ (per unit time; default 0.1). */
  readonly betaMin: number;
  /** $\beta_{\max} = \beta(1)$, the noise rate at $t = T = 1$ (per unit time; default 20). */
  readonly betaMax: number;
  /** 1: the prior is $\mathcal{N}(0, I)$. */
  readonly priorStd = 1;

  /**
   * Checks and stores the options (defaults `betaMin = 0.1`, `betaMax = 20`, `N = 1000`), throwing {@link SbmArgumentError} unless `0 ≤ betaMin < betaMax` and `N` is an integer ≥ 1.
   */
  protected constructor(options: VPSDEOptions) {
    const { betaMin = 0.1, betaMax = 20, N = 1000 } = options;
    assertNonNegative('options.betaMin', betaMin);
    assertFinite('options.betaMax', betaMax);
    if (!(betaMax > betaMin)) {
      throw new SbmArgumentError(
        'options.betaMax',
        `expected betaMax > betaMin (${betaMin}), got ${betaMax}`,
      );
    }
    super(N);
    this.betaMin = betaMin;
    this.betaMax = betaMax;
  }

  /** The noise rate $\beta(t) = \beta_{\min} + t\,(\beta_{\max} - \beta_{\min})$. */
  beta(t: number): number {
    return this.betaMin + t * (this.betaMax - this.betaMin);
  }

  /**
   * $\log\alpha(t) = -\tfrac{1}{4} t^2 (\beta_{\max} - \beta_{\min}) - \tfrac{1}{2} t\,\beta_{\min}$, so that
   * $\int_0^t \beta(s)\,ds = -2 \log\alpha(t)$.
   */
  logMeanCoeff(t: number): number {
    return -0.25 * t * t * (this.betaMax - this.betaMin) - 0.5 * t * this.betaMin;
  }

  /** $f(t) = -\tfrac{1}{2}\beta(t)$. */
  driftCoefficient(t: number): number {
    return -0.5 * this.beta(t);
  }

  /** $\alpha(t) = \exp\big(\log\alpha(t)\big)$ with $\log\alpha$ from {@link LinearBetaSDE.logMeanCoeff}. */
  alpha(t: number): number {
    return Math.exp(this.logMeanCoeff(t));
  }
}
