import { ConfigError } from './config-error.js';
import { nearestKeys } from './nearest-keys.js';
import type { TrainerConfigInput } from './schema.js';

// The CIFAR-10 presets reproduce score_sde_pytorch's configs (https://github.com/yang-song/score_sde_pytorch,
// `configs/default_cifar10_configs.py` plus the file named like the preset); presets.test.ts compares them field
// by field with the reference numbers. Network fields live in the `@sbm/unet` preset of the same name.

/** `default_cifar10_configs.py`: data, training loop, optimizer, evaluation and seed shared by all CIFAR-10 configs. */
function cifar10Base(centered: boolean): Omit<TrainerConfigInput, 'model' | 'sde' | 'sampling'> {
  return {
    data: {
      dataset: 'cifar10',
      resolution: 32,
      channels: 3,
      centered,
      randomFlip: true,
      uniformDequantization: false,
      numClasses: 0,
    },
    training: {
      batchSize: 128,
      nIters: 1_300_001,
      snapshotFreq: 50_000,
      snapshotFreqForPreemption: 10_000,
      snapshotSampling: true,
      logFreq: 50,
      evalFreq: 100,
      loss: 'dsm',
      continuous: true,
      reduceMean: false,
      likelihoodWeighting: false,
      importanceSampling: false,
      tMin: 1e-5,
    },
    optim: {
      optimizer: 'adam',
      lr: 2e-4,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      warmup: 5000,
      gradClip: 1,
      weightDecay: 0,
    },
    eval: {
      beginCkpt: 9,
      endCkpt: 26,
      batchSize: 1024,
      enableSampling: false,
      numSamples: 50_000,
      enableLoss: true,
      enableBpd: false,
      bpdDataset: 'test',
    },
    seed: 42,
    backend: 'auto',
  };
}

/** score_sde's σ/β defaults (`model.sigma_min`, …) with the SDE of `training.sde`. */
function cifar10Sde(kind: 'vp' | 'subvp' | 've'): TrainerConfigInput['sde'] {
  return { kind, betaMin: 0.1, betaMax: 20, sigmaMin: 0.01, sigmaMax: 50, numScales: 1000 };
}

/** `sampling.method = 'pc'` with score_sde's defaults `snr` 0.16, `n_steps_each` 1, `noise_removal` true. */
function pcSampling(
  predictor: 'eulerMaruyama' | 'reverseDiffusion',
  corrector: 'none' | 'langevin',
): TrainerConfigInput['sampling'] {
  return { sampler: 'pc', predictor, corrector, snr: 0.16, correctorSteps: 1, denoise: true };
}

/** VP/sub-VP configs with DDPM++/DDPM networks: centered data, `reduce_mean`, Euler–Maruyama without corrector. */
function vpFamily(name: string, sde: 'vp' | 'subvp', unet: string): TrainerConfigInput {
  const base = cifar10Base(true);
  return {
    name,
    ...base,
    training: { ...base.training, reduceMean: true },
    model: { kind: 'unet', preset: unet, emaRate: 0.9999 },
    sde: cifar10Sde(sde),
    sampling: pcSampling('eulerMaruyama', 'none'),
  };
}

/**
 * MNIST on a 2-core CPU (not in score_sde; a starting point to tune): 28×28 digits, a DDPM++-style U-Net with
 * nf 32, ch_mult (1, 2, 2) (28 → 14 → 7), one block per level, attention only at 7×7; VP SDE with the
 * ε-matching loss (σ²-weighted DSM of an ε-network = ‖ε − ε̂‖²); Adam 2e-3, batch 64, EMA 0.999; UniPC-2 with
 * 20 quadratic steps (the best spacing for VP in `@sbm/samplers`' benchmark).
 */
function mnistSmall(): TrainerConfigInput {
  return {
    name: 'mnist/small',
    data: {
      dataset: 'mnist',
      resolution: 28,
      channels: 1,
      centered: true,
      randomFlip: false,
      uniformDequantization: false,
      numClasses: 0,
    },
    model: {
      kind: 'unet',
      preset: 'small/ddpmpp',
      emaRate: 0.999,
      prediction: 'eps',
      timeInput: 'index',
      nf: 32,
      chMult: [1, 2, 2],
      numResBlocks: 1,
      attnResolutions: [7],
      dropout: 0,
    },
    sde: cifar10Sde('vp'),
    training: {
      batchSize: 64,
      nIters: 20_000,
      snapshotFreq: 2000,
      snapshotFreqForPreemption: 500,
      snapshotSampling: true,
      logFreq: 50,
      evalFreq: 500,
      loss: 'dsm',
      continuous: true,
      reduceMean: true,
      likelihoodWeighting: false,
      importanceSampling: false,
      tMin: 1e-5,
    },
    optim: {
      optimizer: 'adam',
      lr: 2e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      warmup: 500,
      gradClip: 1,
      weightDecay: 0,
    },
    sampling: { sampler: 'unipc', steps: 20, spacing: 'quadratic', order: 2, numSamples: 64 },
    eval: {
      beginCkpt: 1,
      endCkpt: 10,
      batchSize: 256,
      enableSampling: false,
      numSamples: 1000,
      enableLoss: true,
      enableBpd: false,
      bpdDataset: 'test',
    },
    seed: 42,
    backend: 'auto',
  };
}

