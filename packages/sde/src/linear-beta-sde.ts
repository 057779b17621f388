import { assertFinite, assertNonNegative, SbmArgumentError } from './errors.js';
import { SDE } from './sde.js';

/** Options of {@link VPSDE} and {@link SubVPSDE}. */
export interface VPSDEOptions {
  /** β(0), default 0.1. */
  betaMin?: number;
  /** β(1), default 20. Must exceed `betaMin`. */
  betaMax?: number;
  /** Number of discretization steps, default 1000. */
  N?: number;
}

/**
 * What the VP and sub-VP SDEs (Song et al. 2021, Eq. 11–12) share: the linear noise rate
 * `β(t) = β_min + t (β_max − β_min)`, the drift `−½ β(t) x`, the mean coefficient
 * `α(t) = exp(−¼ t² (β_max − β_min) − ½ t β_min)` and the standard normal prior.
 */
export abstract class LinearBetaSDE extends SDE {
  readonly betaMin: number;
  readonly betaMax: number;
  readonly priorStd = 1;

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

  /** `β(t) = β_min + t (β_max − β_min)`. */
  beta(t: number): number {
    return this.betaMin + t * (this.betaMax - this.betaMin);
  }

  /** `log α(t) = −¼ t² (β_max − β_min) − ½ t β_min`, so that `∫₀ᵗ β(s) ds = −2 log α(t)`. */
  logMeanCoeff(t: number): number {
    return -0.25 * t * t * (this.betaMax - this.betaMin) - 0.5 * t * this.betaMin;
  }

  /** `f(t) = −½ β(t)`. */
  driftCoefficient(t: number): number {
    return -0.5 * this.beta(t);
  }

  alpha(t: number): number {
    return Math.exp(this.logMeanCoeff(t));
  }
}
