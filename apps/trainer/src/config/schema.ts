import { UNET_PRESET_NAMES } from '@sbm/unet';
import { z } from 'zod';

// Defaults marked "score_sde" are those of score_sde_pytorch's `configs/default_cifar10_configs.py`
// (https://github.com/yang-song/score_sde_pytorch); the line numbers are in `presets.test.ts`.

/** Builds the `error` option so that every check of a field reports the same "expected …" text. */
function expected(text: string): { error: string } {
  return { error: `expected ${text}` };
}

const positiveNumber = () => z.number(expected('a positive number')).positive(expected('a positive number'));
const nonNegativeNumber = () =>
  z.number(expected('a non-negative number')).nonnegative(expected('a non-negative number'));
const positiveInt = () =>
  z
    .number(expected('a positive integer'))
    .int(expected('a positive integer'))
    .min(1, expected('a positive integer'));
const nonNegativeInt = () =>
  z
    .number(expected('a non-negative integer'))
    .int(expected('a non-negative integer'))
    .min(0, expected('a non-negative integer'));
const rate = () =>
  z
    .number(expected('a number in [0, 1)'))
    .min(0, expected('a number in [0, 1)'))
    .lt(1, expected('a number in [0, 1)'));
const bool = () => z.boolean(expected('true or false'));
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, expected(`one of ${values.map((v) => `'${v}'`).join(', ')}`));

/** Image datasets of the trainer. `folder` reads PNG/JPEG files from `data.path`. */
export const IMAGE_DATASETS = ['cifar10', 'mnist', 'folder'] as const;
/** Every `data.dataset`: the image datasets and `toy` (2-D Gaussian mixtures). */
export const DATASETS = [...IMAGE_DATASETS, 'toy'] as const;

const imageDataSchema = z.strictObject({
  /** Which images: CIFAR-10, MNIST, or a folder of PNG/JPEG files (`path` required). */
  dataset: oneOf(IMAGE_DATASETS),
  /** Folder of images (`folder`), or download/cache directory (`cifar10`, `mnist`). */
  path: z.string(expected('a path (string)')).min(1, expected('a non-empty path')).optional(),
  /** `data.image_size`: images are resized/cropped to `resolution × resolution` (score_sde: 32). */
  resolution: positiveInt().default(32),
  /** `data.num_channels` (score_sde: 3). */
  channels: positiveInt().default(3),
  /** `data.centered`: data in [−1, 1] if true, [0, 1] if false (score_sde default: false). */
  centered: bool().default(false),
  /** `data.random_flip`: random horizontal flips during training (score_sde: true). */
  randomFlip: bool().default(true),
  /** `data.uniform_dequantization` (score_sde: false). */
  uniformDequantization: bool().default(false),
  /** Classes for class-conditional training (0 = unconditional, as every score_sde CIFAR-10 config). */
  numClasses: nonNegativeInt().default(0),
});

const toyDataSchema = z.strictObject({
  /** 2-D toy data: a Gaussian mixture whose exact score is known. */
  dataset: z.literal('toy', expected("'toy'")),
  /** Layout of the mixture's means: equally spaced on a circle (`ring`) or a square grid (`grid`). */
  mixture: oneOf(['ring', 'grid'] as const).default('ring'),
  /** Number of mixture components (for `grid`, a perfect square). */
  components: positiveInt().default(8),
  /** Radius of the ring, or half the side of the grid. */
  radius: positiveNumber().default(2),
  /** Standard deviation of each component. */
  std: positiveNumber().default(0.1),
  /** Training points drawn once per run. */
  trainSize: positiveInt().default(10_000),
  /** Classes for conditional training on the component index; 0 = unconditional. */
  numClasses: nonNegativeInt().default(0),
});

/** `data`: what to train on. A discriminated union on `dataset`. */
export const dataSchema = z.discriminatedUnion('dataset', [imageDataSchema, toyDataSchema]);

/** Score-network outputs (as `@sbm/losses`/`@sbm/samplers` parameterizations). */
export const PREDICTIONS = ['score', 'eps', 'x0', 'v'] as const;
/** What the network's time input holds (as `wrapModel`'s `timeInput` of `@sbm/samplers`). */
export const TIME_INPUTS = ['continuous', 'index', 'sigma'] as const;

