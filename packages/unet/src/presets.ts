import { SbmArgumentError } from '@sbm/sde';
import { DEFAULT_UNET_CONFIG, type UNetConfig, validateUNetConfig } from './config.js';

/** DDPM++ cont. (`vp/cifar10_ddpmpp_continuous.py`): BigGAN blocks, positional embedding, centered data. */
const ddpmppContinuous: Partial<UNetConfig> = {
  centered: true,
  scaleBySigma: false,
  embeddingType: 'positional',
  fir: false,
  progressive: 'none',
  progressiveInput: 'none',
  progressiveCombine: 'sum',
};

/** NCSN++ cont. as trained with the VP/sub-VP SDE (`vp/cifar10_ncsnpp_continuous.py`). */
const vpNcsnppContinuous: Partial<UNetConfig> = {
  centered: true,
  scaleBySigma: false,
  embeddingType: 'positional',
  fir: true,
  progressive: 'none',
  progressiveInput: 'residual',
  progressiveCombine: 'sum',
};

/** NCSN++ cont. with the VE SDE (`ve/cifar10_ncsnpp_continuous.py`): Fourier features of σ, output divided by σ. */
const veNcsnppContinuous: Partial<UNetConfig> = {
  centered: false,
  scaleBySigma: true,
  embeddingType: 'fourier',
  fir: true,
  progressive: 'none',
  progressiveInput: 'residual',
  progressiveCombine: 'sum',
};

/** DDPM (`vp/ddpm/cifar10_continuous.py`): Ho et al.'s U-Net. */
const ddpmContinuous: Partial<UNetConfig> = {
  architecture: 'ddpm',
  centered: true,
  scaleBySigma: false,
  embeddingType: 'positional',
  numResBlocks: 2,
  resblockType: 'ddpm',
  skipRescale: false,
  fir: false,
};

const deep: Partial<UNetConfig> = { numResBlocks: 8 };

/** The small CPU sizes of the score-sde fixtures: 16×16, nf 32, ch_mult (1, 2), one block per level, attention at 8. */
const small: Partial<UNetConfig> = {
  imageSize: 16,
  nf: 32,
  chMult: [1, 2],
  numResBlocks: 1,
  attnResolutions: [8],
  dropout: 0,
};

/** A tiny size for unit tests: 8×8, nf 16, ch_mult (1, 2), one block per level, attention at 4. */
const tiny: Partial<UNetConfig> = {
  imageSize: 8,
  nf: 16,
  chMult: [1, 2],
  numResBlocks: 1,
  attnResolutions: [4],
  dropout: 0,
};

const PRESETS: Record<string, Partial<UNetConfig>> = {
  'vp/cifar10_ddpmpp_continuous': ddpmppContinuous,
  'vp/cifar10_ddpmpp_deep_continuous': { ...ddpmppContinuous, ...deep },
  'subvp/cifar10_ddpmpp_continuous': ddpmppContinuous,
  'subvp/cifar10_ddpmpp_deep_continuous': { ...ddpmppContinuous, ...deep },
  'vp/cifar10_ncsnpp_continuous': vpNcsnppContinuous,
  'vp/cifar10_ncsnpp_deep_continuous': { ...vpNcsnppContinuous, ...deep },
  'subvp/cifar10_ncsnpp_continuous': vpNcsnppContinuous,
  'subvp/cifar10_ncsnpp_deep_continuous': { ...vpNcsnppContinuous, ...deep },
  've/cifar10_ncsnpp_continuous': veNcsnppContinuous,
  've/cifar10_ncsnpp_deep_continuous': { ...veNcsnppContinuous, ...deep },
  'vp/ddpm/cifar10_continuous': ddpmContinuous,
  'small/ddpmpp': { ...ddpmppContinuous, ...small },
  'small/ncsnpp': { ...veNcsnppContinuous, ...small },
  'small/ddpm': { ...ddpmContinuous, ...small },
  'tiny/ddpmpp': { ...ddpmppContinuous, ...tiny },
  'tiny/ncsnpp': { ...veNcsnppContinuous, ...tiny },
  // DDPM's GroupNorm has 32 groups, so its smallest width is nf = 32.
  'tiny/ddpm': { ...ddpmContinuous, ...tiny, nf: 32 },
};

/**
 * Names of the built-in presets: the score_sde CIFAR-10 configs (`vp/…`, `subvp/…`, `ve/…`, named like their
 * files in `configs/`; sub-VP networks equal the VP ones) and small CPU sizes (`small/…` = the fixtures' 16×16
 * overrides, `tiny/…` = 8×8 for unit tests).
 */
export const UNET_PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/**
 * The {@link UNetConfig} of a preset, with `overrides` applied on top (like the reference's config overrides).
 *
 * @example
 * ```ts
 * const config = unetPreset('vp/cifar10_ddpmpp_continuous', { imageSize: 16, nf: 32 });
 * ```
 * @throws SbmArgumentError for an unknown preset or an invalid result.
 */
export function unetPreset(name: string, overrides: Partial<UNetConfig> = {}): UNetConfig {
  const preset = PRESETS[name];
  if (preset === undefined) {
    throw new SbmArgumentError(
      'name',
      `unknown preset '${name}'; expected one of ${UNET_PRESET_NAMES.join(', ')}`,
    );
  }
  const config: UNetConfig = { ...DEFAULT_UNET_CONFIG, ...preset, ...overrides };
  validateUNetConfig(config);
  return config;
}
