/**
 * Independent float64 description of the three linear SDEs of Song et al. (2021),
 * "Score-Based Generative Modeling through Stochastic Differential Equations", on t ∈ [0, T], T = 1:
 *
 *   dx = f(t)·x dt + g(t) dw,
 *
 * whose perturbation kernels are Gaussian, x_t | x_0 ~ N(alpha(t)·x_0, sigma(t)²·I), i.e.
 * x_t = alpha(t)·x_0 + sigma(t)·z with z ~ N(0, I). Conventions follow the reference
 * implementation (score_sde, `marginal_prob`).
 */

/** Parameters of a linear SDE. `T = 1` always. */
export type LinearSdeSpec =
  | { kind: 'vp'; betaMin: number; betaMax: number }
  | { kind: 'subvp'; betaMin: number; betaMax: number }
  | { kind: 've'; sigmaMin: number; sigmaMax: number };

/**
 * Scalar coefficients of a linear SDE at time t: drift `f·x`, diffusion `g`, and the marginal
 * (perturbation kernel) mean scale `alpha` and standard deviation `sigma`.
 */
export interface LinearSdeCoefficients {
  /** Drift coefficient: drift(x, t) = f·x. */
  f: number;
  /** Diffusion coefficient g(t). */
  g: number;
  /** Mean scale of the perturbation kernel: E[x_t | x_0] = alpha·x_0. */
  alpha: number;
  /** Standard deviation of the perturbation kernel: Cov[x_t | x_0] = sigma²·I. */
  sigma: number;
}

function validateSpec(spec: LinearSdeSpec): void {
  if (spec.kind === 'vp' || spec.kind === 'subvp') {
    const { betaMin, betaMax } = spec;
    if (!(Number.isFinite(betaMin) && Number.isFinite(betaMax) && betaMin >= 0 && betaMax >= betaMin)) {
      throw new Error(`linear SDE ${spec.kind}: need 0 <= betaMin <= betaMax, got ${betaMin}, ${betaMax}`);
    }
    if (spec.kind === 'subvp' && !(betaMax > 0)) {
      throw new Error('linear SDE subvp: betaMax must be positive');
    }
  } else if (spec.kind === 've') {
    const { sigmaMin, sigmaMax } = spec;
    if (!(Number.isFinite(sigmaMin) && Number.isFinite(sigmaMax) && sigmaMin > 0 && sigmaMax > sigmaMin)) {
      throw new Error(`linear SDE ve: need 0 < sigmaMin < sigmaMax, got ${sigmaMin}, ${sigmaMax}`);
    }
  } else {
    throw new Error(`linear SDE: unknown kind ${(spec as { kind: unknown }).kind}`);
  }
}

/**
 * Coefficients of the linear SDE `spec` at time `t` (float64):
 *
 * - VP:  beta(t) = βmin + t(βmax − βmin), f = −beta/2, g = √beta,
 *        log alpha = −t²(βmax − βmin)/4 − t·βmin/2, sigma = √(1 − alpha²).
 * - sub-VP: f = −beta/2, g = √(beta(t)·(1 − exp(−2βmin·t − (βmax − βmin)t²))),
 *        alpha as VP, sigma = 1 − alpha² (the standard deviation itself, as in score_sde).
 * - VE:  sigma(t) = σmin·(σmax/σmin)^t, f = 0, g = sigma(t)·√(2 ln(σmax/σmin)), alpha = 1,
 *        marginal std = sigma(t) (score_sde convention).
 *
 * `1 − alpha²` is evaluated as `−expm1(2·log alpha)` for accuracy at small t.
 *
 * @param t time, finite and ≥ 0 (normally in [0, 1]).
 */
export function linearSdeCoefficients(spec: LinearSdeSpec, t: number): LinearSdeCoefficients {
  validateSpec(spec);
  if (!Number.isFinite(t) || t < 0) throw new Error(`linearSdeCoefficients: invalid time ${t}`);
  if (spec.kind === 've') {
    const logRatio = Math.log(spec.sigmaMax / spec.sigmaMin);
    const sigma = spec.sigmaMin * Math.exp(t * logRatio);
    return { f: 0, g: sigma * Math.sqrt(2 * logRatio), alpha: 1, sigma };
  }
  const { betaMin, betaMax } = spec;
  const beta = betaMin + t * (betaMax - betaMin);
  const logAlpha = (-t * t * (betaMax - betaMin)) / 4 - (t * betaMin) / 2;
  const alpha = Math.exp(logAlpha);
  const oneMinusAlphaSq = -Math.expm1(2 * logAlpha);
  const f = -beta / 2;
  if (spec.kind === 'vp') {
    return { f, g: Math.sqrt(beta), alpha, sigma: Math.sqrt(oneMinusAlphaSq) };
  }
  const discount = -Math.expm1(-2 * betaMin * t - (betaMax - betaMin) * t * t);
  return { f, g: Math.sqrt(beta * discount), alpha, sigma: oneMinusAlphaSq };
}
