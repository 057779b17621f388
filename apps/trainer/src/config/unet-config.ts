import { SbmArgumentError } from '@sbm/sde';
import { type UNetConfig, unetPreset } from '@sbm/unet';
import { ConfigError } from './config-error.js';
import type { TrainerConfig } from './schema.js';

/** Where each field of `UNetConfig` comes from in the trainer config (all others: `model.<field>`). */
const UNET_FIELD_SOURCES: Partial<Record<keyof UNetConfig, string>> = {
  imageSize: 'data.resolution',
  numChannels: 'data.channels',
  centered: 'data.centered',
  numClasses: 'data.numClasses',
  sigmaMin: 'sde.sigmaMin',
  sigmaMax: 'sde.sigmaMax',
  numScales: 'sde.numScales',
};

const MODEL_FIELDS = [
  'architecture',
  'nf',
  'chMult',
  'numResBlocks',
  'attnResolutions',
  'dropout',
  'resampWithConv',
  'conditional',
  'nonlinearity',
  'scaleBySigma',
  'fir',
  'firKernel',
  'skipRescale',
  'resblockType',
  'progressive',
  'progressiveInput',
  'progressiveCombine',
  'embeddingType',
  'fourierScale',
  'initScale',
] as const satisfies readonly (keyof UNetConfig)[];

/** The trainer-config key of a `UNetConfig` argument name such as `config.chMult[1]` (→ `model.chMult[1]`). */
export function trainerKeyOfUNetField(argument: string): string {
  const match = /^config\.([A-Za-z]+)(.*)$/.exec(argument);
  if (match === null) return `model (${argument})`;
  const field = match[1] as keyof UNetConfig;
  return `${UNET_FIELD_SOURCES[field] ?? `model.${field}`}${match[2]}`;
}

/**
 * The `@sbm/unet` network config of a trainer config: `unetPreset(model.preset)` with the `model.*` overrides,
 * and resolution, channels, centering, classes (from `data`) and the σ table (from `sde`, score_sde's
 * `model.sigma_min/sigma_max/num_scales`) filled in. Validated by `@sbm/unet`.
 *
 * @throws ConfigError naming the trainer key (e.g. `data.resolution`) when the network is not valid, or
 * `model.kind` when the model is not a U-Net.
 */
export function resolveUNetConfig(config: TrainerConfig): UNetConfig {
  const { model, data, sde } = config;
  if (model.kind !== 'unet') {
    throw new ConfigError([`model.kind: expected 'unet' for a U-Net config, got '${model.kind}'`]);
  }
  if (data.dataset === 'toy') {
    throw new ConfigError(["data.dataset: expected an image dataset for a U-Net, got 'toy'"]);
  }
  const overrides: Partial<UNetConfig> = {
    imageSize: data.resolution,
    numChannels: data.channels,
    centered: data.centered,
    numClasses: data.numClasses,
    sigmaMin: sde.sigmaMin,
    sigmaMax: sde.sigmaMax,
    numScales: sde.numScales,
  };
  const target = overrides as Record<string, unknown>;
  for (const field of MODEL_FIELDS) {
    if (model[field] !== undefined) target[field] = model[field];
  }
  try {
    return unetPreset(model.preset, overrides);
  } catch (error) {
    if (error instanceof SbmArgumentError) {
      const detail = error.message.startsWith(`${error.argument}: `)
        ? error.message.slice(error.argument.length + 2)
        : error.message;
      const key = error.argument === 'name' ? 'model.preset' : trainerKeyOfUNetField(error.argument);
      throw new ConfigError([`${key}: ${detail}`]);
    }
    throw error;
  }
}
