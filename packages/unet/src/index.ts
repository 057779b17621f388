/**
 * {@include ../README.md#site}
 *
 * @module @sbm/unet
 */
export { type PickleGlobal, TorchCheckpoint, type TorchDType, TorchTensorRef } from '@sbm/pth';
export { AttnBlock, type AttnBlockArgs } from './attention.js';
export { Combine, type CombineArgs, SkipAdd, type SkipAddArgs } from './combine.js';
export {
  type Architecture,
  DEFAULT_UNET_CONFIG,
  type EmbeddingType,
  type Nonlinearity,
  numLevels,
  type Progressive,
  type ProgressiveCombine,
  type ProgressiveInput,
  type ResblockType,
  referenceSigmas,
  type UNetConfig,
  validateUNetConfig,
} from './config.js';
export { SbmLayer, type SbmLayerArgs, type WeightInit, type WeightSpec } from './layer-base.js';
export { groupNorm } from './nn-ops.js';
export { UNET_PRESET_NAMES, unetPreset } from './presets.js';
export {
  Conv2d,
  type Conv2dArgs,
  Dense,
  type DenseArgs,
  GroupNorm,
  type GroupNormArgs,
} from './primitive-layers.js';
export { referenceOverrides } from './reference-overrides.js';
export { registerUNetLayers, SBM_LAYER_CLASSES } from './register-layers.js';
export { Downsample, type ResampleArgs, Upsample } from './resample.js';
export {
  type ResnetBlockArgs,
  ResnetBlockBigGAN,
  type ResnetBlockBigGANArgs,
  ResnetBlockDDPM,
} from './resnet-block.js';
export { CenterInput, ScaleBySigma, type ScaleBySigmaArgs } from './scaling-layers.js';
export {
  importScoreSdeCheckpoint,
  loadScoreSdeCheckpoint,
  type ScoreSdeImportOptions,
  type WeightSource,
} from './score-sde-checkpoint.js';
export {
  ClassEmbedding,
  type ClassEmbeddingArgs,
  GaussianFourierProjection,
  type GaussianFourierProjectionArgs,
  PositionalEmbedding,
  type PositionalEmbeddingArgs,
  positionalEmbedding,
} from './time-embedding.js';
export { countUNetParameters, createUNet, loadUNet, type PredictOptions, UNet } from './unet.js';
export {
  firConvDownsample2d,
  firDownsample2d,
  firUpsample2d,
  firUpsampleConv2d,
  setupFirKernel,
  upfirdn2d,
} from './upfirdn2d.js';
