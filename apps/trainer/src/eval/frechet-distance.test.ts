import { describe, expect, it } from 'vitest';
import {
  featureStatistics,
  frechetDistance,
  type GaussianStatistics,
  symmetricEigen,
} from './frechet-distance.js';

const D = 8;

/** Deterministic test matrices, built the same way as in the scipy script below. */
function fixture(): { a: GaussianStatistics; b: GaussianStatistics; c: GaussianStatistics } {
  const x = new Float64Array(D * D);
  const y = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = 0; j < D; j++) {
      x[i * D + j] = Math.sin(1.3 * i + 0.7 * j + 0.1 * i * j);
      y[i * D + j] = Math.cos(0.9 * i - 0.4 * j + 0.05 * i * j);
    }
  }
  const gram = (m: Float64Array, cols: number, scale: number, ridge: number): Float64Array => {
    const out = new Float64Array(D * D);
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) {
        let s = 0;
        for (let k = 0; k < cols; k++) s += m[i * D + k]! * m[j * D + k]!;
        out[i * D + j] = s / scale + (i === j ? ridge : 0);
      }
    }
    return out;
  };
  const ma = Float64Array.from({ length: D }, (_, i) => Math.sin(i));
  const mb = Float64Array.from({ length: D }, (_, i) => Math.cos(i));
  return {
    a: { mean: ma, cov: gram(x, D, D, 0.1) },
    b: { mean: mb, cov: gram(y, D, D, 0.05) },
    c: { mean: ma, cov: gram(x, 3, 3, 0) }, // rank 3
  };
}

describe('symmetricEigen', () => {
  it('reconstructs A = V diag(λ) Vᵀ with orthonormal V', () => {
    const { a } = fixture();
    const { values, vectors } = symmetricEigen(a.cov, D);
    for (let i = 0; i < D; i++) {
      for (let j = 0; j < D; j++) {
        let rec = 0;
        let orth = 0;
        for (let k = 0; k < D; k++) {
          rec += vectors[i * D + k]! * values[k]! * vectors[j * D + k]!;
          orth += vectors[k * D + i]! * vectors[k * D + j]!;
        }
        expect(rec).toBeCloseTo(a.cov[i * D + j]!, 12);
        expect(orth).toBeCloseTo(i === j ? 1 : 0, 12);
      }
    }
  });

  it('finds the eigenvalues 1 and 3 of [[2,1],[1,2]]', () => {
    const { values } = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(Array.from(values).sort()).toEqual([expect.closeTo(1, 14), expect.closeTo(3, 14)]);
  });

  it('names the argument on bad input', () => {
    expect(() => symmetricEigen(new Float64Array(3), 2)).toThrow(/a must have/);
    expect(() => symmetricEigen(Float64Array.from([1, Number.NaN, 0, 1]), 2)).toThrow(/non-finite/);
  });
});

