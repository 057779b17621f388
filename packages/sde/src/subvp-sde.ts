import { LinearBetaSDE, type VPSDEOptions } from './linear-beta-sde.js';

/**
 * Sub-VP SDE (Song et al. 2021, Eq. 12):
 * `dx = −½ β(t) x dt + √(β(t) (1 − e^{−2 ∫₀ᵗ β(s) ds})) dw`, with `β(t)` as in {@link VPSDE}.
 *
 * Marginal (Eq. 30): `α(t) = exp(−¼ t² (β_max − β_min) − ½ t β_min)` as for VP, and standard deviation
 * `σ(t) = 1 − α(t)²` (always below the VP one); prior `N(0, I)`. `discretize` is Euler–Maruyama
 * with `Δt = T/N`.
 */
export class SubVPSDE extends LinearBetaSDE {
  constructor(options: VPSDEOptions = {}) {
    super(options);
  }

  /** `g(t) = √(β(t) (1 − e^{4 log α(t)}))`. */
  diffusionCoefficient(t: number): number {
    return Math.sqrt(this.beta(t) * -Math.expm1(4 * this.logMeanCoeff(t)));
  }

  /** `σ(t) = 1 − α(t)²`, computed as `−expm1(2 log α)`. */
  sigma(t: number): number {
    return -Math.expm1(2 * this.logMeanCoeff(t));
  }
}