const modelCommon = {
  /** `model.ema_rate`: decay of the exponential moving average of the weights. */
  emaRate: rate().default(0.9999),
  /**
   * What the network predicts. Unset: as score_sde's `get_score_fn`, `eps` for VP/sub-VP (the output is
   * divided by −σ(t)) and `score` for VE.
   */
  prediction: oneOf(PREDICTIONS).optional(),
  /**
   * What the network's time input holds. Unset: as score_sde's `get_score_fn`, `index` (999·t) for
   * VP/sub-VP and `sigma` (σ(t)) for VE.
   */
  timeInput: oneOf(TIME_INPUTS).optional(),
};

const unetPresetNames = UNET_PRESET_NAMES as unknown as readonly [string, ...string[]];

const unetModelSchema = z.strictObject({
  /** A U-Net of `@sbm/unet`. */
  kind: z.literal('unet', expected("'unet'")),
  /** The `@sbm/unet` preset (`unetPreset`) the network starts from. */
  preset: oneOf(unetPresetNames),
  ...modelCommon,
  // Overrides of the preset's fields (camelCase of score_sde's `model.*`); resolution, channels, centering,
  // σ table and classes come from `data` and `sde`.
  /** `model.name`. */
  architecture: oneOf(['ddpm', 'ncsnpp'] as const).optional(),
  /** `model.nf`: base channel count. */
  nf: positiveInt().optional(),
  /** `model.ch_mult`: channel multiplier per level. */
  chMult: z
    .array(positiveInt(), expected('a list of positive integers'))
    .min(1, expected('a non-empty list'))
    .optional(),
  /** `model.num_res_blocks` per level. */
  numResBlocks: positiveInt().optional(),
  /** `model.attn_resolutions`: spatial sizes with self-attention. */
  attnResolutions: z.array(positiveInt(), expected('a list of positive integers')).optional(),
  /** `model.dropout`. */
  dropout: rate().optional(),
  /** `model.resamp_with_conv`. */
  resampWithConv: bool().optional(),
  /** `model.conditional`. */
  conditional: bool().optional(),
  /** `model.nonlinearity`. */
  nonlinearity: oneOf(['swish', 'relu', 'elu', 'lrelu'] as const).optional(),
  /** `model.scale_by_sigma`. */
  scaleBySigma: bool().optional(),
  /** `model.fir`. */
  fir: bool().optional(),
  /** `model.fir_kernel`. */
  firKernel: z
    .array(z.number(expected('a number')), expected('a list of numbers'))
    .min(2, expected('a list of at least 2 numbers'))
    .optional(),
  /** `model.skip_rescale`. */
  skipRescale: bool().optional(),
  /** `model.resblock_type`. */
  resblockType: oneOf(['ddpm', 'biggan'] as const).optional(),
  /** `model.progressive`. */
  progressive: oneOf(['none', 'output_skip', 'residual'] as const).optional(),
  /** `model.progressive_input`. */
  progressiveInput: oneOf(['none', 'input_skip', 'residual'] as const).optional(),
  /** `model.progressive_combine`. */
  progressiveCombine: oneOf(['sum', 'cat'] as const).optional(),
  /** `model.embedding_type`. */
  embeddingType: oneOf(['positional', 'fourier'] as const).optional(),
  /** `model.fourier_scale`. */
  fourierScale: positiveNumber().optional(),
  /** `model.init_scale`. */
  initScale: nonNegativeNumber().optional(),
});

const mlpModelSchema = z.strictObject({
  /** A small MLP score model for low-dimensional (toy) data; building it is left to the model code. */
  kind: z.literal('mlp', expected("'mlp'")),
  ...modelCommon,
  /** Width of the hidden layers. */
  hidden: positiveInt().default(128),
  /** Number of hidden layers. */
  layers: positiveInt().default(3),
  /** Size of the sinusoidal time embedding fed to every layer. */
  timeEmbeddingDim: positiveInt().default(32),
});

/** `model`: the score network, a `unet` (an `@sbm/unet` preset plus overrides) or an `mlp`. */
export const modelSchema = z.discriminatedUnion('kind', [unetModelSchema, mlpModelSchema]);

/** SDE kinds: `@sbm/sde`'s `VPSDE`, `SubVPSDE` and `VESDE` (score_sde's `vpsde`, `subvpsde`, `vesde`). */
export const SDE_KINDS = ['vp', 'subvp', 've'] as const;

