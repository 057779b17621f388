import { SbmArgumentError } from '@sbm/sde';

/**
 * Eigenvalues of a real symmetric matrix in float64 (no eigenvectors): Householder reduction to
 * tridiagonal form followed by the implicit QL algorithm with Wilkinson shifts (Golub & Van Loan,
 * "Matrix Computations", 4th ed., Alg. 8.3.1 and Sec. 8.3.5; Bowdler, Martin, Reinsch & Wilkinson
 * 1968, "The QR and QL algorithms for symmetric matrices").
 *
 * Only the lower triangle of `a` (`a [n, n]`, row-major) is read. Each Householder step applies the
 * rank-2 update $A \leftarrow A - v w^\top - w v^\top$ of the previous step and the product $A v$ of the current one
 * in the same sweep over the rows of the lower triangle, so the matrix is read once per step
 * ($2n^3/3$ multiply–adds in all). The eigenvalues are backward stable: they are exact for a matrix
 * within $O(n\, \varepsilon\, \lVert A \rVert_2)$ of $A$ ($\varepsilon$ the float64 unit roundoff).
 *
 * @param a - `[n, n]` row-major symmetric matrix (lower triangle used).
 * @param n - order of the matrix.
 * @param options.overwrite - if true, `a` is used as workspace and destroyed (saves a copy).
 * @returns the `n` eigenvalues in ascending order.
 * @throws SbmArgumentError if `a` has not `n²` entries or holds a non-finite value in its lower triangle.
 */
export function symmetricEigenvalues(
  a: Float64Array,
  n: number,
  options: { overwrite?: boolean } = {},
): Float64Array {
  if (!Number.isInteger(n) || n < 0) throw new SbmArgumentError('n', `expected an integer >= 0, got ${n}`);
  if (a.length !== n * n) {
    throw new SbmArgumentError('a', `expected ${n}×${n} = ${n * n} entries, got ${a.length}`);
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      if (!Number.isFinite(a[i * n + j]!)) {
        throw new SbmArgumentError('a', `expected finite entries, got ${a[i * n + j]} at [${i}, ${j}]`);
      }
    }
  }
  const work = options.overwrite === true ? a : a.slice();
  const { diag, offDiag } = tridiagonalize(work, n);
  tridiagonalEigenvalues(diag, offDiag);
  return diag.sort();
}

/**
 * Householder tridiagonalization `Qᵀ A Q = T` of the symmetric `a [n, n]` (lower triangle, row-major,
 * destroyed). Returns the diagonal `[n]` and sub-diagonal `[n]` (last entry 0) of `T`.
 * @internal
 */
