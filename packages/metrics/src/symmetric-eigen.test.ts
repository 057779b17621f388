import { SbmArgumentError } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import { randomOrthogonal, withEigenvalues } from './stats.test-support.js';
import { symmetricEigenvalues } from './symmetric-eigen.js';

function expectEigenvalues(got: Float64Array, want: number[], tol: number) {
  const sorted = [...want].sort((a, b) => a - b);
  expect(got.length).toBe(sorted.length);
  for (let i = 0; i < sorted.length; i++) expect(Math.abs(got[i]! - sorted[i]!)).toBeLessThanOrEqual(tol);
}

describe('symmetricEigenvalues (Householder tridiagonalization + implicit QL)', () => {
  it('recovers prescribed eigenvalues Qᵀ diag(λ) Q (random orthogonal Q; repeated, zero and negative λ)', () => {
    const n = 60;
    const lambda = Array.from({ length: n }, (_, i) =>
      i % 10 === 0 ? 0 : i % 7 === 0 ? 2.5 : Math.sin(i) * 10,
    );
    const a = withEigenvalues(randomOrthogonal(1, n), lambda);
    // Backward stability: |Δλ| ≲ n ε ‖A‖ ≈ 60 · 2.2e-16 · 10.
    expectEigenvalues(symmetricEigenvalues(a, n), lambda, 1e-12);
  });

  it('the second-difference matrix tridiag(−1, 2, −1): λ_k = 2 − 2 cos(kπ/(n+1)) (closed form)', () => {
    const n = 100;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      a[i * n + i] = 2;
      if (i > 0) a[i * n + i - 1] = -1;
      if (i + 1 < n) a[i * n + i + 1] = -1;
    }
    const want = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
    expectEigenvalues(symmetricEigenvalues(a, n), want, 1e-13);
  });

  it('reads only the lower triangle and does not modify its input unless overwrite is set', () => {
    const n = 5;
    const lambda = [1, -2, 3, 0.5, 4];
    const a = withEigenvalues(randomOrthogonal(2, n), lambda);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[i * n + j] = 1e6; // garbage upper triangle
    const copy = a.slice();
    expectEigenvalues(symmetricEigenvalues(a, n), lambda, 1e-12);
    expect(a).toEqual(copy);
    expectEigenvalues(symmetricEigenvalues(a, n, { overwrite: true }), lambda, 1e-12);
  });

  it('small orders: 0, 1, 2 (2×2 closed form), and a diagonal matrix', () => {
    expect(symmetricEigenvalues(new Float64Array(0), 0).length).toBe(0);
    expectEigenvalues(symmetricEigenvalues(Float64Array.of(-3), 1), [-3], 0);
    // [[a, b], [b, c]]: (a + c)/2 ± √(((a − c)/2)² + b²)
    const [p, q, r] = [1.5, 0.7, -0.2];
    const h = Math.hypot((p - r) / 2, q);
    expectEigenvalues(
      symmetricEigenvalues(Float64Array.of(p, q, q, r), 2),
      [(p + r) / 2 - h, (p + r) / 2 + h],
      1e-15,
    );
    const d = new Float64Array(16);
    [4, -1, 0, 2].forEach((v, i) => {
      d[i * 4 + i] = v;
    });
    expectEigenvalues(symmetricEigenvalues(d, 4), [4, -1, 0, 2], 0);
  });

  it('rejects a wrong length or a non-finite entry', () => {
    expect(() => symmetricEigenvalues(new Float64Array(5), 2)).toThrow(SbmArgumentError);
    expect(() => symmetricEigenvalues(new Float64Array(5), 2)).toThrow(/a: expected 2×2 = 4 entries, got 5/);
    expect(() => symmetricEigenvalues(Float64Array.of(1, 0, Number.NaN, 1), 2)).toThrow(/NaN at \[1, 0\]/);
  });
});
