import { describe, expect, it } from 'vitest';
import { resolveModelIO } from './model-io.js';
import { trainerPreset } from './presets.js';
import { trainerConfigSchema } from './schema.js';

const parse = (name: string) => trainerConfigSchema.parse(trainerPreset(name));

describe('resolveModelIO', () => {
  it("defaults as score_sde's get_score_fn: ε and 999·t for VP/sub-VP, score and σ for VE", () => {
    expect(resolveModelIO(parse('vp/cifar10_ddpmpp_continuous'))).toEqual({
      prediction: 'eps',
      timeInput: 'index',
    });
    expect(resolveModelIO(parse('subvp/cifar10_ddpmpp_continuous'))).toEqual({
      prediction: 'eps',
      timeInput: 'index',
    });
    expect(resolveModelIO(parse('ve/cifar10_ncsnpp_continuous'))).toEqual({
      prediction: 'score',
      timeInput: 'sigma',
    });
  });
  it('keeps explicit settings', () => {
    const config = parse('vp/cifar10_ddpmpp_continuous');
    expect(
      resolveModelIO({ ...config, model: { ...config.model, prediction: 'v', timeInput: 'continuous' } }),
    ).toEqual({
      prediction: 'v',
      timeInput: 'continuous',
    });
  });
});