/** `sde`: the forward SDE (score_sde keeps these in `model.*`; `training.sde` names the kind). */
export const sdeSchema = z
  .strictObject({
    /** `training.sde`. */
    kind: oneOf(SDE_KINDS),
    /** `model.beta_min` (score_sde: 0.1), VP and sub-VP. */
    betaMin: positiveNumber().default(0.1),
    /** `model.beta_max` (score_sde: 20), VP and sub-VP. */
    betaMax: positiveNumber().default(20),
    /** `model.sigma_min` (score_sde: 0.01), VE (and the σ table of `scale_by_sigma` networks). */
    sigmaMin: positiveNumber().default(0.01),
    /** `model.sigma_max` (score_sde: 50), VE. */
    sigmaMax: positiveNumber().default(50),
    /** `model.num_scales` N (score_sde: 1000): discretization steps. */
    numScales: z
      .number(expected('an integer >= 2'))
      .int(expected('an integer >= 2'))
      .min(2, expected('an integer >= 2'))
      .default(1000),
  })
  .superRefine((sde, ctx) => {
    if (sde.betaMax <= sde.betaMin) {
      ctx.addIssue({
        code: 'custom',
        path: ['betaMax'],
        input: sde.betaMax,
        message: `expected a number greater than sde.betaMin (${sde.betaMin})`,
      });
    }
    if (sde.sigmaMax <= sde.sigmaMin) {
      ctx.addIssue({
        code: 'custom',
        path: ['sigmaMax'],
        input: sde.sigmaMax,
        message: `expected a number greater than sde.sigmaMin (${sde.sigmaMin})`,
      });
    }
  });

/**
 * Training objectives of `@sbm/losses`: `dsm` = `denoisingScoreMatchingLoss` (score_sde's continuous
 * `get_sde_loss_fn`), `ddpm` = `ddpmLoss` (ε, discrete steps, VP), `smld` = `smldLoss` (discrete σ levels, VE),
 */
export const LOSS_KINDS = ['dsm', 'ddpm', 'smld'] as const;

/** `training`: loop lengths, frequencies and the objective. */
export const trainingSchema = z.strictObject({
  /** `training.batch_size` (score_sde: 128). */
  batchSize: positiveInt().default(128),
  /** `training.n_iters` (score_sde: 1300001). */
  nIters: positiveInt().default(1_300_001),
  /** `training.snapshot_freq` (score_sde: 50000). */
  snapshotFreq: positiveInt().default(50_000),
  /** `training.snapshot_freq_for_preemption` (score_sde: 10000). */
  snapshotFreqForPreemption: positiveInt().default(10_000),
  /** `training.snapshot_sampling`: sample at each snapshot (score_sde: true). */
  snapshotSampling: bool().default(true),
  /** `training.log_freq` (score_sde: 50). */
  logFreq: positiveInt().default(50),
  /** `training.eval_freq` (score_sde: 100). */
  evalFreq: positiveInt().default(100),
  /** The objective (see {@link LOSS_KINDS}). */
  loss: oneOf(LOSS_KINDS).default('dsm'),
  /** `training.continuous`: the model takes continuous time (score_sde: true). */
  continuous: bool().default(true),
  /** `training.reduce_mean`: mean over data dimensions, else ½·sum (score_sde default: false). */
  reduceMean: bool().default(false),
  /** `training.likelihood_weighting`: λ = g² instead of σ² (score_sde: false). `dsm` only. */
  likelihoodWeighting: bool().default(false),
  /** Importance sampling of t for likelihood weighting (`@sbm/losses`; not in score_sde). */
  importanceSampling: bool().default(false),
  /** Smallest training time (score_sde's `eps` of `get_sde_loss_fn`: 1e-5). */
  tMin: positiveNumber().default(1e-5),
  /** Probability of dropping class labels for classifier-free guidance (needs `data.numClasses` > 0). */
  labelDropout: rate().default(0),
});

