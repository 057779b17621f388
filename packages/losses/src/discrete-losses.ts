import { type DiscreteSchedule, discreteSchedule, linearBetas, SbmArgumentError } from '@sbm/sde';
import { type CommonLossOptions, type LossFn, readBatch, readCommonOptions } from './batch.js';
import { denoisingLoss } from './denoising.js';
import { toDiffusionModel } from './model.js';
import { randomStream } from './random.js';
import { checkPositiveArray, describe } from './validate.js';

/**
 * A loss over `n` discrete noise levels `x_i = α_i x_0 + σ_i ε`, the level index i drawn uniformly
 * and given to the model as its time; the per-example loss is `‖ε̂ − ε‖²` (= `σ_i² ‖s_θ + ε/σ_i‖²`).
 */
function indexedLoss(
  options: CommonLossOptions,
  alphas: readonly number[],
  sigmas: readonly number[],
): LossFn {
  const settings = readCommonOptions(options);
  const n = sigmas.length;
  return (modelInput, batch, seed) => {
    const model = toDiffusionModel(modelInput);
    const data = readBatch(batch);
    const rng = randomStream(seed);
    const { B } = data;
    const levels = {
      modelTimes: new Float64Array(B),
      alphas: new Float64Array(B),
      sigmas: new Float64Array(B),
      epsWeights: new Float64Array(B).fill(1),
    };
    for (let b = 0; b < B; b++) {
      const i = rng.int(n);
      levels.modelTimes[b] = i;
      levels.alphas[b] = alphas[i]!;
      levels.sigmas[b] = sigmas[i]!;
    }
    return denoisingLoss(model, data, levels, settings, rng);
  };
}

/** Options of {@link ddpmLoss}. */
export interface DdpmLossOptions extends CommonLossOptions {
  /** The DDPM schedule, default `discreteSchedule(linearBetas(1000))` (Ho et al. 2020). */
  schedule?: DiscreteSchedule;
}

/**
 * The DDPM "simple" objective (Ho et al. 2020, Eq. 14, Alg. 1), with $\bar\alpha_i$ = `schedule.alphaBars[i]`:
 *
 * $$\mathcal{L} = \mathbb{E}_{i \sim \mathcal{U}\lbrace 0, \dots, N - 1\rbrace}\, \mathbb{E}_{x_0,\ \epsilon \sim \mathcal{N}(0, I)} \big\lVert \epsilon - \epsilon_\theta\big(\sqrt{\bar\alpha_i}\,x_0 + \sqrt{1 - \bar\alpha_i}\,\epsilon,\ i\big) \big\rVert^2,$$
 *
 * reduced over the elements of one example by `reduction` and averaged over the batch.
 * The model gets the step index i (0-based, as a float32 `[B]` tensor); a model predicting
 * score, $\hat{x}_0$ or $v$ is compared with the corresponding exact target and rescaled to the $\epsilon$ error
 * (the marginals of `discreteMarginals(schedule)` of `@sbm/sde`).
 *
 * @returns a {@link LossFn} `(model, batch, seed?) => scalar`.
 */
export function ddpmLoss(options: DdpmLossOptions = {}): LossFn {
  const schedule = options.schedule ?? discreteSchedule(linearBetas(1000));
  if (schedule === null || typeof schedule !== 'object' || !Array.isArray(schedule.alphaBars)) {
    throw new SbmArgumentError('options.schedule', `expected a DiscreteSchedule, got ${describe(schedule)}`);
  }
  const alphaBars = checkPositiveArray('options.schedule.alphaBars', schedule.alphaBars);
  return indexedLoss(
    options,
    alphaBars.map((a) => Math.sqrt(a)),
    alphaBars.map((a) => Math.sqrt(1 - a)),
  );
}

/** Options of {@link smldLoss}. */
export interface SmldLossOptions extends CommonLossOptions {
  /**
   * The L noise levels $\sigma_i > 0$ (data units), in the order the model indexes them, e.g. NCSN's geometric
   * sequence largest first: `geometricSigmas(10, 0.01, 1).reverse()` (Song & Ermon 2019).
   */
  sigmas: readonly number[];
}

/**
 * The SMLD/NCSN objective (Song & Ermon 2019, Eq. 5–6) with the weighting $\lambda(\sigma) = \sigma^2$, over the L
 * levels of `sigmas`:
 *
 * $$\mathcal{L} = \mathbb{E}_{i \sim \mathcal{U}\lbrace 0, \dots, L - 1\rbrace}\, \mathbb{E}_{x_0,\ \epsilon \sim \mathcal{N}(0, I)}\, \sigma_i^2 \big\lVert s_\theta(x_0 + \sigma_i\,\epsilon,\ i) + \epsilon/\sigma_i \big\rVert^2,$$
 *
 * reduced over the elements of one example by `reduction` and averaged over the batch (the
 * paper's $\tfrac{1}{2}$ and sum correspond to `reduction: 'sum'` times ½). The model gets the level index i as
 * its time (a float32 `[B]` tensor); any parameterization works (marginal $\alpha = 1$, $\sigma = \sigma_i$).
 *
 * @returns a {@link LossFn} `(model, batch, seed?) => scalar`.
 */
export function smldLoss(options: SmldLossOptions): LossFn {
  if (options === null || typeof options !== 'object') {
    throw new SbmArgumentError('options', `expected { sigmas, ... }, got ${describe(options)}`);
  }
  const sigmas = checkPositiveArray('options.sigmas', options.sigmas);
  return indexedLoss(
    options,
    sigmas.map(() => 1),
    [...sigmas],
  );
}
