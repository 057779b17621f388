import { describe, expect, it } from 'vitest';
import { referenceSigmas, validateUNetConfig } from './config.js';
import { UNET_PRESET_NAMES, unetPreset } from './presets.js';
import { catchArgumentError } from './reference-fixtures.testing.js';
import { referenceOverrides } from './reference-overrides.js';

const expectArgError = (f: () => unknown, argument: string) => {
  expect(catchArgumentError(f).argument).toBe(argument);
};

describe('presets', () => {
  it('are valid and follow the reference configs', () => {
    for (const name of UNET_PRESET_NAMES) expect(() => unetPreset(name)).not.toThrow();
    const ve = unetPreset('ve/cifar10_ncsnpp_continuous');
    expect([ve.embeddingType, ve.scaleBySigma, ve.centered, ve.fir, ve.progressiveInput]).toEqual([
      'fourier',
      true,
      false,
      true,
      'residual',
    ]);
    const ddpmpp = unetPreset('vp/cifar10_ddpmpp_deep_continuous');
    expect([ddpmpp.numResBlocks, ddpmpp.embeddingType, ddpmpp.resblockType, ddpmpp.fir]).toEqual([
      8,
      'positional',
      'biggan',
      false,
    ]);
    expect(unetPreset('vp/ddpm/cifar10_continuous').architecture).toBe('ddpm');
  });

  it('apply overrides and reject unknown names', () => {
    expect(unetPreset('small/ddpmpp', { nf: 64 }).nf).toBe(64);
    expectArgError(() => unetPreset('vp/nope'), 'name');
  });
});

describe('validateUNetConfig', () => {
  const base = unetPreset('tiny/ddpmpp');
  it.each([
    [{ chMult: [] }, 'config.chMult'],
    [{ nf: 18 }, 'config.nf'],
    [{ imageSize: 10, chMult: [1, 2, 2] }, 'config.imageSize'],
    [{ progressive: 'skip' }, 'config.progressive'],
    [{ dropout: 1 }, 'config.dropout'],
    [{ numClasses: 10, conditional: false }, 'config.numClasses'],
    [{ embeddingType: 'fourier', conditional: false }, 'config.conditional'],
    [{ architecture: 'ddpm', nf: 16 }, 'config.nf'],
    [{ architecture: 'ddpm', nf: 32 }, 'config.architecture'],
  ] as [Record<string, unknown>, string][])('rejects %j naming %s', (change, argument) => {
    expectArgError(() => validateUNetConfig({ ...base, ...change } as never), argument);
  });
});

describe('referenceSigmas', () => {
  it('is the geometric σ table from σ_max down to σ_min', () => {
    const s = referenceSigmas({ sigmaMin: 0.01, sigmaMax: 50, numScales: 5 });
    expect(s[0]).toBeCloseTo(50, 12);
    expect(s[4]).toBeCloseTo(0.01, 14);
    for (let i = 1; i < 5; i++) expect(s[i]! / s[i - 1]!).toBeCloseTo((0.01 / 50) ** (1 / 4), 12);
  });
});

describe('referenceOverrides', () => {
  it('maps score_sde config keys to config fields', () => {
    expect(
      referenceOverrides({
        'data.image_size': 16,
        'model.nf': 32,
        'model.resblock_type': 'BigGAN',
        numClasses: 2,
      }),
    ).toEqual({ imageSize: 16, nf: 32, resblockType: 'biggan', numClasses: 2 });
    expectArgError(
      () => referenceOverrides({ 'model.normalization': 'GroupNorm' }),
      "overrides['model.normalization']",
    );
  });
});
