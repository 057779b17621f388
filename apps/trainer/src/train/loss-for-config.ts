import {
  type DiffusionModel,
  ddpmLoss,
  denoisingScoreMatchingLoss,
  type LabelDropout,
  type LossFn,
  smldLoss,
} from '@sbm/losses';
import { discreteSchedule, SbmArgumentError, type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import type { UNet, UNetConfig } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The forward SDE of a training config (score_sde's `training.sde` with `model.beta_min/beta_max/num_scales` or
 * `model.sigma_min/sigma_max/num_scales`). Defaults are score_sde's CIFAR-10 values: β 0.1 → 20, σ 0.01 → 50,
 * N = 1000.
 */
export type SdeConfig =
  | { kind: 'vp' | 'subvp'; betaMin?: number; betaMax?: number; numScales?: number }
  | { kind: 've'; sigmaMin?: number; sigmaMax?: number; numScales?: number };

/**
 * The minimal training-loss part of a trainer config, named after score_sde's `config.training` fields (the full
 * config schema lives in `src/config`; map it onto this):
 *
 * - `sde` ← `training.sde` (`vpsde` | `subvpsde` | `vesde`) + the `model.*` SDE parameters;
 * - `continuous` ← `training.continuous`; `reduceMean` ← `training.reduce_mean`;
 *   `likelihoodWeighting` ← `training.likelihood_weighting`;
 * - `tMin` ← the `eps` of `get_sde_loss_fn` (1e-5, not in the config files).
 *
 * The loss kind is not a separate field: as in score_sde's `losses.get_step_fn`, it follows from `continuous` and
 * the SDE (continuous → DSM; discrete VP → DDPM; discrete VE → SMLD; discrete sub-VP is rejected).
 */
export interface TrainingLossConfig {
  sde: SdeConfig;
  continuous: boolean;
  reduceMean: boolean;
  likelihoodWeighting: boolean;
  /** Smallest training time of continuous DSM, default 1e-5. */
  tMin?: number;
  /**
   * What the network outputs (the trainer's `model.prediction`). VP/sub-VP (DSM or DDPM): `'eps'` (default, as
   * score_sde), `'x0'` or `'v'`; VE (DSM or SMLD): `'score'` only (default). The loss converts the output to the
   * score with the SDE's α(t), σ(t), so the objective is the same function of the implied score.
   */
  prediction?: NetworkPrediction;
  /**
   * What the network's time input holds (the trainer's `model.timeInput`, `wrapModel`'s `timeInput`). Continuous
   * VP/sub-VP: `'index'` (default, score_sde's 999·t) or `'continuous'` (t itself); continuous VE: `'sigma'`
   * (default); discrete DDPM/SMLD: `'index'` (default).
   */
  timeInput?: 'index' | 'continuous' | 'sigma';
  /**
   * Class-label dropout for classifier-free guidance (the trainer's `training.labelDropout` with the null class
   * `data.numClasses`; Ho & Salimans 2022, Alg. 1): each label is replaced by `nullLabel` with probability `prob`.
   */
  labelDropout?: LabelDropout;
}

/** What a network outputs: ε, the clean data x̂₀, v = α ε − σ x₀, or the score (VE networks, output already /σ). */
export type NetworkPrediction = 'eps' | 'x0' | 'v' | 'score';

/** Which objective {@link lossForConfig} built. */
export type TrainingLossKind = 'dsm' | 'ddpm' | 'smld';

/**
 * A raw network as score_sde calls it: `(x [B, ...], conditioning [B], labels?) => [B, ...]`, where the
 * conditioning input is what the reference feeds its model (`labels` in `models/utils.get_score_fn`).
 */
export type NetworkFn = (x: tf.Tensor, conditioning: tf.Tensor1D, labels?: tf.Tensor1D) => tf.Tensor;

/** The loss of a training config and how the network plugs into it. */
export interface TrainingLoss {
  kind: TrainingLossKind;
  sde: SDE;
  /** The `@sbm/losses` loss, `(model, batch, seed?) => scalar`; give it {@link TrainingLoss.wrap}'s model. */
  loss: LossFn;
  /**
   * What the network's output is: `'eps'` (VP/sub-VP default: score = −output/σ), `'x0'` or `'v'` (VP/sub-VP
   * when configured), or `'score'` (VE, output already /σ).
   */
  parameterization: NetworkPrediction;
  /**
   * Maps the time the loss passes to the model (SDE time t for DSM, step/level index for DDPM/SMLD) to the
   * network's conditioning input. Returns a new tensor.
   */
  conditioning(t: tf.Tensor1D): tf.Tensor1D;
  /** A human-readable form of {@link conditioning}, e.g. `'999·t'`. */
  conditioningDescription: string;
  /** The model the loss calls: `{ predict: (x, t, labels) => network(x, conditioning(t), labels), parameterization }`. */
  wrap(network: NetworkFn): DiffusionModel;
}

function positiveNumber(name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v > 0 && Number.isFinite(v))) {
    throw new SbmArgumentError(name, `expected a finite number > 0, got ${String(v)}`);
  }
  return v;
}

