import { unetPreset } from '@sbm/unet';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { trainerPreset } from './presets.js';
import { trainerConfigSchema } from './schema.js';
import { resolveUNetConfig, trainerKeyOfUNetField } from './unet-config.js';

describe('resolveUNetConfig', () => {
  it('is the @sbm/unet preset with data, σ table and model overrides applied', () => {
    const raw = trainerPreset('vp/cifar10_ddpmpp_continuous');
    const config = trainerConfigSchema.parse({
      ...raw,
      data: { ...raw.data, resolution: 16, channels: 1, numClasses: 10 },
      sde: { ...raw.sde, sigmaMax: 80 },
      model: { ...raw.model, nf: 32, chMult: [1, 2] },
    });
    expect(resolveUNetConfig(config)).toEqual(
      unetPreset('vp/cifar10_ddpmpp_continuous', {
        imageSize: 16,
        numChannels: 1,
        numClasses: 10,
        centered: true,
        sigmaMin: 0.01,
        sigmaMax: 80,
        numScales: 1000,
        nf: 32,
        chMult: [1, 2],
      }),
    );
  });
  it('reports @sbm/unet errors under the trainer key', () => {
    const raw = trainerPreset('vp/ddpm/cifar10_continuous');
    const config = trainerConfigSchema.parse({ ...raw, model: { ...raw.model, nf: 48 } });
    expect(() => resolveUNetConfig(config)).toThrow(ConfigError);
    expect(() => resolveUNetConfig(config)).toThrow(
      /model\.nf: channel count 48 .*DDPM needs multiples of 32/,
    );
  });
  it('maps UNetConfig argument names to trainer keys', () => {
    expect(trainerKeyOfUNetField('config.imageSize')).toBe('data.resolution');
    expect(trainerKeyOfUNetField('config.chMult[1]')).toBe('model.chMult[1]');
    expect(trainerKeyOfUNetField('config.numScales')).toBe('sde.numScales');
  });
});
