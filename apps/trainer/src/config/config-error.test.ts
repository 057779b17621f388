import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';

describe('ConfigError', () => {
  it('lists every problem under a heading that names the source', () => {
    const error = new ConfigError(
      ['optim.lr: expected a positive number, got -1', 'seed: expected x'],
      'preset p',
    );
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toHaveLength(2);
    expect(error.message).toBe(
      'invalid trainer config (preset p):\n  optim.lr: expected a positive number, got -1\n  seed: expected x',
    );
    expect(new ConfigError(['a: b']).message).toBe('invalid trainer config:\n  a: b');
  });
});