function numScales(name: string, value: unknown): number {
  const n = value ?? 1000;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) {
    throw new SbmArgumentError(name, `expected an integer >= 2, got ${String(n)}`);
  }
  return n;
}

function buildSde(config: SdeConfig): SDE {
  if (config === null || typeof config !== 'object') {
    throw new SbmArgumentError('config.sde', "expected { kind: 'vp' | 'subvp' | 've', ... }");
  }
  if (config.kind === 'vp' || config.kind === 'subvp') {
    const options = {
      betaMin: positiveNumber('config.sde.betaMin', config.betaMin, 0.1),
      betaMax: positiveNumber('config.sde.betaMax', config.betaMax, 20),
      N: numScales('config.sde.numScales', config.numScales),
    };
    return config.kind === 'vp' ? new VPSDE(options) : new SubVPSDE(options);
  }
  if (config.kind === 've') {
    return new VESDE({
      sigmaMin: positiveNumber('config.sde.sigmaMin', config.sigmaMin, 0.01),
      sigmaMax: positiveNumber('config.sde.sigmaMax', config.sigmaMax, 50),
      N: numScales('config.sde.numScales', config.numScales),
    });
  }
  throw new SbmArgumentError(
    'config.sde.kind',
    `expected 'vp', 'subvp' or 've', got ${String((config as { kind: unknown }).kind)}`,
  );
}

function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw new SbmArgumentError(name, `expected a boolean, got ${String(value)}`);
  return value;
}

/** score_sde's `reduce_mean = False` is ½·sum over the elements of an example. */
function halved(loss: LossFn): LossFn {
  return (model, batch, seed) => {
    const full = loss(model, batch, seed);
    const half = tf.mul(full, 0.5) as tf.Scalar;
    full.dispose();
    return half;
  };
}

/**
 * Builds the loss score_sde trains a config with (`losses.get_step_fn` of score_sde_pytorch, Song et al. 2021) and
 * the network conditioning that goes with it (`models/utils.get_score_fn`):
 *
 * | config                        | loss (`@sbm/losses`)                                    | network input        | network output |
 * | ----------------------------- | ------------------------------------------------------- | -------------------- | -------------- |
 * | VP / sub-VP, continuous       | `denoisingScoreMatchingLoss` (σ² or g² weighting), Eq. 7 | `999·t`              | ε (score = −out/σ(t)) |
 * | VE, continuous                | `denoisingScoreMatchingLoss` (σ² or g² weighting), Eq. 7 | `σ(t)`               | score (`scale_by_sigma` divides by σ inside the net) |
 * | VP, discrete (`vp/ddpm`)      | `ddpmLoss`, β_i = linspace(β_min/N, β_max/N, N) (Ho et al. 2020, Eq. 14) | step index i | ε |
 * | VE, discrete (SMLD/NCSN)      | `smldLoss`, σ largest first (Song & Ermon 2019, Eq. 5)  | level index i        | score |
 *
 * `likelihoodWeighting` is `weighting: 'likelihood'` with uniform t, as the reference (no importance sampling);
 * `reduceMean: false` is ½ × `reduction: 'sum'` (the reference's `0.5 * torch.sum`).
 *
 * With `@sbm/unet`: the network's `t` input is {@link TrainingLoss.conditioning}'s output (positional embeddings of
 * 999·t or of the index, Fourier features of σ for VE continuous); `scaleBySigma` must be off for VP/sub-VP (the
 * output is ε) and on for VE (continuous mode reads σ from the input; the discrete SMLD net uses the positional
 * embedding and its own σ table, which equals this SDE's levels largest first). See {@link checkUNetForLoss}.
 *
 * @throws SbmArgumentError naming `config.sde.*`, `config.continuous` (discrete sub-VP),
 * `config.likelihoodWeighting` (with discrete training) or `config.tMin`.
 */
