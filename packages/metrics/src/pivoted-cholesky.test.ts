import { describe, expect, it } from 'vitest';
import { pivotedCholesky } from './pivoted-cholesky.js';
import { randomCovariance, randomOrthogonal, withEigenvalues } from './stats.test-support.js';

/** max |(PᵀAP)_ij − (L Lᵀ)_ij| over the whole matrix, with L the first `rank` columns of the factor. */
function reconstructionError(a: Float64Array, n: number, f: ReturnType<typeof pivotedCholesky>): number {
  let err = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let q = 0; q < Math.min(f.rank, j + 1); q++) s += f.factor[i * n + q]! * f.factor[j * n + q]!;
      err = Math.max(err, Math.abs(a[f.perm[i]! * n + f.perm[j]!]! - s));
    }
  }
  return err;
}

describe('pivotedCholesky', () => {
  it('factors a positive definite matrix completely: Pᵀ A P = L Lᵀ, pivots non-increasing', () => {
    const n = 90; // crosses the 32-column panels
    const a = randomCovariance(1, n, 120);
    const f = pivotedCholesky(a, n);
    expect(f.rank).toBe(n);
    expect(f.residual).toBe(0);
    expect(reconstructionError(a, n, f)).toBeLessThan(1e-13);
    for (let k = 1; k < n; k++)
      expect(f.factor[k * n + k]!).toBeLessThanOrEqual(f.factor[(k - 1) * n + k - 1]! * (1 + 1e-12));
    expect([...f.perm].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('stops at the rank of a semidefinite matrix, with a Schur complement at rounding level', () => {
    const n = 70;
    const a = randomCovariance(2, n, 45); // rank 45
    const f = pivotedCholesky(a, n);
    expect(f.rank).toBe(45);
    expect(f.residual).toBeLessThan(1e-13 * f.maxDiag);
    expect(reconstructionError(a, n, f)).toBeLessThan(1e-13);
  });

  it('an indefinite matrix leaves a large Schur complement (eigenvalue −1 of 3)', () => {
    const n = 12;
    const lambda = Array.from({ length: n }, (_, i) => (i === 4 ? -1 : 1 + i / 4));
    const a = withEigenvalues(randomOrthogonal(3, n), lambda);
    const f = pivotedCholesky(a, n);
    expect(f.rank).toBeLessThan(n);
    expect(f.residual).toBeGreaterThan(0.01 * f.maxDiag);
  });

  it('does not modify its input', () => {
    const a = randomCovariance(4, 10, 5);
    const copy = a.slice();
    pivotedCholesky(a, 10);
    expect(a).toEqual(copy);
  });
});
