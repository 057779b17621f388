import { SbmArgumentError } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import { type FidStatistics, frechetDistance } from './frechet-distance.js';
import {
  mulberry32,
  randomCovariance,
  randomMatrix,
  randomOrthogonal,
  statsReference,
  withEigenvalues,
} from './stats.test-support.js';

function stats(mu: ArrayLike<number>, sigma: Float64Array): FidStatistics {
  return { mu: Float64Array.from(mu), sigma, dim: mu.length };
}

function diagonal(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) s[i * n + i] = values[i]!;
  return s;
}

function sqDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s;
}

describe('frechetDistance', () => {
  it('the generator of the fixtures matches the script (mulberry32)', () => {
    expect(Array.from(mulberry32(1, 3))).toEqual(statsReference.mulberry32Check);
  });

  it('diagonal covariances: Σ (√a_i − √b_i)² + ‖μ₁ − μ₂‖² (closed form), including zero variances', () => {
    const n = 30;
    const a = mulberry32(1, n).map((u) => 3 * u);
    const b = mulberry32(2, n).map((u) => 0.5 + u);
    a[3] = 0;
    a[17] = 0;
    b[5] = 0;
    const muA = randomMatrix(3, 1, n);
    const muB = randomMatrix(4, 1, n);
    let expected = sqDistance(muA, muB);
    for (let i = 0; i < n; i++) expected += (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2;
    const got = frechetDistance(stats(muA, diagonal(a)), stats(muB, diagonal(b)));
    expect(Math.abs(got - expected)).toBeLessThan(1e-12 * expected);
  });

  it('commuting covariances (shared random eigenbasis, some eigenvalues 0): Σ (√a_i − √b_i)² + ‖Δμ‖²', () => {
    const n = 48;
    const q = randomOrthogonal(5, n);
    const a = mulberry32(6, n).map((u, i) => (i % 7 === 0 ? 0 : 2 * u));
    const b = mulberry32(7, n).map((u, i) => (i % 5 === 0 ? 0 : 4 * u * u));
    const muA = randomMatrix(8, 1, n);
    const muB = randomMatrix(9, 1, n);
    let expected = sqDistance(muA, muB);
    for (let i = 0; i < n; i++) expected += (Math.sqrt(a[i]!) - Math.sqrt(b[i]!)) ** 2;
    const got = frechetDistance(stats(muA, withEigenvalues(q, a)), stats(muB, withEigenvalues(q, b)));
    // The square roots of eigenvalues near 0 amplify rounding (√ε·‖Σ‖ ≈ 1e-8 each): 1e-7 relative.
    expect(Math.abs(got - expected)).toBeLessThan(1e-7 * expected);
  });

  it('identical statistics give 0 to 1e-9 of tr Σ (full rank, d = 64)', () => {
    const sigma = randomCovariance(10, 64, 100);
    const mu = randomMatrix(11, 1, 64);
    let trace = 0;
    for (let i = 0; i < 64; i++) trace += sigma[i * 64 + i]!;
    const got = frechetDistance(stats(mu, sigma), stats(mu, sigma.slice()));
    expect(got).toBeGreaterThanOrEqual(0);
    expect(got).toBeLessThan(1e-9 * trace);
  });

  it.each(statsReference.frechet.map((c) => [c.name, c] as const))(
    '%s: equals the reference values of pytorch-fid’s scipy.linalg.sqrtm, numpy eigh and an SVD of the factors',
    (_, c) => {
      const a = stats(
        randomMatrix(c.mu1Seed, 1, c.dim),
        randomCovariance(c.sigma1.seed, c.dim, c.sigma1.rank),
      );
      const b = stats(
        randomMatrix(c.mu2Seed, 1, c.dim),
        randomCovariance(c.sigma2.seed, c.dim, c.sigma2.rank),
      );
      const got = frechetDistance(a, b);
      // The SVD of A₁ᵀA₂ (Σ_k = A_k A_kᵀ / r_k) has no square root of rounding errors: float64 agreement.
      expect(Math.abs(got - c.factorSvd)).toBeLessThan(1e-12 * c.traceSum);
      // sqrtm and eigh of Σ₁^{1/2} Σ₂ Σ₁^{1/2} take square roots of eigenvalues that are 0 up to
      // rounding when a Σ is rank-deficient (error ~ √ε ‖Σ‖ each, ~1e-8 of the traces here).
      const fullRank = c.sigma1.rank >= c.dim && c.sigma2.rank >= c.dim;
      const tol = (fullRank ? 1e-12 : 3e-8) * c.traceSum;
      expect(Math.abs(got - c.scipySqrtm)).toBeLessThan(tol);
      expect(Math.abs(got - c.eigh)).toBeLessThan(tol);
    },
  );

  it('is symmetric in its arguments', () => {
    const a = stats(randomMatrix(12, 1, 20), randomCovariance(13, 20, 8));
    const b = stats(randomMatrix(14, 1, 20), randomCovariance(15, 20, 30));
    expect(frechetDistance(a, b)).toBeCloseTo(frechetDistance(b, a), 10);
  });

  describe('errors', () => {
    const good = () => stats(randomMatrix(16, 1, 4), randomCovariance(17, 4, 6));
    const expectError = (fn: () => unknown, argument: string, text: RegExp) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(SbmArgumentError);
        expect((e as SbmArgumentError).argument).toBe(argument);
        expect((e as Error).message).toMatch(text);
        return;
      }
      throw new Error('expected an SbmArgumentError');
    };

    it('dimension mismatch', () => {
      const b = stats(randomMatrix(18, 1, 5), randomCovariance(19, 5, 6));
      expectError(() => frechetDistance(good(), b), 'b.dim', /dimension of a \(4\), got 5/);
    });

    it('wrong lengths of mu / sigma', () => {
      const a = good();
      expectError(() => frechetDistance({ ...a, mu: new Float64Array(3) }, good()), 'a.mu', /length 4/);
      expectError(() => frechetDistance(good(), { ...a, sigma: new Float64Array(15) }), 'b.sigma', /16/);
    });

    it('non-finite entries, with their position', () => {
      const a = good();
      a.sigma[6] = Number.NaN;
      expectError(() => frechetDistance(a, good()), 'a.sigma', /NaN at \[1, 2\]/);
      const b = good();
      b.mu[3] = Number.POSITIVE_INFINITY;
      expectError(() => frechetDistance(good(), b), 'b.mu', /Infinity at \[3\]/);
    });

    it('asymmetric beyond symmetryTolerance (1e-6 of the largest variance)', () => {
      const a = good();
      const scale = Math.max(a.sigma[0]!, a.sigma[5]!, a.sigma[10]!, a.sigma[15]!);
      a.sigma[1]! += 1e-3 * scale;
      expectError(() => frechetDistance(a, good()), 'a.sigma', /symmetric.*\[1, 0\]/);
      const c = good();
      c.sigma[1]! += 1e-8 * scale; // float32-level rounding is accepted
      expect(Number.isFinite(frechetDistance(c, good()))).toBe(true);
    });

    it('indefinite covariances beyond psdTolerance (1e-5 of the largest variance)', () => {
      const b = good();
      b.sigma.set([1, 2, 0, 0, 2, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]); // eigenvalues 3, −1, 1, 1
      expectError(() => frechetDistance(good(), b), 'b.sigma', /positive semidefinite/);
      const c = good();
      c.sigma[15] = -0.5;
      expectError(() => frechetDistance(c, good()), 'a.sigma', /positive semidefinite/);
    });
  });
});