export function lossForConfig(config: TrainingLossConfig): TrainingLoss {
  if (config === null || typeof config !== 'object') {
    throw new SbmArgumentError('config', 'expected { sde, continuous, reduceMean, likelihoodWeighting }');
  }
  const sde = buildSde(config.sde);
  const continuous = checkBoolean('config.continuous', config.continuous);
  const reduceMean = checkBoolean('config.reduceMean', config.reduceMean);
  const likelihood = checkBoolean('config.likelihoodWeighting', config.likelihoodWeighting);
  const reduction = reduceMean ? 'mean' : 'sum';
  const wrapLoss = (loss: LossFn) => (reduceMean ? loss : halved(loss));
  const kindOfSde = config.sde.kind;
  const labelDropout =
    config.labelDropout === undefined || config.labelDropout.prob === 0 ? undefined : config.labelDropout;

  let kind: TrainingLossKind;
  let loss: LossFn;
  let parameterization: NetworkPrediction;
  let conditioning: (t: tf.Tensor1D) => tf.Tensor1D;
  let conditioningDescription: string;
  if (continuous) {
    kind = 'dsm';
    const tMin = config.tMin ?? 1e-5;
    if (typeof tMin !== 'number' || !(tMin > 0 && tMin < sde.T)) {
      throw new SbmArgumentError('config.tMin', `expected a number in (0, ${sde.T}), got ${String(tMin)}`);
    }
    loss = denoisingScoreMatchingLoss({
      sde,
      tMin,
      weighting: likelihood ? 'likelihood' : 'sigma2',
      reduction,
      labelDropout,
    });
    if (kindOfSde === 've') {
      const ve = sde as VESDE;
      const logRatio = Math.log(ve.sigmaMax / ve.sigmaMin);
      parameterization = 'score';
      conditioning = (t) => tf.tidy(() => tf.mul(tf.exp(tf.mul(t, logRatio)), ve.sigmaMin));
      conditioningDescription = 'σ(t) = σ_min (σ_max/σ_min)^t';
    } else if (config.timeInput === 'continuous') {
      parameterization = 'eps';
      conditioning = (t) => t.clone();
      conditioningDescription = 't';
    } else {
      parameterization = 'eps';
      conditioning = (t) => tf.mul(t, 999);
      conditioningDescription = '999·t';
    }
  } else {
    if (likelihood) {
      throw new SbmArgumentError(
        'config.likelihoodWeighting',
        'likelihood weighting is not supported for discrete (DDPM/SMLD) training, as in score_sde',
      );
    }
    if (config.tMin !== undefined) {
      throw new SbmArgumentError('config.tMin', 'applies to continuous training only');
    }
    conditioning = (t) => t.clone();
    if (kindOfSde === 'vp') {
      kind = 'ddpm';
      parameterization = 'eps';
      loss = ddpmLoss({ schedule: discreteSchedule((sde as VPSDE).discreteBetas), reduction, labelDropout });
      conditioningDescription = 'step index i in {0, …, N−1}';
    } else if (kindOfSde === 've') {
      kind = 'smld';
      parameterization = 'score';
      loss = smldLoss({ sigmas: [...(sde as VESDE).discreteSigmas].reverse(), reduction, labelDropout });
      conditioningDescription = 'level index i in {0, …, N−1}, σ_0 = σ_max (largest first)';
    } else {
      throw new SbmArgumentError(
        'config.continuous',
        'discrete training is defined for VP (DDPM) and VE (SMLD) only, as in score_sde; use continuous: true',
      );
    }
  }
  const timeInputs = !continuous ? ['index'] : kindOfSde === 've' ? ['sigma'] : ['index', 'continuous'];
  if (config.timeInput !== undefined && !timeInputs.includes(config.timeInput)) {
    throw new SbmArgumentError(
      'config.timeInput',
      `expected ${timeInputs.map((a) => `'${a}'`).join(' or ')} for ${continuous ? 'continuous' : 'discrete'} ${kindOfSde.toUpperCase()} training, got ${String(config.timeInput)}`,
    );
  }
  const prediction = config.prediction ?? parameterization;
  if (prediction !== parameterization) {
    const allowed = parameterization === 'eps' ? ['eps', 'x0', 'v'] : ['score'];
    if (!allowed.includes(prediction)) {
      throw new SbmArgumentError(
        'config.prediction',
        `expected one of ${allowed.map((a) => `'${a}'`).join(', ')} for a ${kindOfSde.toUpperCase()} network, got ${String(prediction)}`,
      );
    }
  }
  const p = prediction;
  const cond = conditioning;
  return {
    kind,
    sde,
    loss: wrapLoss(loss),
    parameterization: p,
    conditioning: cond,
    conditioningDescription,
    wrap(network: NetworkFn): DiffusionModel {
      if (typeof network !== 'function') {
        throw new SbmArgumentError('network', 'expected a function (x, conditioning, labels?) => Tensor');
      }
      return {
        parameterization: p,
        predict: (x, t, labels) =>
          tf.tidy(() => (labels === undefined ? network(x, cond(t)) : network(x, cond(t), labels))),
      };
    },
  };
}

