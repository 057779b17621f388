import { describe, expect, it } from 'vitest';
import { LinearBetaSDE } from './linear-beta-sde.js';
import { SubVPSDE } from './subvp-sde.js';
import { VESDE } from './ve-sde.js';
import { VPSDE } from './vp-sde.js';

describe('LinearBetaSDE', () => {
  it('is the common base of VP and sub-VP (not VE), with β(t) linear and ∫₀ᵗ β = −2 log α(t)', () => {
    const vp = new VPSDE({ betaMin: 0.3, betaMax: 12, N: 100 });
    const sub = new SubVPSDE({ betaMin: 0.3, betaMax: 12, N: 100 });
    expect(vp).toBeInstanceOf(LinearBetaSDE);
    expect(sub).toBeInstanceOf(LinearBetaSDE);
    expect(new VESDE()).not.toBeInstanceOf(LinearBetaSDE);
    for (const sde of [vp, sub]) {
      expect(sde.beta(0)).toBe(0.3);
      expect(sde.beta(1)).toBe(12);
      // Trapezoid rule is exact for the linear β.
      for (const t of [0.2, 0.7])
        expect(-2 * sde.logMeanCoeff(t)).toBeCloseTo((t * (0.3 + sde.beta(t))) / 2, 12);
      expect(sde.priorStd).toBe(1);
    }
  });

  it('validates its options for both subclasses', () => {
    expect(() => new SubVPSDE({ betaMin: -1 })).toThrow(/^options.betaMin: expected a number >= 0/);
    expect(() => new SubVPSDE({ betaMin: 2, betaMax: 1 })).toThrow(
      /^options.betaMax: expected betaMax > betaMin/,
    );
  });
});
