import { expandToRank, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type CommonLossOptions, type LossFn, readBatch, readCommonOptions } from './batch.js';
import { denoisingLoss } from './denoising.js';
import { callModel, type DiffusionModel, type ModelFn, toDiffusionModel } from './model.js';
import { randomStream } from './random.js';
import { checkRange, describe } from './validate.js';

/** The preconditioning coefficients of EDM at one noise level (float64). */
export interface EdmCoefficients {
  cSkip: number;
  cOut: number;
  cIn: number;
  cNoise: number;
  /** The loss weight `λ(σ) = (σ² + σ_data²) / (σ σ_data)² = 1 / c_out²`. */
  weight: number;
}

function checkSigmaData(name: string, sigmaData: unknown): number {
  return checkRange(name, sigmaData, 0, Number.POSITIVE_INFINITY, true);
}

/**
 * EDM preconditioning (Karras et al. 2022, Table 1 and Eq. 7): for the denoiser
 * `D_θ(x; σ) = c_skip(σ) x + c_out(σ) F_θ(c_in(σ) x; c_noise(σ))`,
 * `c_skip = σ_d² / (σ² + σ_d²)`, `c_out = σ σ_d / √(σ² + σ_d²)`, `c_in = 1 / √(σ² + σ_d²)`,
 * `c_noise = ¼ ln σ`, and the loss weight `λ(σ) = 1 / c_out²`.
 *
 * @param sigma - the noise level σ > 0.
 * @param sigmaData - the data standard deviation σ_d, default 0.5.
 */
export function edmPreconditioning(sigma: number, sigmaData = 0.5): EdmCoefficients {
  checkRange('sigma', sigma, 0, Number.POSITIVE_INFINITY, true);
  checkSigmaData('sigmaData', sigmaData);
  const s2 = sigma * sigma;
  const d2 = sigmaData * sigmaData;
  const cOut = (sigma * sigmaData) / Math.sqrt(s2 + d2);
  return {
    cSkip: d2 / (s2 + d2),
    cOut,
    cIn: 1 / Math.sqrt(s2 + d2),
    cNoise: 0.25 * Math.log(sigma),
    weight: 1 / (cOut * cOut),
  };
}

/** Options of {@link edmDenoiser}. */
export interface EdmDenoiserOptions {
  /** σ_d, default 0.5. */
  sigmaData?: number;
}

/**
 * Wraps a raw EDM network `F_θ(x_in, c_noise, labels?)` into the preconditioned denoiser
 * `D_θ(x; σ) = c_skip(σ) x + c_out(σ) F_θ(c_in(σ) x; c_noise(σ))` (Karras et al. 2022, Eq. 7), a
 * {@link DiffusionModel} with parameterization `'x0'` whose time input is the noise level σ `[B]`.
 * Use it with {@link edmLoss} and with samplers that expect a denoiser.
 */
export function edmDenoiser(network: ModelFn, options: EdmDenoiserOptions = {}): DiffusionModel {
  if (typeof network !== 'function') {
    throw new SbmArgumentError(
      'network',
      `expected a function (x, cNoise, labels?) => Tensor, got ${describe(network)}`,
    );
  }
  const sigmaData = checkSigmaData('options.sigmaData', options.sigmaData ?? 0.5);
  const predict: ModelFn = (x, sigma, labels) => {
    if (!(sigma instanceof tf.Tensor) || sigma.rank !== 1 || sigma.shape[0] !== x.shape[0]) {
      throw new SbmArgumentError(
        'sigma',
        `expected a [${x.shape[0]}] tensor of noise levels, got ${describe(sigma)}`,
      );
    }
    const coefficients = Array.from(sigma.dataSync(), (s) => edmPreconditioning(s, sigmaData));
    const col = (key: keyof EdmCoefficients) =>
      expandToRank(tf.tensor1d(coefficients.map((c) => c[key])), x.rank);
    return tf.tidy(() => {
      const cNoise = tf.tensor1d(coefficients.map((c) => c.cNoise));
      const inner: DiffusionModel = { predict: network, parameterization: 'x0' };
      const f = callModel(inner, tf.mul(col('cIn'), x), cNoise, labels, 'network');
      return tf.add(tf.mul(col('cSkip'), x), tf.mul(col('cOut'), f));
    });
  };
  return { predict, parameterization: 'x0' };
}

/** Options of {@link edmLoss}. */
export interface EdmLossOptions extends CommonLossOptions {
  /** σ_d, default 0.5. */
  sigmaData?: number;
  /** Mean of ln σ, default −1.2. */
  pMean?: number;
  /** Standard deviation of ln σ, default 1.2. */
  pStd?: number;
}

/**
 * The EDM training loss (Karras et al. 2022, Eq. 8 with Table 1):
 * `L = E_{ln σ ~ N(P_mean, P_std²)} E_{y, n ~ N(0, σ² I)} λ(σ) ‖D_θ(y + n; σ) − y‖²`,
 * `λ(σ) = (σ² + σ_d²)/(σ σ_d)²`, reduced over the elements of one example by `reduction` and
 * averaged over the batch (EDM's code sums: `reduction: 'sum'`).
 *
 * The model gets `x = y + n` and σ `[B]` as its time (the EDM/VE marginal `α = 1`, `σ(t) = t`);
 * wrap a raw network with {@link edmDenoiser} to get the preconditioned `D_θ`. A model predicting
 * score, ε or v on that marginal works as well and is compared with its exact target.
 *
 * @returns a {@link LossFn} `(model, batch, seed?) => scalar`.
 */
export function edmLoss(options: EdmLossOptions = {}): LossFn {
  const settings = readCommonOptions(options);
  const sigmaData = checkSigmaData('options.sigmaData', options.sigmaData ?? 0.5);
  const pMean = checkRange('options.pMean', options.pMean ?? -1.2, -50, 50);
  const pStd = checkRange('options.pStd', options.pStd ?? 1.2, 0, 20);
  return (modelInput, batch, seed) => {
    const model = toDiffusionModel(modelInput);
    const data = readBatch(batch);
    const rng = randomStream(seed);
    const { B } = data;
    const sigmas = new Float64Array(B);
    const epsWeights = new Float64Array(B);
    for (let i = 0; i < B; i++) {
      const sigma = Math.exp(pMean + pStd * rng.normal());
      sigmas[i] = sigma;
      // λ(σ) ‖D − y‖² = λ(σ) σ² ‖ε̂ − ε‖².
      epsWeights[i] = (sigma * sigma + sigmaData * sigmaData) / (sigmaData * sigmaData);
    }
    const alphas = new Float64Array(B).fill(1);
    return denoisingLoss(model, data, { modelTimes: sigmas, alphas, sigmas, epsWeights }, settings, rng);
  };
}
