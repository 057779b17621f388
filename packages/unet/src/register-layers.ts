import * as tf from '@tensorflow/tfjs-core';
import { AttnBlock } from './attention.js';
import { Combine, SkipAdd } from './combine.js';
import { Conv2d, Dense, GroupNorm } from './primitive-layers.js';
import { Downsample, Upsample } from './resample.js';
import { ResnetBlockBigGAN, ResnetBlockDDPM } from './resnet-block.js';
import { CenterInput, ScaleBySigma } from './scaling-layers.js';
import { ClassEmbedding, GaussianFourierProjection, PositionalEmbedding } from './time-embedding.js';

/**
 * Every custom layer class of @sbm/unet. Their class names carry the `sbm>` namespace (`sbm>GroupNorm`, …),
 * which is also what saved models record, so they never collide with tfjs's own layers (e.g. `Dense`).
 */
export const SBM_LAYER_CLASSES = [
  AttnBlock,
  CenterInput,
  ClassEmbedding,
  Combine,
  Conv2d,
  Dense,
  Downsample,
  GaussianFourierProjection,
  GroupNorm,
  PositionalEmbedding,
  ResnetBlockBigGAN,
  ResnetBlockDDPM,
  ScaleBySigma,
  SkipAdd,
  Upsample,
] as const;

let registered = false;

/**
 * Registers the sbm layers with `tf.serialization.registerClass` under the `sbm` namespace so that
 * `tf.loadLayersModel` can rebuild saved networks. Idempotent; called by `createUNet` and `loadUNet`.
 */
export function registerUNetLayers(): void {
  if (registered) return;
  for (const cls of SBM_LAYER_CLASSES)
    tf.serialization.registerClass(cls, 'sbm', cls.className.slice('sbm>'.length));
  registered = true;
}
