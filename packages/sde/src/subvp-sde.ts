import { LinearBetaSDE, type VPSDEOptions } from './linear-beta-sde.js';

/**
 * Sub-VP SDE (Song et al. 2021, Eq. 12), with $\beta(t) = \beta_{\min} + t\,(\beta_{\max} - \beta_{\min})$ as in {@link VPSDE}:
 *
 * $$dx = -\tfrac{1}{2}\beta(t)\,x\,dt + \sqrt{\beta(t)\big(1 - e^{-2\int_0^t \beta(s)\,ds}\big)}\,dw.$$
 *
 * Marginal (Eq. 30) $p_{0t}(x_t \mid x_0) = \mathcal{N}\big(\alpha(t)\,x_0, \sigma(t)^2 I\big)$ with the VP mean coefficient and a
 * smaller standard deviation than VP's $\sqrt{1 - \alpha(t)^2}$:
 *
 * $$\alpha(t) = \exp\!\big(-\tfrac{1}{4} t^2 (\beta_{\max} - \beta_{\min}) - \tfrac{1}{2} t\,\beta_{\min}\big), \qquad \sigma(t) = 1 - \alpha(t)^2;$$
 *
 * prior $\mathcal{N}(0, I)$. `discretize` is Euler–Maruyama with $\Delta t = T/N$.
 */
export class SubVPSDE extends LinearBetaSDE {
  /** Builds the sub-VP SDE from its options (defaults `betaMin = 0.1`, `betaMax = 20`, `N = 1000`). */
  constructor(options: VPSDEOptions = {}) {
    super(options);
  }

  /** $g(t) = \sqrt{\beta(t)\,\big(1 - \alpha(t)^4\big)}$, since $e^{-2\int_0^t \beta(s)\,ds} = \alpha(t)^4$. */
  diffusionCoefficient(t: number): number {
    return Math.sqrt(this.beta(t) * -Math.expm1(4 * this.logMeanCoeff(t)));
  }

  /** $\sigma(t) = 1 - \alpha(t)^2$, computed as `−expm1(2 log α)`. */
  sigma(t: number): number {
    return -Math.expm1(2 * this.logMeanCoeff(t));
  }
}