describe('frechetDistance', () => {
  it('is 0 for equal inputs', () => {
    const { a } = fixture();
    expect(frechetDistance(a, a)).toBeLessThan(1e-12);
  });

  it('equals Σ(√σa − √σb)² + ‖μa − μb‖² for diagonal covariances', () => {
    const sa = [0.5, 2, 3, 0.01];
    const sb = [1.5, 0.2, 3, 4];
    const ma = [0, 1, 2, 3];
    const mb = [1, 1, 0, -1];
    const diag = (s: number[]): Float64Array => {
      const m = new Float64Array(16);
      s.forEach((v, i) => {
        m[i * 4 + i] = v;
      });
      return m;
    };
    let expected = 0;
    for (let i = 0; i < 4; i++)
      expected += (Math.sqrt(sa[i]!) - Math.sqrt(sb[i]!)) ** 2 + (ma[i]! - mb[i]!) ** 2;
    const got = frechetDistance(
      { mean: Float64Array.from(ma), cov: diag(sa) },
      { mean: Float64Array.from(mb), cov: diag(sb) },
    );
    expect(got).toBeCloseTo(expected, 12);
  });

  it('is (μa − μb)² + (σa − σb)² in one dimension', () => {
    const got = frechetDistance(
      { mean: Float64Array.of(1), cov: Float64Array.of(4) },
      { mean: Float64Array.of(-2), cov: Float64Array.of(9) },
    );
    expect(got).toBeCloseTo(9 + 1, 12);
  });

  it('is symmetric', () => {
    const { a, b, c } = fixture();
    expect(frechetDistance(a, b)).toBeCloseTo(frechetDistance(b, a), 10);
    expect(frechetDistance(c, b)).toBeCloseTo(frechetDistance(b, c), 10);
  });

  // Reference values (python3-scipy 1.x, numpy; Debian bookworm):
  //   import numpy as np; from scipy import linalg
  //   d = 8; i, j = np.meshgrid(np.arange(d), np.arange(d), indexing="ij")
  //   X = np.sin(1.3 * i + 0.7 * j + 0.1 * i * j); Y = np.cos(0.9 * i - 0.4 * j + 0.05 * i * j)
  //   sa = X @ X.T / d + 0.1 * np.eye(d); sb = Y @ Y.T / d + 0.05 * np.eye(d)
  //   ma = np.sin(np.arange(d)); mb = np.cos(np.arange(d))
  //   fd = lambda s1, s2: np.sum((ma - mb) ** 2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(s1 @ s2).real)
  //   print(fd(sa, sb))                       # 10.345793865259093
  //   Z = X[:, :3]; sc = Z @ Z.T / 3
  //   print(fd(sc, sb))                       # 9.334987081495878 (rank-3 first covariance)
  it('matches scipy sqrtm on a random 8-D case to 1e-8 relative', () => {
    const { a, b } = fixture();
    const ref = 10.345793865259093;
    expect(Math.abs(frechetDistance(a, b) - ref) / ref).toBeLessThan(1e-8);
  });

  it('matches scipy with a singular (rank-3) covariance to 1e-8 relative', () => {
    const { b, c } = fixture();
    const ref = 9.334987081495878;
    expect(Math.abs(frechetDistance(c, b) - ref) / ref).toBeLessThan(1e-8);
  });

  it('names the argument on mismatched input', () => {
    const { a } = fixture();
    expect(() => frechetDistance(a, { mean: new Float64Array(2), cov: new Float64Array(4) })).toThrow(
      /dimension/,
    );
    expect(() => frechetDistance({ mean: new Float64Array(2), cov: new Float64Array(3) }, a)).toThrow(
      /a\.cov/,
    );
  });
});

describe('featureStatistics', () => {
  // numpy: F = np.sin(0.37 * np.arange(150).reshape(50, 3) ** 1.1); F.mean(0); np.cov(F, rowvar=False)
  it('matches numpy mean and np.cov (unbiased)', () => {
    const f = Float32Array.from({ length: 150 }, (_, k) => Math.sin(0.37 * k ** 1.1));
    const { mean, cov } = featureStatistics(f, 50, 3);
    const refMean = [0.02430819260172207, 0.027878422369816337, 0.024444016637378416];
    const refCov = [
      0.5089196625875287, 0.4148826285324988, 0.16954974679441515, 0.4148826285324988, 0.5048675934826999,
      0.4111369075504417, 0.16954974679441515, 0.4111369075504417, 0.5053222669116807,
    ];
    // float32 storage of the features limits agreement to ~1e-7.
    for (const [i, m] of refMean.entries()) expect(mean[i]).toBeCloseTo(m, 6);
    for (const [i, c] of refCov.entries()) expect(cov[i]).toBeCloseTo(c, 6);
  });

  it('names the argument on bad input', () => {
    expect(() => featureStatistics(new Float32Array(5), 2, 3)).toThrow(/features must have/);
    expect(() => featureStatistics(new Float32Array(3), 1, 3)).toThrow(/n must be/);
  });
});
