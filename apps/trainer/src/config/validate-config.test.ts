import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { trainerPreset } from './presets.js';
import { validateConfig } from './validate-config.js';

describe('validateConfig', () => {
  it('returns the config with defaults filled in', () => {
    const config = validateConfig({ ...trainerPreset('mnist/small'), eval: undefined });
    expect(config.eval.batchSize).toBe(1024);
  });
  it('collects schema problems with the source in the message', () => {
    const raw = { ...trainerPreset('mnist/small'), seed: -1, backend: 'gpu' };
    const error = (() => {
      try {
        validateConfig(raw, 'file a.yaml');
      } catch (e) {
        return e;
      }
    })() as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.problems).toEqual([
      'seed: expected a non-negative integer, got -1',
      "backend: expected one of 'auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu', got \"gpu\"",
    ]);
    expect(error.message).toMatch(/^invalid trainer config \(file a\.yaml\):/);
  });
  it('checks the U-Net with @sbm/unet and names the trainer key', () => {
    const raw = trainerPreset('mnist/small');
    expect(() => validateConfig({ ...raw, model: { ...raw.model, nf: 30 } })).toThrow(
      /model\.nf: channel count 30/,
    );
  });
});