/** `optim`: Adam with linear warm-up and gradient clipping, as score_sde's `losses.optimization_manager`. */
export const optimSchema = z.strictObject({
  /** `optim.optimizer` (score_sde: 'Adam'). */
  optimizer: z.literal('adam', expected("'adam'")).default('adam'),
  /** `optim.lr` (score_sde: 2e-4). */
  lr: positiveNumber().default(2e-4),
  /** `optim.beta1` (score_sde: 0.9). */
  beta1: rate().default(0.9),
  /** β₂ (score_sde hard-codes 0.999 in `losses.get_optimizer`). */
  beta2: rate().default(0.999),
  /** `optim.eps` (score_sde: 1e-8). */
  eps: positiveNumber().default(1e-8),
  /** `optim.warmup`: steps of linear learning-rate warm-up, 0 = none (score_sde: 5000). */
  warmup: nonNegativeInt().default(5000),
  /** `optim.grad_clip`: maximum global gradient norm, `null` = no clipping (score_sde: 1; negative disables). */
  gradClip: positiveNumber().nullable().default(1),
  /** `optim.weight_decay` (score_sde: 0). */
  weightDecay: nonNegativeNumber().default(0),
});

/** Sampler names: the sampling functions of `@sbm/samplers` (`pcSample`, `odeSample`, …). */
export const SAMPLERS = [
  'pc',
  'ode',
  'ddpm',
  'ddim',
  'edm',
  'dpmSolver',
  'dpmSolverPlusPlus',
  'unipc',
] as const;
/** Time-step spacings of `@sbm/samplers` (`TimeSpacing` of `@sbm/sde`). */
export const SPACINGS = ['uniform', 'quadratic', 'logSNR', 'karras'] as const;

const samplingCommon = {
  /** Samples drawn at each snapshot / by `sbm sample` (default: `training.batchSize`). */
  numSamples: positiveInt().optional(),
  /** Samples per model call (default: `numSamples`). */
  batchSize: positiveInt().optional(),
  /** Number of steps (default: the sampler's; `pc` and `ddpm`: `sde.numScales`, as score_sde). */
  steps: positiveInt().optional(),
  /** The last time (default: 1e-3 for VP/sub-VP, 1e-5 for VE, as score_sde's `sampling_eps`). */
  tMin: positiveNumber().optional(),
  /** Time-step spacing (default: the sampler's). */
  spacing: oneOf(SPACINGS).optional(),
  /** ρ of the `karras` spacing. */
  rho: positiveNumber().optional(),
};
const order = () => z.union([z.literal(1), z.literal(2), z.literal(3)], expected('1, 2 or 3')).optional();

/** `sampling`: the sampler and its options; a discriminated union on `sampler`. */
export const samplingSchema = z.discriminatedUnion('sampler', [
  z.strictObject({
    sampler: z.literal('pc'),
    ...samplingCommon,
    /** `sampling.predictor` (score_sde names in camelCase). */
    predictor: oneOf(['eulerMaruyama', 'reverseDiffusion', 'ancestral', 'none'] as const).default(
      'reverseDiffusion',
    ),
    /** `sampling.corrector`. */
    corrector: oneOf(['langevin', 'annealedLangevin', 'none'] as const).default('langevin'),
    /** `sampling.snr` (score_sde: 0.16). */
    snr: positiveNumber().default(0.16),
    /** `sampling.n_steps_each` (score_sde: 1). */
    correctorSteps: nonNegativeInt().default(1),
    /** `sampling.noise_removal` (score_sde: true). */
    denoise: bool().default(true),
  }),
  z.strictObject({
    sampler: z.literal('ode'),
    ...samplingCommon,
    method: oneOf(['rk45', 'heun', 'euler'] as const).default('rk45'),
    /** score_sde's `ode_sampler` uses rtol = atol = 1e-5. */
    rtol: positiveNumber().default(1e-5),
    atol: positiveNumber().default(1e-5),
    /** score_sde: `sampling.noise_removal` (true). */
    denoise: bool().default(true),
  }),
  z.strictObject({
    sampler: z.literal('ddpm'),
    ...samplingCommon,
    variance: oneOf(['small', 'large'] as const).default('small'),
  }),
  z.strictObject({
    sampler: z.literal('ddim'),
    ...samplingCommon,
    /** η: 0 = deterministic DDIM, 1 = DDPM-like. */
    eta: nonNegativeNumber().default(0),
  }),
  z.strictObject({
    sampler: z.literal('edm'),
    ...samplingCommon,
    sChurn: nonNegativeNumber().default(0),
    sTmin: nonNegativeNumber().optional(),
    sTmax: nonNegativeNumber().optional(),
    sNoise: positiveNumber().default(1),
  }),
  z.strictObject({
    sampler: z.literal('dpmSolver'),
    ...samplingCommon,
    order: order(),
  }),
  z.strictObject({
    sampler: z.literal('dpmSolverPlusPlus'),
    ...samplingCommon,
    order: order(),
    algorithm: oneOf(['dpmsolver++', 'sde-dpmsolver++'] as const).optional(),
  }),
  z.strictObject({
    sampler: z.literal('unipc'),
    ...samplingCommon,
    order: order(),
    variant: oneOf(['bh1', 'bh2'] as const).optional(),
    predictX0: bool().optional(),
  }),
]);

