import { SbmArgumentError } from '@sbm/sde';
import type { UNetConfig } from './config.js';

const REFERENCE_FIELDS: Record<string, keyof UNetConfig> = {
  'model.name': 'architecture',
  'data.image_size': 'imageSize',
  'data.num_channels': 'numChannels',
  'data.centered': 'centered',
  'model.nf': 'nf',
  'model.ch_mult': 'chMult',
  'model.num_res_blocks': 'numResBlocks',
  'model.attn_resolutions': 'attnResolutions',
  'model.dropout': 'dropout',
  'model.resamp_with_conv': 'resampWithConv',
  'model.conditional': 'conditional',
  'model.nonlinearity': 'nonlinearity',
  'model.scale_by_sigma': 'scaleBySigma',
  'model.fir': 'fir',
  'model.fir_kernel': 'firKernel',
  'model.skip_rescale': 'skipRescale',
  'model.resblock_type': 'resblockType',
  'model.progressive': 'progressive',
  'model.progressive_input': 'progressiveInput',
  'model.progressive_combine': 'progressiveCombine',
  'model.embedding_type': 'embeddingType',
  'model.fourier_scale': 'fourierScale',
  'model.init_scale': 'initScale',
  'model.sigma_min': 'sigmaMin',
  'model.sigma_max': 'sigmaMax',
  'model.num_scales': 'numScales',
};

/**
 * Translates score_sde config overrides (`{'data.image_size': 16, 'model.nf': 32, …}`) into {@link UNetConfig}
 * fields. Keys without a dot are taken as {@link UNetConfig} field names. String values are lower-cased like
 * the reference does (`'GroupNorm'`-style case differences do not matter).
 *
 * @throws SbmArgumentError naming an unknown key.
 */
export function referenceOverrides(overrides: Record<string, unknown>): Partial<UNetConfig> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    const field = key.includes('.') ? REFERENCE_FIELDS[key] : (key as keyof UNetConfig);
    if (field === undefined) {
      throw new SbmArgumentError(
        `overrides['${key}']`,
        `not a network option; expected one of ${Object.keys(REFERENCE_FIELDS).join(', ')}`,
      );
    }
    out[field] = typeof value === 'string' ? value.toLowerCase() : value;
  }
  return out as Partial<UNetConfig>;
}
