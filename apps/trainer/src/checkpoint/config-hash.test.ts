import { describe, expect, it } from 'vitest';
import { canonicalJson, configHash } from './config-hash.js';

describe('configHash', () => {
  it('ignores key order at every level and changes with any value', () => {
    const a = { model: { nf: 32, chMult: [1, 2] }, optim: { lr: 2e-4, warmup: 5000 } };
    const b = { optim: { warmup: 5000, lr: 2e-4 }, model: { chMult: [1, 2], nf: 32 } };
    expect(canonicalJson(b)).toBe('{"model":{"chMult":[1,2],"nf":32},"optim":{"lr":0.0002,"warmup":5000}}');
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(configHash({ ...a, optim: { lr: 1e-4, warmup: 5000 } })).not.toBe(configHash(a));
    expect(configHash({ model: { nf: 32, chMult: [2, 1] }, optim: a.optim })).not.toBe(configHash(a));
  });
});
