import { SbmArgumentError } from '@sbm/sde';

/** Which reference network: `ddpm` is Ho et al.'s U-Net (`models/ddpm.py`), `ncsnpp` covers DDPM++ and NCSN++. */
export type Architecture = 'ddpm' | 'ncsnpp';
/**
 * Nonlinearity of the network (`model.nonlinearity`): SiLU/swish $x \operatorname{sigmoid}(x)$, ReLU, ELU, or
 * leaky ReLU with slope 0.2 for $x < 0$.
 */
export type Nonlinearity = 'swish' | 'relu' | 'elu' | 'lrelu';
/** Residual block of NCSN++/DDPM++ (`model.resblock_type`). */
export type ResblockType = 'ddpm' | 'biggan';
/** Progressive output path (`model.progressive`). */
export type Progressive = 'none' | 'output_skip' | 'residual';
/** Progressive input path (`model.progressive_input`). */
export type ProgressiveInput = 'none' | 'input_skip' | 'residual';
/** How the input pyramid is combined with features (`model.progressive_combine`). */
export type ProgressiveCombine = 'sum' | 'cat';
/** Time/noise-level embedding (`model.embedding_type`). */
export type EmbeddingType = 'positional' | 'fourier';

/**
 * Hyper-parameters of a score network, one field per knob of the score_sde reference configs
 * (Song et al. 2021, Appendix H; `configs/*.py`). Field names are the camelCase forms of the reference
 * names (`model.nf` → `nf`, `data.image_size` → `imageSize`, …).
 */
export interface UNetConfig {
  /** `model.name`: `'ddpm'` (Ho et al. 2020) or `'ncsnpp'` (DDPM++/NCSN++, Song et al. 2021). */
  architecture: Architecture;
  /** `data.image_size`: the training resolution; attention is placed at levels whose size is in `attnResolutions`. */
  imageSize: number;
  /** `data.num_channels`. */
  numChannels: number;
  /** `data.centered`: inputs are in [−1, 1]; if false they are in [0, 1] and mapped by $x \mapsto 2x - 1$. */
  centered: boolean;
  /** `model.nf`: base channel count. */
  nf: number;
  /** `model.ch_mult`: channel multiplier per resolution level. */
  chMult: number[];
  /** `model.num_res_blocks` per level. */
  numResBlocks: number;
  /** `model.attn_resolutions`: spatial sizes with self-attention. */
  attnResolutions: number[];
  /** `model.dropout` rate inside residual blocks (training only). */
  dropout: number;
  /** `model.resamp_with_conv`: learned 3×3 convolutions in up/down-sampling. */
  resampWithConv: boolean;
  /** `model.conditional`: condition on the time/noise level. */
  conditional: boolean;
  /** `model.nonlinearity`. */
  nonlinearity: Nonlinearity;
  /**
   * `model.scale_by_sigma`: divide the output by σ (NCSN parameterization,
   * $s_\theta(x, \sigma) = f_\theta(x, \sigma)/\sigma$).
   */
  scaleBySigma: boolean;
  /** `model.fir`: FIR (upfirdn2d) resampling with `firKernel` instead of nearest/average (NCSN++ only). */
  fir: boolean;
  /**
   * `model.fir_kernel`: 1-D FIR kernel k, used as its normalized outer product
   * $k k^\top / \sum_{ij} (k k^\top)_{ij}$.
   */
  firKernel: number[];
  /** `model.skip_rescale`: divide residual sums by $\sqrt{2}$, i.e. $(a + b)/\sqrt{2}$ instead of $a + b$. */
  skipRescale: boolean;
  /** `model.resblock_type`. */
  resblockType: ResblockType;
  /** `model.progressive`. */
  progressive: Progressive;
  /** `model.progressive_input`. */
  progressiveInput: ProgressiveInput;
  /** `model.progressive_combine`. */
  progressiveCombine: ProgressiveCombine;
  /** `model.embedding_type`: sinusoidal embedding of t, or Gaussian Fourier features of log σ. */
  embeddingType: EmbeddingType;
  /** `model.fourier_scale`: standard deviation s of the Gaussian Fourier frequencies $W \sim \mathcal{N}(0, s^2)$. */
  fourierScale: number;
  /** `model.init_scale`: scale of the zero-ish init of the last convolution of each block (0 ↦ 1e−10). */
  initScale: number;
  /**
   * `model.sigma_min`: smallest σ of the discrete σ table (`sigmas` buffer, used by scale_by_sigma with positional
   * embedding).
   */
  sigmaMin: number;
  /** `model.sigma_max`: largest σ of the discrete σ table. */
  sigmaMax: number;
  /** `model.num_scales`: length of the discrete σ table. */
  numScales: number;
  /**
   * Number K of classes for class conditioning (not in the reference; 0 = unconditional). A class-conditional
   * model takes labels in $\lbrace 0, \dots, K \rbrace$, where K itself is the null class used by
   * classifier-free guidance (Ho & Salimans 2022).
   */
  numClasses: number;
}