/**
 * A {@link NetworkFn} calling an `@sbm/unet` network: `net.predict(x, conditioning, { labels, training })`.
 * `training` (default true, score_sde's `model.train()` during training) turns dropout on; tfjs' dropout draws
 * from an unseeded generator, so runs are exactly reproducible only with `dropout: 0`.
 */
export function unetNetwork(net: UNet, options: { training?: boolean } = {}): NetworkFn {
  const training = options.training ?? true;
  return (x, conditioning, labels) =>
    net.predict(x as tf.Tensor4D, conditioning, labels === undefined ? { training } : { training, labels });
}

/**
 * Checks that a `@sbm/unet` config fits the loss as score_sde pairs them: VP/sub-VP and DDPM nets must not
 * `scaleBySigma` (their output is ε); VE continuous nets take σ (Fourier embedding) and divide by it; SMLD nets take
 * the level index (positional embedding) and divide by their σ table, which must equal the SDE's levels.
 *
 * @throws SbmArgumentError naming `unetConfig.<field>` on a mismatch.
 */
export function checkUNetForLoss(loss: TrainingLoss, unetConfig: UNetConfig): void {
  const fail = (field: string, message: string): never => {
    throw new SbmArgumentError(`unetConfig.${field}`, message);
  };
  if (loss.parameterization !== 'score') {
    const what = { eps: 'ε', x0: 'x̂₀', v: 'v' }[loss.parameterization];
    if (unetConfig.scaleBySigma)
      fail('scaleBySigma', `expected false: the ${loss.kind} network predicts ${what}`);
    if (unetConfig.embeddingType !== 'positional') {
      fail('embeddingType', `expected 'positional' (the input is ${loss.conditioningDescription})`);
    }
    return;
  }
  if (!unetConfig.scaleBySigma) fail('scaleBySigma', 'expected true: the VE network outputs the score f/σ');
  if (loss.kind === 'dsm' && unetConfig.embeddingType !== 'fourier') {
    fail('embeddingType', "expected 'fourier': continuous VE networks are conditioned on σ(t)");
  }
  if (loss.kind === 'smld') {
    const ve = loss.sde as VESDE;
    if (unetConfig.embeddingType !== 'positional') {
      fail('embeddingType', "expected 'positional': SMLD networks are conditioned on the level index");
    }
    if (
      unetConfig.numScales !== ve.N ||
      Math.abs(unetConfig.sigmaMin / ve.sigmaMin - 1) > 1e-12 ||
      Math.abs(unetConfig.sigmaMax / ve.sigmaMax - 1) > 1e-12
    ) {
      fail(
        'numScales',
        `expected the σ table of the SDE (σ ${ve.sigmaMin} → ${ve.sigmaMax}, N = ${ve.N}), got σ ${unetConfig.sigmaMin} → ${unetConfig.sigmaMax}, N = ${unetConfig.numScales}`,
      );
    }
  }
}