/**
 * The main job on a CPU (`sbm demo`, `pnpm demo`): MNIST at 16×16 (digits 2×2 average-pooled and padded),
 * tuned to give the best digits in about 15 minutes of a 2-core CPU with the wasm backend; see
 * bench/results/mnist-demo.md for the measurements behind each choice.
 */
function mnistDemo(): TrainerConfigInput {
  const base = mnistSmall();
  return {
    ...base,
    name: 'mnist/demo',
    data: { ...base.data, resolution: 16 } as TrainerConfigInput['data'],
    model: { ...base.model, nf: 24, chMult: [1, 2], attnResolutions: [] } as TrainerConfigInput['model'],
    training: {
      ...base.training,
      nIters: 900,
      snapshotFreq: 300,
      snapshotFreqForPreemption: 150,
      logFreq: 25,
    },
    optim: { ...base.optim, warmup: 50 },
    sampling: { sampler: 'ddim', steps: 50, eta: 1, numSamples: 64 },
  };
}

const PRESETS: Record<string, () => TrainerConfigInput> = {
  /** `configs/vp/cifar10_ddpmpp_continuous.py`: DDPM++ cont. (VP). */
  'vp/cifar10_ddpmpp_continuous': () =>
    vpFamily('vp/cifar10_ddpmpp_continuous', 'vp', 'vp/cifar10_ddpmpp_continuous'),
  /** `configs/subvp/cifar10_ddpmpp_continuous.py`: DDPM++ cont. (sub-VP). */
  'subvp/cifar10_ddpmpp_continuous': () =>
    vpFamily('subvp/cifar10_ddpmpp_continuous', 'subvp', 'subvp/cifar10_ddpmpp_continuous'),
  /** `configs/vp/ddpm/cifar10_continuous.py`: DDPM (Ho et al.'s U-Net) trained with the continuous VP SDE. */
  'vp/ddpm/cifar10_continuous': () =>
    vpFamily('vp/ddpm/cifar10_continuous', 'vp', 'vp/ddpm/cifar10_continuous'),
  /** `configs/ve/cifar10_ncsnpp_continuous.py`: NCSN++ cont. (VE): data in [0, 1], ½·sum loss, PC with Langevin. */
  've/cifar10_ncsnpp_continuous': () => ({
    name: 've/cifar10_ncsnpp_continuous',
    ...cifar10Base(false),
    model: { kind: 'unet', preset: 've/cifar10_ncsnpp_continuous', emaRate: 0.999 },
    sde: cifar10Sde('ve'),
    sampling: pcSampling('reverseDiffusion', 'langevin'),
  }),
  'mnist/small': mnistSmall,
  'mnist/demo': mnistDemo,
  /**
   * 2-D toy data (not in score_sde): a ring of 8 Gaussians (radius 2, std 0.1) and an MLP ε-network (3 hidden
   * layers of 64), VP SDE, ε-matching loss, Adam 5e-3, batch 512, 2000 steps, EMA 0.99, DDIM η = 1 with 50 steps
   * (measured against 5000 steps of Adam 1e-3, batch 256, width 128, EMA 0.999, η = 0: mean log-density of the
   * samples under the true mixture −0.82 against −1.74, true points −0.36; see run/train-run-toy.test.ts).
   */
  'toy/mixture': () => ({
    name: 'toy/mixture',
    data: {
      dataset: 'toy',
      mixture: 'ring',
      components: 8,
      radius: 2,
      std: 0.1,
      trainSize: 10_000,
      numClasses: 0,
    },
    model: { kind: 'mlp', hidden: 64, layers: 3, timeEmbeddingDim: 32, emaRate: 0.99, prediction: 'eps' },
    sde: cifar10Sde('vp'),
    training: {
      batchSize: 512,
      nIters: 2000,
      snapshotFreq: 1000,
      snapshotFreqForPreemption: 500,
      snapshotSampling: true,
      logFreq: 100,
      evalFreq: 500,
      loss: 'dsm',
      continuous: true,
      reduceMean: true,
      likelihoodWeighting: false,
      importanceSampling: false,
      tMin: 1e-5,
    },
    optim: {
      optimizer: 'adam',
      lr: 5e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      warmup: 0,
      gradClip: 1,
      weightDecay: 0,
    },
    sampling: { sampler: 'ddim', steps: 50, eta: 1, numSamples: 2000 },
    eval: {
      beginCkpt: 1,
      endCkpt: 5,
      batchSize: 1000,
      enableSampling: true,
      numSamples: 2000,
      enableLoss: true,
      enableBpd: false,
      bpdDataset: 'test',
    },
    seed: 42,
    backend: 'auto',
  }),
};

/** Names of the trainer presets: score_sde's CIFAR-10 configs (named like their files) and small CPU presets. */
export const TRAINER_PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/**
 * A fresh copy of a trainer preset, as raw (unvalidated) input: pass it through `validateConfig`, or use
 * `loadConfig({ preset })`, which also applies `--set` overrides.
 *
 * @throws ConfigError for an unknown name, listing the nearest preset names.
 */
export function trainerPreset(name: string): TrainerConfigInput {
  const make = PRESETS[name];
  if (make === undefined) {
    const near = nearestKeys(name, TRAINER_PRESET_NAMES);
    const hint = near.length > 0 ? `did you mean ${near.join(' or ')}? ` : '';
    throw new ConfigError([
      `preset: unknown preset '${name}'; ${hint}(presets: ${TRAINER_PRESET_NAMES.join(', ')})`,
    ]);
  }
  return make();
}
