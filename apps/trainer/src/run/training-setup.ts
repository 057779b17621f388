import type { ModelInput } from '@sbm/losses';
import { createUNet, type UNet, type UNetConfig } from '@sbm/unet';
import { resolveMlpConfig } from '../config/mlp-config.js';
import { resolveModelIO } from '../config/model-io.js';
import type { TrainerConfig } from '../config/schema.js';
import { resolveUNetConfig } from '../config/unet-config.js';
import { ExponentialMovingAverage } from '../train/ema.js';
import { checkUNetForLoss, lossForConfig, type TrainingLoss, unetNetwork } from '../train/loss-for-config.js';
import { createMlpNetwork, type MlpConfig, type MlpNetwork, mlpNetwork } from '../train/mlp-network.js';
import { ScoreSdeAdam } from '../train/optimizer.js';
import type { TrainStepContext } from '../train/train-step.js';
import { type NamedVariables, trainableVariables } from '../train/variables.js';
import { withSeededRandom } from './seeded-random.js';

/**
 * The architecture of a run's network: an `@sbm/unet` U-Net (images `x [B, H, W, C]`) or an
 * {@link MlpNetwork} (points `x [B, D]`).
 */
export type NetworkArchitecture = { kind: 'unet'; config: UNetConfig } | { kind: 'mlp'; config: MlpConfig };

/** A run's network: a `UNet` or an `MlpNetwork` (both: `.model`, `.predict(x, t, options)`, `.save`, `.dispose`). */
export type ScoreNetwork = UNet | MlpNetwork;

/** What a training run is made of, built from a config on the current backend. */
export interface TrainingSetup {
  /** The network's kind and config (`model.kind`). */
  architecture: NetworkArchitecture;
  /**
   * The U-Net's config, for U-Net runs.
   *
   * @throws Error naming `model.kind` when the run trains an MLP (read {@link TrainingSetup.architecture}).
   */
  readonly unetConfig: UNetConfig;
  /** The reference loss of the config and how the network plugs into it. */
  lossConfig: TrainingLoss;
  /** The network being trained (its weights are {@link TrainingSetup.variables}). */
  net: ScoreNetwork;
  variables: NamedVariables;
  optimizer: ScoreSdeAdam;
  ema: ExponentialMovingAverage;
  /** The model the loss calls (the network behind `lossConfig.wrap`). */
  model: ModelInput;
  /** Everything {@link trainStep} needs. */
  context: TrainStepContext;
  /** Releases the network, the optimizer's and the EMA's tensors. */
  dispose(): void;
}

/**
 * The network of a config — the U-Net of `model.kind: 'unet'` (`resolveUNetConfig`) or the MLP of
 * `model.kind: 'mlp'` (`resolveMlpConfig`, `x [B, 2]`) — with initial weights drawn from `config.seed`, so that
 * two runs with one seed start alike; its reference loss (`lossForConfig`: the SDE, `continuous`, `reduceMean`,
 * `likelihoodWeighting`, `tMin`, prediction and time input); score_sde's Adam with `optim.*` (warm-up,
 * clipping; `gradClip: null` disables clipping) and the EMA of `model.emaRate`.
 *
 * @throws ConfigError naming the config key when the network cannot be built; SbmArgumentError naming
 * `unetConfig.<field>` when a U-Net does not fit the loss (`checkUNetForLoss`).
 */
export function createTrainingSetup(config: TrainerConfig): TrainingSetup {
  const architecture: NetworkArchitecture =
    config.model.kind === 'unet'
      ? { kind: 'unet', config: resolveUNetConfig(config) }
      : { kind: 'mlp', config: resolveMlpConfig(config) };
  const lossConfig = lossForConfig({
    sde: config.sde,
    continuous: config.training.continuous,
    reduceMean: config.training.reduceMean,
    likelihoodWeighting: config.training.likelihoodWeighting,
    tMin: config.training.tMin,
    ...resolveModelIO(config),
    // Classifier-free guidance training: labels dropped to the null class data.numClasses.
    ...(config.training.labelDropout > 0
      ? { labelDropout: { prob: config.training.labelDropout, nullLabel: config.data.numClasses } }
      : {}),
  });
  // The U-Net's embedding and σ scaling must fit the loss; the MLP has one form (positional embedding of the
  // conditioning input, unscaled output), which fits every VP/sub-VP prediction and time input.
  if (architecture.kind === 'unet') checkUNetForLoss(lossConfig, architecture.config);
  // Initial weights from the run's seed (stream 0); step k's dropout comes from (seed, k + 1) in trainRun.
  const net: ScoreNetwork = withSeededRandom(config.seed, 0, () =>
    architecture.kind === 'unet' ? createUNet(architecture.config) : createMlpNetwork(architecture.config),
  );
  const variables = trainableVariables(net);
  const optimizer = new ScoreSdeAdam({
    lr: config.optim.lr,
    beta1: config.optim.beta1,
    beta2: config.optim.beta2,
    eps: config.optim.eps,
    weightDecay: config.optim.weightDecay,
    warmup: config.optim.warmup,
    gradClip: config.optim.gradClip ?? -1,
  });
  const ema = new ExponentialMovingAverage(variables, { decay: config.model.emaRate });
  const model = lossConfig.wrap(
    architecture.kind === 'unet' ? unetNetwork(net as UNet) : mlpNetwork(net as MlpNetwork),
  );
  return {
    architecture,
    get unetConfig(): UNetConfig {
      if (architecture.kind !== 'unet') {
        throw new Error(
          "model.kind: this setup trains an 'mlp', which has no U-Net config; read setup.architecture",
        );
      }
      return architecture.config;
    },
    lossConfig,
    net,
    variables,
    optimizer,
    ema,
    model,
    context: { variables, model, loss: lossConfig.loss, optimizer, ema, runSeed: config.seed },
    dispose() {
      optimizer.dispose();
      ema.dispose();
      net.dispose();
    },
  };
}
