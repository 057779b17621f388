import { describe, expect, it } from 'vitest';
import { gemmNT } from './float64-gemm.js';
import { randomMatrix } from './stats.test-support.js';

/** Plain triple loop: C[i][j] = c0[i][j] + alpha Σ_k X[i][k] Y[j][k]. */
function naive(
  x: Float64Array,
  y: Float64Array,
  c0: Float64Array,
  m: number,
  n: number,
  k: number,
  alpha: number,
) {
  const c = c0.slice();
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += x[i * k + q]! * y[j * k + q]!;
      c[i * n + j]! += alpha * s;
    }
  }
  return c;
}

function expectClose(got: Float64Array, want: Float64Array, scale: number) {
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!));
  expect(err).toBeLessThan(1e-12 * scale);
}

describe('gemmNT (blocked C += alpha X Yᵀ)', () => {
  // Sizes that cross the k-chunk (256), the j-block (128) and leave 4×2 kernel remainders.
  it.each([
    [7, 5, 300],
    [6, 131, 300],
    [133, 3, 513],
    [1, 1, 1],
    [4, 2, 256],
  ])('m = %i, n = %i, k = %i equals the triple loop, accumulating into C', (m, n, k) => {
    const x = randomMatrix(1, m, k);
    const y = randomMatrix(2, n, k);
    const c0 = randomMatrix(3, m, n);
    const c = c0.slice();
    gemmNT(x, k, y, k, c, n, m, n, k, { alpha: -0.5 });
    expectClose(c, naive(x, y, c0, m, n, k, -0.5), k);
  });

  it('lowerOnly computes exactly the lower triangle (j ≤ i) and leaves the rest untouched', () => {
    const m = 133;
    const k = 40;
    const x = randomMatrix(4, m, k);
    const c = new Float64Array(m * m).fill(7);
    gemmNT(x, k, x, k, c, m, m, m, k, { lowerOnly: true });
    const want = naive(x, x, new Float64Array(m * m).fill(7), m, m, k, 1);
    let lowerError = 0;
    let upperChanged = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        if (j <= i) lowerError = Math.max(lowerError, Math.abs(c[i * m + j]! - want[i * m + j]!));
        else if (c[i * m + j] !== 7) upperChanged++;
      }
    }
    expect(lowerError).toBeLessThan(1e-12 * k);
    expect(upperChanged).toBe(0);
  });

  it('xLo / yLo (leading zeros per row) only skip work: triangular factors give the full product', () => {
    const m = 70;
    const n = 300;
    const x = randomMatrix(5, m, n);
    const y = randomMatrix(6, m, n);
    const xLo = new Int32Array(m);
    const yLo = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      xLo[i] = 3 * i;
      yLo[i] = 4 * i;
      x.fill(0, i * n, i * n + 3 * i);
      y.fill(0, i * n, i * n + 4 * i);
    }
    const c = new Float64Array(m * m);
    gemmNT(x, n, y, n, c, m, m, m, n, { xLo, yLo });
    expectClose(c, naive(x, y, new Float64Array(m * m), m, m, n, 1), n);
  });

  it('honours row strides larger than the row length (sub-matrices of a bigger array)', () => {
    const big = randomMatrix(7, 20, 50);
    const c = new Float64Array(6 * 30);
    // X = big[0..5][10..40), Y = big[8..13][10..40), C [6, 6] inside rows of length 30.
    gemmNT(big.subarray(10), 50, big.subarray(8 * 50 + 10), 50, c, 30, 6, 6, 30);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        let s = 0;
        for (let q = 0; q < 30; q++) s += big[i * 50 + 10 + q]! * big[(8 + j) * 50 + 10 + q]!;
        expect(Math.abs(c[i * 30 + j]! - s)).toBeLessThan(1e-12 * 30);
      }
    }
  });
});
