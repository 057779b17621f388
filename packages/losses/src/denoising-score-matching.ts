import { SbmArgumentError, type SDE } from '@sbm/sde';
import { type CommonLossOptions, type LossFn, readBatch, readCommonOptions } from './batch.js';
import { denoisingLoss } from './denoising.js';
import { toDiffusionModel } from './model.js';
import { randomStream } from './random.js';
import { checkChoice, describe } from './validate.js';

/**
 * The weighting `λ(t)` of continuous-time denoising score matching:
 * `'sigma2'`: `λ(t) = σ(t)²` (Song et al. 2021, Sec. 3.3; makes every time contribute O(1));
 * `'likelihood'`: `λ(t) = g(t)²`, which makes the loss an upper bound on the negative
 * log-likelihood (Song, Durkan, Murray & Ermon 2021, Thm. 1).
 */
export type DsmWeighting = 'sigma2' | 'likelihood';

/** Options of {@link denoisingScoreMatchingLoss}. */
export interface DenoisingScoreMatchingOptions extends CommonLossOptions {
  /** The forward SDE (VP, sub-VP, VE or any linear {@link SDE}). */
  sde: SDE;
  /** Smallest time, in (0, T); default 1e-5 (the value of Song et al. 2021). */
  tMin?: number;
  /** Weighting `λ(t)`, default `'sigma2'`. */
  weighting?: DsmWeighting;
  /**
   * With `weighting: 'likelihood'`: draw t from `p(t) ∝ g(t)²/σ(t)²` instead of uniformly and
   * divide by `p(t)`, which leaves the expectation unchanged and removes most of its variance
   * (Song, Durkan, Murray & Ermon 2021, Sec. 5). Default false.
   */
  importanceSampling?: boolean;
}

/**
 * Continuous-time denoising score matching (Song et al. 2021, Eq. 7), for any linear SDE with
 * Gaussian kernel `p_0t(x_t | x_0) = N(α(t) x_0, σ(t)² I)`:
 *
 * `L(θ) = E_{t ~ U(tMin, T)} E_{x_0} E_{ε ~ N(0, I)} [ λ(t) ‖s_θ(x_t, t) + ε/σ(t)‖² ]`, `x_t = α(t) x_0 + σ(t) ε`,
 *
 * with the squared norm reduced over the D elements of one example by `reduction` (`'mean'`
 * divides by D) and the batch averaged. With the score `s_θ = −ε̂/σ` this is
 * `E[(λ/σ²) ‖ε̂ − ε‖²]`; a model of any parameterization is compared with its exact target.
 *
 * Likelihood weighting with importance sampling uses `g²/σ² = −d logSNR/dt`, which holds for every
 * linear SDE: t is drawn uniformly in log-SNR, `t = sde.tFromLogSNR(λ)`, `λ ~ U(logSNR(T), logSNR(tMin))`,
 * and weighted by `(logSNR(tMin) − logSNR(T)) / (T − tMin)` (constant), so that the expectation equals
 * the uniform-t likelihood-weighted loss.
 *
 * The model is called with `x_t [B, ...]` and `t [B]` (the SDE time).
 *
 * @returns a {@link LossFn} `(model, batch, seed?) => scalar`.
 * @throws SbmArgumentError naming `options.tMin` outside (0, T), an unknown `options.weighting`,
 * `options.importanceSampling` without likelihood weighting, or a bad `options.reduction`.
 * @example
 * ```ts
 * const loss = denoisingScoreMatchingLoss({ sde: new VPSDE(), weighting: 'likelihood', importanceSampling: true });
 * optimizer.minimize(() => loss({ predict: net, parameterization: 'eps' }, x0, step));
 * ```
 */
export function denoisingScoreMatchingLoss(options: DenoisingScoreMatchingOptions): LossFn {
  const settings = readCommonOptions(options);
  const { sde } = options;
  // Structural check (not instanceof), so that an SDE from another copy of @sbm/sde is accepted.
  const methods = ['alpha', 'sigma', 'diffusionCoefficient', 'logSNR', 'tFromLogSNR'] as const;
  if (
    sde === null ||
    typeof sde !== 'object' ||
    typeof sde.T !== 'number' ||
    methods.some((m) => typeof sde[m] !== 'function')
  ) {
    throw new SbmArgumentError(
      'options.sde',
      `expected an SDE (VPSDE, SubVPSDE, VESDE, ...), got ${describe(sde)}`,
    );
  }
  const T = sde.T;
  const tMin = options.tMin ?? 1e-5;
  if (typeof tMin !== 'number' || !(tMin > 0 && tMin < T)) {
    throw new SbmArgumentError('options.tMin', `expected a number in (0, T = ${T}), got ${describe(tMin)}`);
  }
  const weighting = checkChoice('options.weighting', options.weighting ?? 'sigma2', [
    'sigma2',
    'likelihood',
  ] as const);
  const importanceSampling = options.importanceSampling ?? false;
  if (typeof importanceSampling !== 'boolean') {
    throw new SbmArgumentError(
      'options.importanceSampling',
      `expected a boolean, got ${describe(importanceSampling)}`,
    );
  }
  if (importanceSampling && weighting !== 'likelihood') {
    throw new SbmArgumentError(
      'options.importanceSampling',
      "importance sampling of t applies to weighting: 'likelihood' only",
    );
  }
  const snrHi = sde.logSNR(tMin);
  const snrLo = sde.logSNR(T);
  const isWeight = (snrHi - snrLo) / (T - tMin);

  return (modelInput, batch, seed) => {
    const model = toDiffusionModel(modelInput);
    const data = readBatch(batch);
    const rng = randomStream(seed);
    const { B } = data;
    const times = new Float64Array(B);
    const alphas = new Float64Array(B);
    const sigmas = new Float64Array(B);
    const epsWeights = new Float64Array(B);
    for (let i = 0; i < B; i++) {
      const u = rng.uniform();
      const t = importanceSampling
        ? Math.min(Math.max(sde.tFromLogSNR(snrLo + u * (snrHi - snrLo)), tMin), T)
        : tMin + u * (T - tMin);
      const sigma = sde.sigma(t);
      times[i] = t;
      alphas[i] = sde.alpha(t);
      sigmas[i] = sigma;
      if (weighting === 'sigma2') epsWeights[i] = 1;
      else if (importanceSampling) epsWeights[i] = isWeight;
      else epsWeights[i] = sde.diffusionCoefficient(t) ** 2 / (sigma * sigma);
    }
    return denoisingLoss(model, data, { modelTimes: times, alphas, sigmas, epsWeights }, settings, rng);
  };
}