/** Number L of levels of the U-Net (`ch_mult.length`); inputs must have H and W divisible by $2^{L-1}$. */
export function numLevels(config: UNetConfig): number {
  return config.chMult.length;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): void {
  if (!allowed.includes(value as T)) {
    throw new SbmArgumentError(name, `expected one of ${allowed.join(', ')}, got ${String(value)}`);
  }
}

function positiveInt(name: string, value: unknown, min = 1): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new SbmArgumentError(name, `expected an integer >= ${min}, got ${String(value)}`);
  }
}

function bool(name: string, value: unknown): void {
  if (typeof value !== 'boolean')
    throw new SbmArgumentError(name, `expected a boolean, got ${String(value)}`);
}

function finite(name: string, value: unknown, positive: boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || (positive ? value <= 0 : value < 0)) {
    throw new SbmArgumentError(
      name,
      `expected a finite number ${positive ? '> 0' : '>= 0'}, got ${String(value)}`,
    );
  }
}

/**
 * Checks every field of a {@link UNetConfig} and the constraints of the reference code (group counts,
 * spatial divisibility, Fourier embedding only for continuous σ, DDPM options).
 *
 * @throws SbmArgumentError naming the offending field, e.g. `config.chMult`.
 */
export function validateUNetConfig(config: UNetConfig): void {
  const c = config;
  oneOf('config.architecture', c.architecture, ['ddpm', 'ncsnpp'] as const);
  positiveInt('config.imageSize', c.imageSize);
  positiveInt('config.numChannels', c.numChannels);
  bool('config.centered', c.centered);
  positiveInt('config.nf', c.nf);
  if (!Array.isArray(c.chMult) || c.chMult.length === 0) {
    throw new SbmArgumentError(
      'config.chMult',
      `expected a non-empty array of integers, got ${String(c.chMult)}`,
    );
  }
  c.chMult.forEach((m, i) => {
    positiveInt(`config.chMult[${i}]`, m);
  });
  positiveInt('config.numResBlocks', c.numResBlocks);
  if (!Array.isArray(c.attnResolutions)) {
    throw new SbmArgumentError('config.attnResolutions', 'expected an array of spatial sizes');
  }
  c.attnResolutions.forEach((r, i) => {
    positiveInt(`config.attnResolutions[${i}]`, r);
  });
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) {
    throw new SbmArgumentError('config.dropout', `expected a rate in [0, 1), got ${String(c.dropout)}`);
  }
  bool('config.resampWithConv', c.resampWithConv);
  bool('config.conditional', c.conditional);
  oneOf('config.nonlinearity', c.nonlinearity, ['swish', 'relu', 'elu', 'lrelu'] as const);
  bool('config.scaleBySigma', c.scaleBySigma);
  bool('config.fir', c.fir);
  if (!Array.isArray(c.firKernel) || c.firKernel.length < 2 || c.firKernel.some((k) => !Number.isFinite(k))) {
    throw new SbmArgumentError('config.firKernel', 'expected an array of at least 2 finite numbers');
  }
  bool('config.skipRescale', c.skipRescale);
  oneOf('config.resblockType', c.resblockType, ['ddpm', 'biggan'] as const);
  oneOf('config.progressive', c.progressive, ['none', 'output_skip', 'residual'] as const);
  oneOf('config.progressiveInput', c.progressiveInput, ['none', 'input_skip', 'residual'] as const);
  oneOf('config.progressiveCombine', c.progressiveCombine, ['sum', 'cat'] as const);
  oneOf('config.embeddingType', c.embeddingType, ['positional', 'fourier'] as const);
  finite('config.fourierScale', c.fourierScale, true);
  finite('config.initScale', c.initScale, false);
  finite('config.sigmaMin', c.sigmaMin, true);
  finite('config.sigmaMax', c.sigmaMax, true);
  positiveInt('config.numScales', c.numScales, 2);
  positiveInt('config.numClasses', c.numClasses, 0);
  if (c.embeddingType === 'fourier' && !c.conditional) {
    throw new SbmArgumentError(
      'config.conditional',
      'an unconditional network with Fourier embedding is not supported (the reference keeps an unused Fourier layer as all_modules.0)',
    );
  }
  if (c.numClasses > 0 && !c.conditional) {
    throw new SbmArgumentError(
      'config.numClasses',
      'class conditioning needs a time embedding: set conditional to true',
    );
  }
  const levels = numLevels(c);
  if (c.imageSize % 2 ** (levels - 1) !== 0) {
    throw new SbmArgumentError(
      'config.imageSize',
      `expected a multiple of 2^(levels − 1) = ${2 ** (levels - 1)} for ${levels} levels, got ${c.imageSize}`,
    );
  }
  // Group norms use min(C/4, 32) groups (NCSN++) or 32 groups (DDPM): every channel count must split evenly.
  for (const m of [1, ...c.chMult]) {
    const ch = c.nf * m;
    const groups = c.architecture === 'ddpm' ? 32 : Math.min(Math.floor(ch / 4), 32);
    if (groups < 1 || ch % groups !== 0) {
      throw new SbmArgumentError(
        'config.nf',
        `channel count ${ch} (nf·${m}) cannot be split into ${groups} groups of GroupNorm; ` +
          (c.architecture === 'ddpm' ? 'DDPM needs multiples of 32' : 'NCSN++ needs multiples of 4'),
      );
    }
  }
  if (c.architecture === 'ddpm') {
    if (c.embeddingType !== 'positional') {
      throw new SbmArgumentError(
        'config.embeddingType',
        "the DDPM architecture only has 'positional' embeddings",
      );
    }
    if (c.fir || c.progressive !== 'none' || c.progressiveInput !== 'none' || c.resblockType !== 'ddpm') {
      throw new SbmArgumentError(
        'config.architecture',
        "'ddpm' has no FIR, progressive paths or BigGAN blocks; use architecture 'ncsnpp' for those",
      );
    }
  }
}

