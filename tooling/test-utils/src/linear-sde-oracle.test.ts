import { describe, expect, it } from 'vitest';
import { type LinearSdeSpec, linearSdeCoefficients } from './linear-sde-oracle.js';

/**
 * Integrates the moment ODEs of dx = f(t) x dt + g(t) dw in float64 with classical RK4:
 *   dm/dt = f(t)·m,   dv/dt = 2 f(t)·v + g(t)².
 * Only f and g of the oracle are used, so alpha/sigma are checked independently.
 */
function integrateMoments(
  spec: LinearSdeSpec,
  m0: number,
  v0: number,
  tEnd: number,
  steps: number,
): { m: number; v: number } {
  const rhs = (t: number, m: number, v: number): [number, number] => {
    const { f, g } = linearSdeCoefficients(spec, t);
    return [f * m, 2 * f * v + g * g];
  };
  const h = tEnd / steps;
  let m = m0;
  let v = v0;
  for (let i = 0; i < steps; i++) {
    const t = i * h;
    const [a1, b1] = rhs(t, m, v);
    const [a2, b2] = rhs(t + h / 2, m + (h / 2) * a1, v + (h / 2) * b1);
    const [a3, b3] = rhs(t + h / 2, m + (h / 2) * a2, v + (h / 2) * b2);
    const [a4, b4] = rhs(t + h, m + h * a3, v + h * b3);
    m += (h / 6) * (a1 + 2 * a2 + 2 * a3 + a4);
    v += (h / 6) * (b1 + 2 * b2 + 2 * b3 + b4);
  }
  return { m, v };
}

function relErr(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

const times = [0.01, 0.1, 0.3, 0.5, 0.77, 1];
const stepsPerUnit = 4000;

const specs: LinearSdeSpec[] = [
  { kind: 'vp', betaMin: 0.1, betaMax: 20 },
  { kind: 'vp', betaMin: 1, betaMax: 1 },
  { kind: 'subvp', betaMin: 0.1, betaMax: 20 },
  { kind: 've', sigmaMin: 0.01, sigmaMax: 50 },
];

describe('linearSdeCoefficients', () => {
  for (const spec of specs) {
    it(`${JSON.stringify(spec)}: alpha and sigma solve the moment ODEs (rel 1e-8)`, () => {
      for (const t of times) {
        const steps = Math.max(200, Math.ceil(stepsPerUnit * t));
        const { alpha, sigma } = linearSdeCoefficients(spec, t);
        if (spec.kind === 've') {
          const v0 = spec.sigmaMin ** 2;
          const { m, v } = integrateMoments(spec, 1, v0, t, steps);
          expect(relErr(alpha, m)).toBeLessThan(1e-8);
          // sigma(t)² − sigmaMin² = ∫₀ᵗ g(s)² ds
          expect(relErr(sigma * sigma - v0, v - v0)).toBeLessThan(1e-8);
        } else {
          const { m, v } = integrateMoments(spec, 1, 0, t, steps);
          expect(relErr(alpha, m)).toBeLessThan(1e-8);
          expect(relErr(sigma * sigma, v)).toBeLessThan(1e-8);
        }
      }
    });
  }

  it('matches closed forms at hand-picked points', () => {
    const vp = linearSdeCoefficients({ kind: 'vp', betaMin: 0.1, betaMax: 20 }, 1);
    expect(vp.f).toBeCloseTo(-10, 14);
    expect(vp.g).toBeCloseTo(Math.sqrt(20), 14);
    expect(vp.alpha).toBeCloseTo(Math.exp(-19.9 / 4 - 0.05), 15);
    expect(vp.sigma).toBeCloseTo(Math.sqrt(1 - Math.exp(-19.9 / 2 - 0.1)), 15);

    const sub = linearSdeCoefficients({ kind: 'subvp', betaMin: 0.1, betaMax: 20 }, 0.5);
    const a2 = Math.exp(-0.25 * 19.9 * 0.5 - 0.1 * 0.5);
    expect(sub.alpha ** 2).toBeCloseTo(a2, 15);
    expect(sub.sigma).toBeCloseTo(1 - a2, 15);
    expect(sub.g ** 2).toBeCloseTo((0.1 + 0.5 * 19.9) * (1 - a2 * a2), 12);

    const ve = linearSdeCoefficients({ kind: 've', sigmaMin: 0.01, sigmaMax: 50 }, 0.5);
    expect(ve.f).toBe(0);
    expect(ve.alpha).toBe(1);
    expect(ve.sigma).toBeCloseTo(Math.sqrt(0.01 * 50), 14);
    expect(ve.g).toBeCloseTo(Math.sqrt(0.5) * Math.sqrt(2 * Math.log(5000)), 13);
  });

  it('is accurate at t = 0 and tiny t (expm1)', () => {
    const vp0 = linearSdeCoefficients({ kind: 'vp', betaMin: 0.1, betaMax: 20 }, 0);
    expect(vp0).toEqual({ f: -0.05, g: Math.sqrt(0.1), alpha: 1, sigma: 0 });
    const sub0 = linearSdeCoefficients({ kind: 'subvp', betaMin: 0.1, betaMax: 20 }, 0);
    expect(sub0.g).toBe(0);
    expect(sub0.sigma).toBe(0);
    const t = 1e-9;
    const vp = linearSdeCoefficients({ kind: 'vp', betaMin: 0.1, betaMax: 20 }, t);
    // 1 − alpha² ≈ βmin·t for tiny t
    expect(relErr(vp.sigma ** 2, 0.1 * t)).toBeLessThan(1e-6);
    const ve0 = linearSdeCoefficients({ kind: 've', sigmaMin: 0.01, sigmaMax: 50 }, 0);
    expect(ve0.sigma).toBe(0.01);
  });

  it('rejects invalid specs and times', () => {
    expect(() => linearSdeCoefficients({ kind: 'vp', betaMin: 2, betaMax: 1 }, 0.5)).toThrow();
    expect(() => linearSdeCoefficients({ kind: 've', sigmaMin: 0, sigmaMax: 1 }, 0.5)).toThrow();
    expect(() => linearSdeCoefficients({ kind: 'vp', betaMin: 0.1, betaMax: 20 }, Number.NaN)).toThrow();
    expect(() => linearSdeCoefficients({ kind: 'vp', betaMin: 0.1, betaMax: 20 }, -0.1)).toThrow();
  });
});