/** `eval`: checkpoint evaluation (score_sde's `config.eval`). */
export const evalSchema = z.strictObject({
  /** `eval.begin_ckpt` (score_sde: 9). */
  beginCkpt: nonNegativeInt().default(9),
  /** `eval.end_ckpt` (score_sde: 26). */
  endCkpt: nonNegativeInt().default(26),
  /** `eval.batch_size` (score_sde: 1024). */
  batchSize: positiveInt().default(1024),
  /** `eval.enable_sampling` (score_sde: false). */
  enableSampling: bool().default(false),
  /** `eval.num_samples` (score_sde: 50000). */
  numSamples: positiveInt().default(50_000),
  /** `eval.enable_loss` (score_sde: true). */
  enableLoss: bool().default(true),
  /** `eval.enable_bpd` (score_sde: false). */
  enableBpd: bool().default(false),
  /** `eval.bpd_dataset` (score_sde: 'test'). */
  bpdDataset: oneOf(['train', 'test'] as const).default('test'),
});

/**
 * `guidance`: classifier-free guidance when sampling a class-conditional model (Ho & Salimans 2022; not in
 * score_sde). Training for it is `training.labelDropout` (the null class is `data.numClasses`).
 */
export const guidanceSchema = z.strictObject({
  /**
   * Guidance scale `w` of `u + w (c − u)`: 1 samples the conditional model as trained, 0 the unconditional one,
   * `w > 1` guides (Ho & Salimans' `w'` is `w − 1`). Only for `data.numClasses > 0`; `w ≠ 1` needs
   * `training.labelDropout > 0`, else the network never learned the unconditional score.
   */
  scale: nonNegativeNumber().default(1),
  /** The class of every sample; default: sample k is of class `k mod data.numClasses`. */
  classLabel: nonNegativeInt().optional(),
});

/** Backend preferences: `auto` or a choice of `@sbm/backend`'s `setupBackend({ prefer })`. */
export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

/**
 * The trainer configuration: sections as score_sde's `ml_collections` configs, camelCase keys, unknown keys
 * rejected at every level. Cross-section rules (loss vs. SDE, model vs. dataset) are checked by
 * `trainerConfigSchema`; the U-Net itself by `resolveUNetConfig` (see `validateConfig`).
 */
export const trainerConfigObjectSchema = z.strictObject({
  /** Preset or file the config started from (informational; written into `config.json`). */
  name: z.string(expected('a string')).optional(),
  data: dataSchema,
  model: modelSchema,
  sde: sdeSchema,
  training: trainingSchema.prefault({}),
  optim: optimSchema.prefault({}),
  sampling: samplingSchema,
  eval: evalSchema.prefault({}),
  guidance: guidanceSchema.prefault({}),
  /** `config.seed` (score_sde: 42). */
  seed: nonNegativeInt().default(42),
  /** Backend preference for `@sbm/backend`'s `setupBackend`. */
  backend: oneOf(BACKENDS).default('auto'),
});

