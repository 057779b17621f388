import { SbmArgumentError } from '@sbm/sde';
import { gemmNT } from './float64-gemm.js';

/** Result of {@link pivotedCholesky}. */
export interface PivotedCholesky {
  /**
   * `[n, n]` row-major workspace whose columns `0..rank−1` on and below the diagonal hold the factor
   * `L [n, rank]` (entries above the diagonal are unspecified); the lower triangle of rows and
   * columns `rank..n−1` holds the Schur complement that was not factored.
   */
  factor: Float64Array;
  /** Pivot order: row `i` of `L` belongs to index `perm[i]` of the input matrix. */
  perm: Int32Array;
  /** Number of factored columns. */
  rank: number;
  /** Largest `|S_ij|` of the unfactored Schur complement `S` (0 when `rank = n`). */
  residual: number;
  /** Largest diagonal entry of the input (the scale of `tolerance` and `residual`). */
  maxDiag: number;
}

const PANEL = 32;

/**
 * Cholesky factorization with complete (diagonal) pivoting of a symmetric positive semidefinite
 * matrix, `Pᵀ A P = L Lᵀ + S` (Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed.,
 * Sec. 10.3; LAPACK `dpstrf`): at step `k` the largest remaining diagonal entry is moved to position
 * `k`, and the factorization stops when it is `≤ tolerance`, leaving the Schur complement `S`. For a
 * PSD matrix `|S_ij| ≤ √(S_ii S_jj) ≤ tolerance`, so `residual` much larger than `tolerance` means
 * that `A` is not positive semidefinite. Columns are computed in panels of 32 whose update of the
 * trailing matrix is one blocked product (`n³/6` multiply–adds in all).
 *
 * @param a - `[n, n]` row-major symmetric matrix (lower triangle used; not modified).
 * @param n - order of the matrix.
 * @param tolerance - stopping threshold on the pivot (default `n ε max_i A_ii`, as LAPACK).
 */
export function pivotedCholesky(a: Float64Array, n: number, tolerance?: number): PivotedCholesky {
  if (a.length !== n * n) {
    throw new SbmArgumentError('a', `expected ${n}×${n} = ${n * n} entries, got ${a.length}`);
  }
  const w = a.slice();
  const perm = new Int32Array(n);
  const pivots = new Float64Array(n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) {
    perm[i] = i;
    pivots[i] = w[i * n + i]!;
    maxDiag = Math.max(maxDiag, pivots[i]!);
  }
  const tol = tolerance ?? n * Number.EPSILON * maxDiag;
  let rank = 0;
  let stopped = false;
  while (rank < n && !stopped) {
    const k0 = rank;
    const panelEnd = Math.min(n, k0 + PANEL);
    for (let k = k0; k < panelEnd; k++) {
      let p = k;
      for (let j = k + 1; j < n; j++) if (pivots[j]! > pivots[p]!) p = j;
      if (!(pivots[p]! > tol)) {
        stopped = true;
        break;
      }
      if (p !== k) swapSymmetric(w, n, k, p, pivots, perm);
      // Column k of the Schur complement: the trailing matrix is up to date for columns < k0,
      // the panel columns k0..k−1 are subtracted here (contiguous dot products along the rows).
      const rowK = k * n;
      let akk = w[rowK + k]!;
      for (let q = k0; q < k; q++) akk -= w[rowK + q]! * w[rowK + q]!;
      if (!(akk > tol)) {
        stopped = true;
        break;
      }
      const lkk = Math.sqrt(akk);
      w[rowK + k] = lkk;
      for (let i = k + 1; i < n; i++) {
        const rowI = i * n;
        let s = w[rowI + k]!;
        for (let q = k0; q < k; q++) s -= w[rowI + q]! * w[rowK + q]!;
        const lik = s / lkk;
        w[rowI + k] = lik;
        pivots[i]! -= lik * lik;
      }
      rank = k + 1;
    }
    // Rank-(rank − k0) downdate of the trailing lower triangle by the panel's columns.
    if (rank > k0 && rank < n) {
      const rows = n - rank;
      const panel = w.subarray(rank * n + k0);
      gemmNT(panel, n, panel, n, w.subarray(rank * n + rank), n, rows, rows, rank - k0, {
        lowerOnly: true,
        alpha: -1,
      });
    }
  }
  let residual = 0;
  for (let i = rank; i < n; i++) {
    for (let j = rank; j <= i; j++) residual = Math.max(residual, Math.abs(w[i * n + j]!));
  }
  return { factor: w, perm, rank, residual, maxDiag };
}

/** Exchanges indices `k < p` of the symmetric matrix held in the lower triangle of `w`. */
function swapSymmetric(
  w: Float64Array,
  n: number,
  k: number,
  p: number,
  pivots: Float64Array,
  perm: Int32Array,
): void {
  const swap = (i: number, j: number): void => {
    const t = w[i]!;
    w[i] = w[j]!;
    w[j] = t;
  };
  for (let j = 0; j < k; j++) swap(k * n + j, p * n + j);
  swap(k * n + k, p * n + p);
  for (let i = k + 1; i < p; i++) swap(i * n + k, p * n + i);
  for (let i = p + 1; i < n; i++) swap(i * n + k, i * n + p);
  const t = pivots[k]!;
  pivots[k] = pivots[p]!;
  pivots[p] = t;
  const q = perm[k]!;
  perm[k] = perm[p]!;
  perm[p] = q;
}
