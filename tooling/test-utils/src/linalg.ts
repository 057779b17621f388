/**
 * Small dense float64 linear algebra on matrices stored as `number[][]` (row-major, `A[i][j]`).
 * Meant for D×D covariance matrices of test oracles, where D is small.
 */

/** A dense matrix as an array of rows. */
export type Matrix = number[][];

function dims(A: Matrix, name: string): [number, number] {
  const rows = A.length;
  const cols = rows === 0 ? 0 : A[0]!.length;
  for (let i = 0; i < rows; i++) {
    if (A[i]!.length !== cols)
      throw new Error(`${name}: ragged matrix (row ${i} has ${A[i]!.length} != ${cols})`);
  }
  return [rows, cols];
}

function squareDim(A: Matrix, name: string): number {
  const [r, c] = dims(A, name);
  if (r !== c) throw new Error(`${name}: expected a square matrix, got ${r}×${c}`);
  return r;
}

/** The d×d identity matrix. */
export function identity(d: number): Matrix {
  if (!Number.isInteger(d) || d < 0) throw new Error(`identity: invalid dimension ${d}`);
  return Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? 1 : 0)));
}

/** Aᵀ. */
export function transpose(A: Matrix): Matrix {
  const [r, c] = dims(A, 'transpose');
  return Array.from({ length: c }, (_, j) => Array.from({ length: r }, (_, i) => A[i]![j]!));
}

/** A·x for A (r×c) and x (length c); returns a length-r array. */
export function matVec(A: Matrix, x: ArrayLike<number>): number[] {
  const [r, c] = dims(A, 'matVec');
  if (x.length !== c) throw new Error(`matVec: shape mismatch ${r}×${c} · ${x.length}`);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const row = A[i]!;
    let s = 0;
    for (let j = 0; j < c; j++) s += row[j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

/** A·B for A (r×k) and B (k×c). */
export function matMul(A: Matrix, B: Matrix): Matrix {
  const [r, k] = dims(A, 'matMul');
  const [k2, c] = dims(B, 'matMul');
  if (k !== k2) throw new Error(`matMul: shape mismatch ${r}×${k} · ${k2}×${c}`);
  const out: Matrix = [];
  for (let i = 0; i < r; i++) {
    const row = new Array<number>(c).fill(0);
    const a = A[i]!;
    for (let m = 0; m < k; m++) {
      const aim = a[m]!;
      const b = B[m]!;
      for (let j = 0; j < c; j++) row[j]! += aim * b[j]!;
    }
    out.push(row);
  }
  return out;
}

/** c·A (new matrix). */
export function scaleMatrix(A: Matrix, c: number): Matrix {
  dims(A, 'scaleMatrix');
  return A.map((row) => row.map((v) => c * v));
}

/** A + c·I for square A (new matrix). */
export function addScaledIdentity(A: Matrix, c: number): Matrix {
  squareDim(A, 'addScaledIdentity');
  return A.map((row, i) => row.map((v, j) => (i === j ? v + c : v)));
}

/**
 * Cholesky factor L (lower triangular, positive diagonal) with A = L·Lᵀ.
 * Only the lower triangle of A is read; A is expected to be symmetric.
 *
 * @throws Error if A is not square or not (numerically) positive definite.
 */
export function cholesky(A: Matrix): Matrix {
  const d = squareDim(A, 'cholesky');
  const L: Matrix = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let j = 0; j < d; j++) {
    const Lj = L[j]!;
    let diag = A[j]![j]!;
    for (let k = 0; k < j; k++) diag -= Lj[k]! * Lj[k]!;
    if (!(diag > 0) || !Number.isFinite(diag)) {
      throw new Error(`cholesky: matrix is not positive definite (pivot ${j} = ${diag})`);
    }
    const ljj = Math.sqrt(diag);
    Lj[j] = ljj;
    for (let i = j + 1; i < d; i++) {
      const Li = L[i]!;
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= Li[k]! * Lj[k]!;
      Li[j] = s / ljj;
    }
  }
  return L;
}

/** Solves L·y = b by forward substitution for lower-triangular L. */
export function solveLowerTriangular(L: Matrix, b: ArrayLike<number>): number[] {
  const d = squareDim(L, 'solveLowerTriangular');
  if (b.length !== d) throw new Error(`solveLowerTriangular: shape mismatch ${d}×${d} vs ${b.length}`);
  const y = new Array<number>(d);
  for (let i = 0; i < d; i++) {
    const Li = L[i]!;
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= Li[k]! * y[k]!;
    y[i] = s / Li[i]!;
  }
  return y;
}

/** Solves Lᵀ·x = y by back substitution for lower-triangular L. */
export function solveUpperTriangularTransposed(L: Matrix, y: ArrayLike<number>): number[] {
  const d = squareDim(L, 'solveUpperTriangularTransposed');
  if (y.length !== d)
    throw new Error(`solveUpperTriangularTransposed: shape mismatch ${d}×${d} vs ${y.length}`);
  const x = new Array<number>(d);
  for (let i = d - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < d; k++) s -= L[k]![i]! * x[k]!;
    x[i] = s / L[i]![i]!;
  }
  return x;
}

/** Solves A·x = b given the Cholesky factor L of A (A = L·Lᵀ). */
export function choleskySolve(L: Matrix, b: ArrayLike<number>): number[] {
  return solveUpperTriangularTransposed(L, solveLowerTriangular(L, b));
}

/** log det A = 2·Σᵢ log Lᵢᵢ given the Cholesky factor L of A. */
export function logDetFromCholesky(L: Matrix): number {
  const d = squareDim(L, 'logDetFromCholesky');
  let s = 0;
  for (let i = 0; i < d; i++) s += Math.log(L[i]![i]!);
  return 2 * s;
}

/** A⁻¹ for symmetric positive-definite A (via Cholesky). */
export function inverseSpd(A: Matrix): Matrix {
  const L = cholesky(A);
  const d = L.length;
  const cols = identity(d).map((e) => choleskySolve(L, e));
  // cols[j] is column j of A⁻¹; symmetrise to remove rounding asymmetry.
  return Array.from({ length: d }, (_, i) =>
    Array.from({ length: d }, (_, j) => 0.5 * (cols[j]![i]! + cols[i]![j]!)),
  );
}
