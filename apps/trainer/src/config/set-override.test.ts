import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { trainerPreset } from './presets.js';
import { applySetOverride, parseSetOverride } from './set-override.js';

describe('parseSetOverride', () => {
  it('splits the dotted key and parses the value as YAML', () => {
    expect(parseSetOverride('optim.lr=1e-3')).toMatchObject({ path: ['optim', 'lr'], value: 0.001 });
    expect(parseSetOverride('model.chMult=[1, 2, 2]').value).toEqual([1, 2, 2]);
    expect(parseSetOverride('training.continuous=false').value).toBe(false);
    expect(parseSetOverride('optim.gradClip=null').value).toBeNull();
    expect(parseSetOverride('sampling.predictor=eulerMaruyama').value).toBe('eulerMaruyama');
    expect(parseSetOverride('data.path=a=b').value).toBe('a=b');
  });
  it('rejects arguments without a key, a value or an =', () => {
    expect(() => parseSetOverride('optim.lr')).toThrow(/expected key=value/);
    expect(() => parseSetOverride('=1')).toThrow(/expected a dotted key/);
    expect(() => parseSetOverride('optim..lr=1')).toThrow(/expected a dotted key/);
    expect(() => parseSetOverride('optim.lr=')).toThrow(/expected a value after '='/);
    expect(() => parseSetOverride('model.chMult=[1, 2')).toThrow(ConfigError);
  });
});

describe('applySetOverride', () => {
  const preset = trainerPreset('vp/cifar10_ddpmpp_continuous');
  it('sets a value without modifying the input', () => {
    const out = applySetOverride(preset, parseSetOverride('optim.lr=1e-3'));
    expect((out.optim as { lr: number }).lr).toBe(1e-3);
    expect(preset.optim?.lr).toBe(2e-4);
  });
  it('creates a section that the raw config omits', () => {
    const out = applySetOverride(
      { model: { kind: 'unet', preset: 'small/ddpm' } },
      parseSetOverride('optim.lr=1'),
    );
    expect(out.optim).toEqual({ lr: 1 });
  });
  it('resets a union section when its discriminator changes, not when it is set to the same value', () => {
    expect(applySetOverride(preset, parseSetOverride('sampling.sampler=ddim')).sampling).toEqual({
      sampler: 'ddim',
    });
    expect(applySetOverride(preset, parseSetOverride('sampling.sampler=pc')).sampling).toEqual(
      preset.sampling,
    );
  });
  it('names unknown keys with the nearest valid ones', () => {
    expect(() => applySetOverride(preset, parseSetOverride('sde.betamin=0.2'))).toThrow(
      /sde\.betamin: unknown key \(from --set sde\.betamin=0\.2\); did you mean sde\.betaMin/,
    );
    expect(() => applySetOverride(preset, parseSetOverride('sampling.eta=1'))).toThrow(
      /sampling\.eta: unknown key .*valid keys of sampling: sampler, numSamples/,
    );
  });
});
