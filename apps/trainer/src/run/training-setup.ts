import type { ModelInput } from '@sbm/losses';
import { createUNet, type UNet, type UNetConfig } from '@sbm/unet';
import type { TrainerConfig } from '../config/schema.js';
import { resolveUNetConfig } from '../config/unet-config.js';
import { ExponentialMovingAverage } from '../train/ema.js';
import { checkUNetForLoss, lossForConfig, type TrainingLoss, unetNetwork } from '../train/loss-for-config.js';
import { ScoreSdeAdam } from '../train/optimizer.js';
import type { TrainStepContext } from '../train/train-step.js';
import { type NamedVariables, trainableVariables } from '../train/variables.js';
import { withSeededRandom } from './seeded-random.js';

/** What a training run is made of, built from a config on the current backend. */
export interface TrainingSetup {
  unetConfig: UNetConfig;
  /** The reference loss of the config and how the network plugs into it. */
  lossConfig: TrainingLoss;
  net: UNet;
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
 * The U-Net of a config (initial weights drawn from `config.seed`, so that two runs with one seed start alike),
 * its reference loss (`lossForConfig`: the SDE, `continuous`, `reduceMean`, `likelihoodWeighting`, `tMin`),
 * score_sde's Adam with `optim.*` (warm-up, clipping; `gradClip: null` disables clipping) and the EMA of
 * `model.emaRate`.
 */
export function createTrainingSetup(config: TrainerConfig): TrainingSetup {
  const unetConfig = resolveUNetConfig(config);
  const lossConfig = lossForConfig({
    sde: config.sde,
    continuous: config.training.continuous,
    reduceMean: config.training.reduceMean,
    likelihoodWeighting: config.training.likelihoodWeighting,
    tMin: config.training.tMin,
  });
  checkUNetForLoss(lossConfig, unetConfig);
  // Initial weights from the run's seed (stream 0); step k's dropout comes from (seed, k + 1) in trainRun.
  const net = withSeededRandom(config.seed, 0, () => createUNet(unetConfig));
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
  const model = lossConfig.wrap(unetNetwork(net));
  return {
    unetConfig,
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
