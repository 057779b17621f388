import { describe, expect, it } from 'vitest';
import { SubVPSDE } from './subvp-sde.js';
import { discreteTimesteps, timeSteps } from './time-steps.js';
import { VESDE } from './ve-sde.js';
import { VPSDE } from './vp-sde.js';

describe('timeSteps', () => {
  it('uniform: n + 1 decreasing points from T to tMin', () => {
    const ts = timeSteps(4, { tMin: 0.2 });
    expect(ts).toHaveLength(5);
    const expected = [1, 0.8, 0.6, 0.4, 0.2];
    for (let i = 0; i < 5; i++) expect(ts[i]).toBeCloseTo(expected[i]!, 15);
  });

  it('quadratic: tMin + (T − tMin)(1 − i/n)², denser near tMin', () => {
    const ts = timeSteps(4, { tMin: 0, spacing: 'quadratic' });
    expect(ts).toEqual([1, 0.5625, 0.25, 0.0625, 0]);
  });

  it.each([
    ['VP', new VPSDE()],
    ['sub-VP', new SubVPSDE()],
    ['VE', new VESDE()],
  ])('logSNR (%s): equal steps in log-SNR between the endpoints', (_name, sde) => {
    const n = 12;
    const ts = timeSteps(n, { spacing: 'logSNR', sde, tMin: 1e-3 });
    expect(ts[0]).toBe(1);
    expect(ts[n]).toBe(1e-3);
    const l = ts.map((t) => sde.logSNR(t));
    const h = (l[n]! - l[0]!) / n;
    expect(h).toBeGreaterThan(0);
    for (let i = 1; i <= n; i++) expect(l[i]! - l[i - 1]!).toBeCloseTo(h, 8);
  });

  it.each([
    ['VP', new VPSDE(), 1e-3],
    ['VE', new VESDE(), 1e-5],
  ])('karras (%s): σ/α at the times follows EDM Eq. 5 between σ̃(T) and σ̃(tMin)', (_name, sde, tMin) => {
    const n = 9;
    for (const rho of [7, 3, 1]) {
      const ts = timeSteps(n, { spacing: 'karras', sde, tMin, rho });
      expect(ts[0]).toBe(1);
      expect(ts[n]).toBe(tMin);
      const scaled = (t: number) => sde.sigma(t) / sde.alpha(t);
      const hi = scaled(1) ** (1 / rho);
      const lo = scaled(tMin) ** (1 / rho);
      for (let i = 0; i <= n; i++) {
        const expected = (hi + (i / n) * (lo - hi)) ** rho;
        expect(Math.abs(scaled(ts[i]!) / expected - 1)).toBeLessThan(1e-9);
      }
    }
    // ρ = 1 is uniform in σ̃; for VE (α = 1) that is uniform in σ.
    if (_name === 'VE') {
      const ts = timeSteps(4, { spacing: 'karras', sde, tMin, rho: 1 });
      const s = ts.map((t) => sde.sigma(t));
      for (let i = 1; i < 4; i++) expect(s[i]! - s[i + 1]!).toBeCloseTo(s[0]! - s[1]!, 8);
    }
    expect(() => timeSteps(3, { spacing: 'karras', sde, tMin, rho: 0 })).toThrow(/^options.rho/);
  });

  it('rejects bad arguments by name', () => {
    expect(() => timeSteps(0)).toThrow(/^n: expected an integer >= 1/);
    expect(() => timeSteps(5, { tMin: 1 })).toThrow(/^options.tMin: expected 0 <= tMin < T/);
    expect(() => timeSteps(5, { tMin: -0.1 })).toThrow(/^options.tMin/);
    expect(() => timeSteps(5, { spacing: 'logSNR' })).toThrow(
      /^options.sde: an SDE \(with logSNR and tFromLogSNR\) is required for spacing 'logSNR'/,
    );
    expect(() => timeSteps(5, { spacing: 'logSNR', sde: new VPSDE(), tMin: 0 })).toThrow(
      /^options.tMin: expected tMin > 0/,
    );
    expect(() => timeSteps(5, { spacing: 'cubic' as 'uniform' })).toThrow(/^options.spacing: expected/);
  });
});

describe('discreteTimesteps', () => {
  // Reference values computed with numpy, following the definitions of diffusers' schedulers and DDIM:
  // linspace: np.round(np.linspace(0, N−1, S))[::-1]; leading: (np.arange(S)·(N//S))[::-1];
  // trailing: np.round(np.arange(N, 0, −N/S)) − 1; quadratic: (np.linspace(0, √(0.8N), S)²).astype(int)[::-1].
  it('matches numpy for N = 1000, S = 10', () => {
    expect(discreteTimesteps(1000, 10, 'linspace')).toEqual([999, 888, 777, 666, 555, 444, 333, 222, 111, 0]);
    expect(discreteTimesteps(1000, 10, 'leading')).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    expect(discreteTimesteps(1000, 10, 'trailing')).toEqual([
      999, 899, 799, 699, 599, 499, 399, 299, 199, 99,
    ]);
    expect(discreteTimesteps(1000, 10, 'quadratic')).toEqual([800, 632, 483, 355, 246, 158, 88, 39, 9, 0]);
  });

  it('matches numpy for N = 1000, S = 50 (first 12) and S = 20 (quadratic)', () => {
    expect(discreteTimesteps(1000, 50, 'linspace').slice(0, 12)).toEqual([
      999, 979, 958, 938, 917, 897, 877, 856, 836, 816, 795, 775,
    ]);
    expect(discreteTimesteps(1000, 50, 'trailing').slice(0, 12)).toEqual([
      999, 979, 959, 939, 919, 899, 879, 859, 839, 819, 799, 779,
    ]);
    expect(discreteTimesteps(1000, 20, 'quadratic')).toEqual([
      800, 718, 640, 567, 498, 434, 374, 319, 268, 221, 179, 141, 108, 79, 55, 35, 19, 8, 2, 0,
    ]);
  });

  it('uses every step when S = N', () => {
    const all = Array.from({ length: 20 }, (_, i) => 19 - i);
    for (const s of ['linspace', 'leading', 'trailing'] as const)
      expect(discreteTimesteps(20, 20, s)).toEqual(all);
  });

  it('rejects more steps than training steps, repeated indices and unknown spacings', () => {
    expect(() => discreteTimesteps(10, 11)).toThrow(/^numSteps: expected at most numTrainSteps \(10\)/);
    expect(() => discreteTimesteps(10, 10, 'quadratic')).toThrow(/^numSteps: .*repeated indices/);
    // numpy's DDIM quadratic grid for N = 1000, S = 50 repeats index 0; we refuse rather than waste evaluations.
    expect(() => discreteTimesteps(1000, 50, 'quadratic')).toThrow(
      /^numSteps: 50 steps with spacing 'quadratic'/,
    );
    expect(() => discreteTimesteps(10, 5, 'cosine' as 'linspace')).toThrow(/^spacing: /);
  });
});
