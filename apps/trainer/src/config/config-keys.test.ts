import { describe, expect, it } from 'vitest';
import { discriminatorAt, resolveKeyPath, validKeysAt } from './config-keys.js';
import { trainerPreset } from './presets.js';

const cifar = trainerPreset('vp/cifar10_ddpmpp_continuous');

describe('resolveKeyPath', () => {
  it('lists the top-level sections and the keys of a section', () => {
    expect(validKeysAt([], cifar)).toEqual([
      'name',
      'data',
      'model',
      'sde',
      'training',
      'optim',
      'sampling',
      'eval',
      'guidance',
      'seed',
      'backend',
    ]);
    expect(validKeysAt(['optim'], cifar)).toEqual([
      'optimizer',
      'lr',
      'beta1',
      'beta2',
      'eps',
      'warmup',
      'gradClip',
      'weightDecay',
    ]);
  });
  it('follows the selected option of a discriminated union', () => {
    expect(validKeysAt(['sampling'], cifar)).toContain('predictor');
    expect(validKeysAt(['sampling'], trainerPreset('mnist/small'))).toContain('variant');
    expect(validKeysAt(['model'], trainerPreset('toy/mixture'))).toContain('hidden');
    expect(validKeysAt(['model'], cifar)).toContain('chMult');
  });
  it('tells values from sections and says where a path leaves the schema', () => {
    expect(resolveKeyPath(['optim', 'lr'], cifar)).toEqual({ kind: 'value' });
    expect(resolveKeyPath(['model', 'chMult'], cifar)).toEqual({ kind: 'value' });
    expect(resolveKeyPath(['optim', 'lrr'], cifar)).toMatchObject({ kind: 'unknown', at: 1 });
    expect(resolveKeyPath(['optim', 'lr', 'x'], cifar)).toEqual({ kind: 'unknown', at: 2, validKeys: [] });
  });
  it('names the discriminator of union sections only', () => {
    expect(discriminatorAt(['data'], cifar)).toBe('dataset');
    expect(discriminatorAt(['model'], cifar)).toBe('kind');
    expect(discriminatorAt(['sampling'], cifar)).toBe('sampler');
    expect(discriminatorAt(['optim'], cifar)).toBeUndefined();
    expect(discriminatorAt([], cifar)).toBeUndefined();
  });
});