/** {@link trainerConfigObjectSchema} plus the rules that relate sections to each other. */
export const trainerConfigSchema = trainerConfigObjectSchema.superRefine((c, ctx) => {
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path, input, message });
  const { loss } = c.training;
  if (loss === 'ddpm' && c.sde.kind !== 'vp') {
    issue(['training', 'loss'], loss, `expected 'dsm' with sde.kind '${c.sde.kind}' ('ddpm' needs 'vp')`);
  }
  if (loss === 'smld' && c.sde.kind !== 've') {
    issue(['training', 'loss'], loss, `expected 'dsm' with sde.kind '${c.sde.kind}' ('smld' needs 've')`);
  }
  const discrete = loss === 'ddpm' || loss === 'smld';
  if (c.training.continuous === discrete) {
    issue(
      ['training', 'continuous'],
      c.training.continuous,
      `expected ${!c.training.continuous} with training.loss '${loss}' (${discrete ? 'a discrete-time loss' : 'a continuous-time loss'})`,
    );
  }
  if (c.training.likelihoodWeighting && loss !== 'dsm') {
    issue(
      ['training', 'likelihoodWeighting'],
      true,
      `expected false with training.loss '${loss}' (only 'dsm' has weightings)`,
    );
  }
  if (c.training.importanceSampling && !c.training.likelihoodWeighting) {
    issue(
      ['training', 'importanceSampling'],
      true,
      'expected false unless training.likelihoodWeighting is true',
    );
  }
  if (c.training.labelDropout > 0 && c.data.numClasses === 0) {
    issue(
      ['training', 'labelDropout'],
      c.training.labelDropout,
      'expected 0 for unconditional data (data.numClasses is 0)',
    );
  }
  if (c.guidance.scale !== 1 && c.data.numClasses === 0) {
    issue(
      ['guidance', 'scale'],
      c.guidance.scale,
      'expected 1 for unconditional data (data.numClasses is 0)',
    );
  } else if (c.guidance.scale !== 1 && c.training.labelDropout === 0) {
    issue(
      ['guidance', 'scale'],
      c.guidance.scale,
      'expected 1 unless training.labelDropout > 0 (the network must learn the unconditional score for guidance)',
    );
  }
  if (c.guidance.classLabel !== undefined && c.guidance.classLabel >= c.data.numClasses) {
    issue(
      ['guidance', 'classLabel'],
      c.guidance.classLabel,
      `expected a class below data.numClasses (${c.data.numClasses})`,
    );
  }
  // What the loss can train (lossForConfig): the network's output and time input must be what the export says.
  const ve = c.sde.kind === 've';
  const predictions = ve ? ['score'] : ['eps', 'x0', 'v'];
  if (c.model.prediction !== undefined && !predictions.includes(c.model.prediction)) {
    issue(
      ['model', 'prediction'],
      c.model.prediction,
      `expected ${predictions.map((p) => `'${p}'`).join(', ')} with sde.kind '${c.sde.kind}'`,
    );
  }
  const timeInputs = !c.training.continuous ? ['index'] : ve ? ['sigma'] : ['index', 'continuous'];
  if (c.model.timeInput !== undefined && !timeInputs.includes(c.model.timeInput)) {
    issue(
      ['model', 'timeInput'],
      c.model.timeInput,
      `expected ${timeInputs.map((p) => `'${p}'`).join(' or ')} with sde.kind '${c.sde.kind}' and training.continuous ${c.training.continuous}`,
    );
  }
  const toy = c.data.dataset === 'toy';
  if (toy !== (c.model.kind === 'mlp')) {
    issue(
      ['model', 'kind'],
      c.model.kind,
      `expected '${toy ? 'mlp' : 'unet'}' for data.dataset '${c.data.dataset}'`,
    );
  }
  if (c.data.dataset === 'folder' && c.data.path === undefined) {
    issue(['data', 'path'], undefined, "expected a path (string) for data.dataset 'folder'");
  }
  if (
    c.data.dataset === 'toy' &&
    c.data.mixture === 'grid' &&
    !Number.isInteger(Math.sqrt(c.data.components))
  ) {
    issue(['data', 'components'], c.data.components, "expected a perfect square for data.mixture 'grid'");
  }
  if (c.eval.endCkpt < c.eval.beginCkpt) {
    issue(['eval', 'endCkpt'], c.eval.endCkpt, `expected an integer >= eval.beginCkpt (${c.eval.beginCkpt})`);
  }
});

/** A validated trainer configuration with every default filled in (the output of {@link trainerConfigSchema}). */
export type TrainerConfig = z.output<typeof trainerConfigSchema>;
/** A trainer configuration as written in a file or preset (defaults may be omitted). */
export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;
/** The `data` section. */
export type DataConfig = TrainerConfig['data'];
/** The `model` section. */
export type ModelConfig = TrainerConfig['model'];
/** The `sampling` section. */
export type SamplingConfig = TrainerConfig['sampling'];
