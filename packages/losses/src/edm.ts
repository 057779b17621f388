import { expandToRank, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type CommonLossOptions, type LossFn, readBatch, readCommonOptions } from './batch.js';
import { denoisingLoss } from './denoising.js';
import { callModel, type DiffusionModel, type ModelFn, toDiffusionModel } from './model.js';
import { randomStream } from './random.js';
import { checkRange, describe } from './validate.js';

/**
 * The preconditioning coefficients of EDM (Karras et al. 2022, Table 1) at one noise level $\sigma$, for the data
 * standard deviation $\sigma_d$ (float64).
 */
export interface EdmCoefficients {
  /** $c_{\mathrm{skip}}(\sigma) = \sigma_d^2 / (\sigma^2 + \sigma_d^2)$, the weight of the skip connection to the noisy input $x$. */
  cSkip: number;
  /** $c_{\mathrm{out}}(\sigma) = \sigma\,\sigma_d / \sqrt{\sigma^2 + \sigma_d^2}$, the scale of the network output $F_\theta$. */
  cOut: number;
  /** $c_{\mathrm{in}}(\sigma) = 1 / \sqrt{\sigma^2 + \sigma_d^2}$, the scale of the network input (unit variance for data of std $\sigma_d$). */
  cIn: number;
  /** $c_{\mathrm{noise}}(\sigma) = \tfrac{1}{4} \ln \sigma$, the noise conditioning given to the network as its time input. */
  cNoise: number;
  /** The loss weight $\lambda(\sigma) = (\sigma^2 + \sigma_d^2) / (\sigma\,\sigma_d)^2 = 1 / c_{\mathrm{out}}(\sigma)^2$. */
  weight: number;
}

function checkSigmaData(name: string, sigmaData: unknown): number {
  return checkRange(name, sigmaData, 0, Number.POSITIVE_INFINITY, true);
}

/**
 * EDM preconditioning (Karras et al. 2022, Table 1 and Eq. 7): the coefficients of the denoiser
 *
 * $$D_\theta(x; \sigma) = c_{\mathrm{skip}}(\sigma)\,x + c_{\mathrm{out}}(\sigma)\,F_\theta\big(c_{\mathrm{in}}(\sigma)\,x;\ c_{\mathrm{noise}}(\sigma)\big),$$
 *
 * for the noise level $\sigma$ and the data standard deviation $\sigma_d$:
 *
 * $$c_{\mathrm{skip}} = \frac{\sigma_d^2}{\sigma^2 + \sigma_d^2}, \qquad c_{\mathrm{out}} = \frac{\sigma\,\sigma_d}{\sqrt{\sigma^2 + \sigma_d^2}},$$
 *
 * $$c_{\mathrm{in}} = \frac{1}{\sqrt{\sigma^2 + \sigma_d^2}}, \qquad c_{\mathrm{noise}} = \tfrac{1}{4} \ln \sigma,$$
 *
 * and the loss weight $\lambda(\sigma) = 1 / c_{\mathrm{out}}^2$.
 *
 * @param sigma - the noise level $\sigma > 0$ (data units).
 * @param sigmaData - the data standard deviation $\sigma_d > 0$, default 0.5.
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
  /** $\sigma_d$, the standard deviation of the data; default 0.5. */
  sigmaData?: number;
}

/**
 * Wraps a raw EDM network $F_\theta$, called as `network(c_in x, c_noise, labels?)` with `c_noise [B]`, into the
 * preconditioned denoiser (Karras et al. 2022, Eq. 7)
 *
 * $$D_\theta(x; \sigma) = c_{\mathrm{skip}}(\sigma)\,x + c_{\mathrm{out}}(\sigma)\,F_\theta\big(c_{\mathrm{in}}(\sigma)\,x;\ c_{\mathrm{noise}}(\sigma)\big),$$
 *
 * with the coefficients of {@link edmPreconditioning}: a {@link DiffusionModel} with parameterization `'x0'` whose
 * time input is the noise level $\sigma$ `[B]`. Use it with {@link edmLoss} and with samplers that expect a denoiser.
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
  /** $\sigma_d$, the standard deviation of the data; default 0.5. */
  sigmaData?: number;
  /** $P_{\mathrm{mean}}$, the mean of $\ln\sigma$; default −1.2. */
  pMean?: number;
  /** $P_{\mathrm{std}}$, the standard deviation of $\ln\sigma$; default 1.2. */
  pStd?: number;
}

/**
 * The EDM training loss (Karras et al. 2022, Eq. 8 with Table 1), for the data `y [B, ...]`:
 *
 * $$\mathcal{L} = \mathbb{E}_{\ln\sigma \sim \mathcal{N}(P_{\mathrm{mean}}, P_{\mathrm{std}}^2)}\, \mathbb{E}_{y,\ n \sim \mathcal{N}(0, \sigma^2 I)} \Big[\lambda(\sigma)\, \big\lVert D_\theta(y + n; \sigma) - y \big\rVert^2\Big],$$
 *
 * with $\lambda(\sigma) = (\sigma^2 + \sigma_d^2)/(\sigma\,\sigma_d)^2$, the squared norm reduced over the elements of one
 * example by `reduction` and the batch averaged (EDM's code sums: `reduction: 'sum'`).
 *
 * The model gets $x = y + n$ and $\sigma$ `[B]` as its time (the EDM/VE marginal $\alpha = 1$, $\sigma(t) = t$);
 * wrap a raw network with {@link edmDenoiser} to get the preconditioned $D_\theta$. A model predicting
 * score, $\epsilon$ or $v$ on that marginal works as well and is compared with its exact target.
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