export function tridiagonalize(a: Float64Array, n: number): { diag: Float64Array; offDiag: Float64Array } {
  const diag = new Float64Array(n);
  const offDiag = new Float64Array(n);
  // Pending rank-2 update A ← A − vPrev wPrevᵀ − wPrev vPrevᵀ of the previous step (zero outside its rows).
  let vPrev = new Float64Array(n);
  let wPrev = new Float64Array(n);
  let v = new Float64Array(n);
  let p = new Float64Array(n);
  for (let k = 0; k < n - 1; k++) {
    // Column k of the current matrix (rows k..n−1) with the pending update applied.
    const vk = vPrev[k]!;
    const wk = wPrev[k]!;
    diag[k] = a[k * n + k]! - 2 * vk * wk;
    v.fill(0);
    let scale = 0;
    for (let i = k + 1; i < n; i++) {
      const x = a[i * n + k]! - vPrev[i]! * wk - wPrev[i]! * vk;
      v[i] = x;
      scale += Math.abs(x);
    }
    if (k === n - 2) {
      offDiag[k] = v[k + 1]!;
      diag[n - 1] = a[(n - 1) * n + n - 1]! - 2 * vPrev[n - 1]! * wPrev[n - 1]!;
      break;
    }
    // Householder reflector H = I − β u uᵀ with H x = α e₁ for x = v[k+1..n−1] (scaled against overflow).
    let beta = 0;
    if (scale === 0) {
      offDiag[k] = 0;
    } else {
      let sigma2 = 0;
      for (let i = k + 1; i < n; i++) {
        const x = v[i]! / scale;
        sigma2 += x * x;
      }
      const sigma = scale * Math.sqrt(sigma2);
      const x1 = v[k + 1]!;
      const alpha = x1 > 0 ? -sigma : sigma;
      offDiag[k] = alpha;
      v[k + 1] = x1 - alpha;
      // uᵀu = 2σ(σ + |x₁|)
      beta = 1 / (sigma * (sigma + Math.abs(x1)));
    }
    // One sweep over rows k+1..n−1 of the lower triangle, two rows at a time: apply the pending
    // update (zero vectors when there is none) and accumulate p = A v.
    p.fill(0);
    for (let i = k + 1; i < n; i += 2) {
      const rowA = i * n;
      const viA = vPrev[i]!;
      const wiA = wPrev[i]!;
      const uA = v[i]!;
      if (i + 1 === n) {
        let s = 0;
        for (let j = k + 1; j < i; j++) {
          const aij = a[rowA + j]! - viA * wPrev[j]! - wiA * vPrev[j]!;
          a[rowA + j] = aij;
          s += aij * v[j]!;
          p[j]! += aij * uA;
        }
        const aii = a[rowA + i]! - 2 * viA * wiA;
        a[rowA + i] = aii;
        p[i]! += s + aii * uA;
        break;
      }
      const rowB = rowA + n;
      const viB = vPrev[i + 1]!;
      const wiB = wPrev[i + 1]!;
      const uB = v[i + 1]!;
      let sA = 0;
      let sB = 0;
      for (let j = k + 1; j < i; j++) {
        const wj = wPrev[j]!;
        const vj = vPrev[j]!;
        const uj = v[j]!;
        const aA = a[rowA + j]! - viA * wj - wiA * vj;
        const aB = a[rowB + j]! - viB * wj - wiB * vj;
        a[rowA + j] = aA;
        a[rowB + j] = aB;
        sA += aA * uj;
        sB += aB * uj;
        p[j]! += aA * uA + aB * uB;
      }
      const aii = a[rowA + i]! - 2 * viA * wiA;
      const aBi = a[rowB + i]! - viB * wiA - wiB * viA;
      const aBB = a[rowB + i + 1]! - 2 * viB * wiB;
      a[rowA + i] = aii;
      a[rowB + i] = aBi;
      a[rowB + i + 1] = aBB;
      p[i]! += sA + aii * uA + aBi * uB;
      p[i + 1]! += sB + aBi * uA + aBB * uB;
    }
    // w = β A u − (β² uᵀ A u / 2) u, so that H A H = A − u wᵀ − w uᵀ.
    let pu = 0;
    for (let i = k + 1; i < n; i++) {
      p[i]! *= beta;
      pu += p[i]! * v[i]!;
    }
    const half = 0.5 * beta * pu;
    for (let i = k + 1; i < n; i++) p[i]! -= half * v[i]!;
    // The new pending update is (v, p); recycle the old vectors.
    [vPrev, v] = [v, vPrev];
    [wPrev, p] = [p, wPrev];
    vPrev[k] = 0;
    wPrev[k] = 0;
    if (beta === 0) {
      vPrev.fill(0);
      wPrev.fill(0);
    }
  }
  if (n === 1) diag[0] = a[0]!;
  return { diag, offDiag };
}

/**
 * Eigenvalues of the symmetric tridiagonal matrix with diagonal `diag [n]` and sub-diagonal
 * `offDiag [n]` (entry `i` couples `i` and `i+1`; the last is ignored) by the implicit QL algorithm
 * with Wilkinson shifts. Both arrays are overwritten; the (unsorted) eigenvalues end up in `diag`.
 * @internal
 */
export function tridiagonalEigenvalues(diag: Float64Array, offDiag: Float64Array): void {
  const n = diag.length;
  if (n > 0) offDiag[n - 1] = 0;
  const eps = Number.EPSILON;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      // Find the first negligible off-diagonal entry at or after l: the block l..m is unreduced.
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(diag[m]!) + Math.abs(diag[m + 1]!);
        if (Math.abs(offDiag[m]!) <= eps * dd) break;
      }
      if (m === l) break;
      if (++iterations > 60) {
        throw new Error(`symmetricEigenvalues: QL iteration did not converge for eigenvalue ${l}`);
      }
      // Wilkinson shift from the leading 2×2 block, folded into the first rotation.
      let g = (diag[l + 1]! - diag[l]!) / (2 * offDiag[l]!);
      let r = Math.hypot(g, 1);
      g = diag[m]! - diag[l]! + offDiag[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let shift = 0;
      let underflow = false;
      for (let i = m - 1; i >= l; i--) {
        const f = s * offDiag[i]!;
        const b = c * offDiag[i]!;
        r = Math.hypot(f, g);
        offDiag[i + 1] = r;
        if (r === 0) {
          // Recover from underflow: the rotation is the identity, deflate and restart.
          diag[i + 1]! -= shift;
          offDiag[m] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1]! - shift;
        r = (diag[i]! - g) * s + 2 * c * b;
        shift = s * r;
        diag[i + 1] = g + shift;
        g = c * r - b;
      }
      if (underflow) continue;
      diag[l]! -= shift;
      offDiag[l] = g;
      offDiag[m] = 0;
    }
  }
}
