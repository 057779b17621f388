import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load.js';
import { resolveMlpConfig } from './mlp-config.js';

describe('resolveMlpConfig', () => {
  it('maps model.hidden/layers/timeEmbeddingDim and data.numClasses; the toy data are 2-D', async () => {
    const config = await loadConfig({ preset: 'toy/mixture', set: ['model.hidden=64', 'data.numClasses=8'] });
    expect(resolveMlpConfig(config)).toEqual({
      dim: 2,
      hidden: 64,
      layers: 3,
      timeEmbeddingDim: 32,
      numClasses: 8,
    });
  });

  it('names the config key of what cannot be built (also through loadConfig / validateConfig)', async () => {
    const problems = async (...set: string[]) => {
      const error = await loadConfig({ preset: 'toy/mixture', set }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    };
    expect(await problems('model.timeEmbeddingDim=5')).toEqual([
      'model.timeEmbeddingDim: expected an even integer >= 4, got 5',
    ]);
    expect((await problems('data.numClasses=3'))[0]).toMatch(
      /^data\.numClasses: expected 0 \(unconditional\) or data\.components \(8\)/,
    );
    expect((await problems('sde.kind=ve', 'model.prediction=score', 'model.timeInput=sigma'))[0]).toMatch(
      /^sde\.kind: expected 'vp' or 'subvp' for model\.kind 'mlp'/,
    );
    const unet = await loadConfig({ preset: 'mnist/small' });
    expect(() => resolveMlpConfig(unet)).toThrow(/model\.kind: expected 'mlp' for an MLP config, got 'unet'/);
  });
});
