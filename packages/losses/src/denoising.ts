import { expandToRank, type Parameterization } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type BatchData, type CommonSettings, modelLabels, reduceExample } from './batch.js';
import { callModel, type DiffusionModel } from './model.js';
import type { RandomStream } from './random.js';

/**
 * Per-example noise levels of one denoising loss evaluation (all float64, length B): the perturbed
 * data is `x_t = α x_0 + σ ε`, `ε ~ N(0, I)`, the model is called with `modelTimes`, and the loss of
 * one example is `w ‖ε̂ − ε‖²` (reduced over its elements), where `ε̂` is the model's prediction read
 * as a noise prediction.
 */
export interface NoiseLevels {
  modelTimes: Float64Array;
  alphas: Float64Array;
  sigmas: Float64Array;
  epsWeights: Float64Array;
}

/**
 * `|dε/dP|` for a prediction `P` at `x = α x_0 + σ ε`: the residual of a prediction of kind `P`
 * is this factor times the ε residual, since every conversion is affine in the prediction
 * (`ε = −σ s = (x − α x̂_0)/σ = (σ x + α v)/(α² + σ²)`).
 */
function epsPerUnit(p: Parameterization, alpha: number, sigma: number): number {
  if (p === 'eps') return 1;
  if (p === 'score') return sigma;
  if (p === 'x0') return alpha / sigma;
  return alpha / (alpha * alpha + sigma * sigma);
}

function column(values: ArrayLike<number>, rank: number): tf.Tensor {
  return expandToRank(tf.tensor1d(Float32Array.from(values)), rank);
}

/**
 * The denoising objective shared by continuous DSM, SMLD, DDPM and EDM:
 * `mean_b w_b ‖ε̂_b − ε_b‖²`. The residual is formed in the model's own parameterization against
 * the exact target (`ε`, `−ε/σ`, `x_0` or `α ε − σ x_0`) and rescaled by `|dε/dP|²`, which equals
 * the ε residual exactly without dividing the network output by σ or α.
 */
export function denoisingLoss(
  model: DiffusionModel,
  data: BatchData,
  levels: NoiseLevels,
  settings: CommonSettings,
  rng: RandomStream,
): tf.Scalar {
  const { x, B } = data;
  const p = model.parameterization;
  const weights = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const c = epsPerUnit(p, levels.alphas[i]!, levels.sigmas[i]!);
    weights[i] = levels.epsWeights[i]! * c * c;
  }
  const noiseSeed = rng.tfSeed();
  return tf.tidy(() => {
    const labels = modelLabels(data, settings, rng);
    const eps = tf.randomNormal(x.shape, 0, 1, 'float32', noiseSeed);
    const a = column(levels.alphas, x.rank);
    const s = column(levels.sigmas, x.rank);
    const xt = tf.add(tf.mul(a, x), tf.mul(s, eps));
    const out = callModel(model, xt, tf.tensor1d(Float32Array.from(levels.modelTimes)), labels);
    let target: tf.Tensor;
    if (p === 'eps') target = eps;
    else if (p === 'score') target = tf.div(tf.neg(eps), s);
    else if (p === 'x0') target = x;
    else target = tf.sub(tf.mul(a, eps), tf.mul(s, x));
    const perExample = reduceExample(tf.square(tf.sub(out, target)), settings.reduction);
    return tf.mean(tf.mul(tf.tensor1d(Float32Array.from(weights)), perExample)) as tf.Scalar;
  });
}
