import { SbmArgumentError, type SDE } from '@sbm/sde';
import { type CommonLossOptions, type LossFn, readBatch, readCommonOptions } from './batch.js';
import { denoisingLoss } from './denoising.js';
import { toDiffusionModel } from './model.js';
import { randomStream } from './random.js';
import { checkChoice, describe } from './validate.js';

/**
 * The weighting $\lambda(t)$ of continuous-time denoising score matching:
 * - `'sigma2'`: $\lambda(t) = \sigma(t)^2$ (Song et al. 2021, Sec. 3.3), which makes every time contribute $O(1)$;
 * - `'likelihood'`: $\lambda(t) = g(t)^2$, which makes the loss an upper bound on the negative
 *   log-likelihood up to a constant (Song, Durkan, Murray & Ermon 2021, Thm. 1).
 */
export type DsmWeighting = 'sigma2' | 'likelihood';

/** Options of {@link denoisingScoreMatchingLoss}. */
export interface DenoisingScoreMatchingOptions extends CommonLossOptions {
  /** The forward SDE (VP, sub-VP, VE or any linear {@link SDE}). */
  sde: SDE;
  /** Smallest time $t_{\min}$, in (0, T); default 1e-5 (the value of Song et al. 2021). */
  tMin?: number;
  /** Weighting $\lambda(t)$, default `'sigma2'`. */
  weighting?: DsmWeighting;
  /**
   * With `weighting: 'likelihood'`: draw t from $p(t) \propto g(t)^2/\sigma(t)^2$ on $[t_{\min}, T]$ instead of
   * uniformly and reweight by the ratio of the densities, which leaves the expectation unchanged and removes most of
   * its variance (Song, Durkan, Murray & Ermon 2021, Sec. 5). Default false.
   */
  importanceSampling?: boolean;
}

/**
 * Continuous-time denoising score matching (Song et al. 2021, Eq. 7), for any linear SDE with
 * Gaussian kernel $p_{0t}(x_t \mid x_0) = \mathcal{N}\big(\alpha(t)\,x_0, \sigma(t)^2 I\big)$:
 *
 * $$\mathcal{L}(\theta) = \mathbb{E}_{t \sim \mathcal{U}(t_{\min}, T)}\, \mathbb{E}_{x_0}\, \mathbb{E}_{\epsilon \sim \mathcal{N}(0, I)} \Big[\lambda(t)\, \big\lVert s_\theta(x_t, t) + \epsilon/\sigma(t) \big\rVert^2\Big],$$
 *
 * with $x_t = \alpha(t)\,x_0 + \sigma(t)\,\epsilon$ (so $-\epsilon/\sigma(t) = \nabla_{x_t} \log p_{0t}(x_t \mid x_0)$), the weighting
 * $\lambda(t)$ of {@link DsmWeighting}, the squared norm reduced over the D elements of one example by `reduction`
 * (`'mean'` divides by D) and the batch averaged. With the score $s_\theta = -\hat\epsilon/\sigma$ this is
 * $\mathbb{E}\big[(\lambda/\sigma^2)\,\lVert\hat\epsilon - \epsilon\rVert^2\big]$; a model of any parameterization is compared with
 * its exact target.
 *
 * Likelihood weighting with importance sampling uses an identity that holds for every linear SDE,
 *
 * $$\frac{g(t)^2}{\sigma(t)^2} = -\frac{d}{dt} \operatorname{logSNR}(t):$$
 *
 * t is drawn uniformly in log-SNR, $t$ = `sde.tFromLogSNR(l)` with $l$ uniform between $\operatorname{logSNR}(T)$ and
 * $\operatorname{logSNR}(t_{\min})$, and every example is weighted by the same constant
 *
 * $$w = \frac{\operatorname{logSNR}(t_{\min}) - \operatorname{logSNR}(T)}{T - t_{\min}},$$
 *
 * so that the expectation equals the uniform-t likelihood-weighted loss.
 *
 * The model is called with $x_t$ `[B, ...]` and `t [B]` (the SDE time).
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