/** Options of the reference `default_cifar10_configs.py` that every preset starts from. */
export const DEFAULT_UNET_CONFIG: UNetConfig = {
  architecture: 'ncsnpp',
  imageSize: 32,
  numChannels: 3,
  centered: false,
  nf: 128,
  chMult: [1, 2, 2, 2],
  numResBlocks: 4,
  attnResolutions: [16],
  dropout: 0.1,
  resampWithConv: true,
  conditional: true,
  nonlinearity: 'swish',
  scaleBySigma: false,
  fir: false,
  firKernel: [1, 3, 3, 1],
  skipRescale: true,
  resblockType: 'biggan',
  progressive: 'none',
  progressiveInput: 'none',
  progressiveCombine: 'sum',
  embeddingType: 'fourier',
  fourierScale: 16,
  initScale: 0,
  sigmaMin: 0.01,
  sigmaMax: 50,
  numScales: 1000,
  numClasses: 0,
};

/**
 * The discrete σ table of the reference (`utils.get_sigmas`, the `sigmas` buffer), geometric and decreasing from
 * $\sigma_{\max}$ to $\sigma_{\min}$ in N = `numScales` steps:
 *
 * $$\sigma_i = \exp\Big(\log\sigma_{\max} + \frac{i}{N - 1}\,(\log\sigma_{\min} - \log\sigma_{\max})\Big),$$
 *
 * for $i = 0, \dots, N - 1$, as float64 numbers.
 */
export function referenceSigmas(config: Pick<UNetConfig, 'sigmaMin' | 'sigmaMax' | 'numScales'>): number[] {
  const a = Math.log(config.sigmaMax);
  const b = Math.log(config.sigmaMin);
  const n = config.numScales;
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}
