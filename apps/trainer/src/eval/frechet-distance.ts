/**
 * Fréchet distance between two Gaussians summarised by mean and covariance (the statistic behind FID),
 * computed in float64 with a symmetric eigendecomposition (cyclic Jacobi) written here.
 */

/** Mean and covariance of a set of d-dimensional feature vectors (float64). */
export interface GaussianStatistics {
  /** Mean, length d. */
  mean: Float64Array;
  /** Covariance, d×d row-major (symmetric). */
  cov: Float64Array;
}

/** Eigen-decomposition `A = V diag(values) Vᵀ` of a symmetric matrix; `vectors` holds the eigenvectors as columns (row-major d×d). */
export interface SymmetricEigen {
  values: Float64Array;
  vectors: Float64Array;
}

/**
 * Eigenvalues and eigenvectors of the symmetric d×d row-major matrix `a` by the cyclic Jacobi method
 * (sweeps of plane rotations until the off-diagonal mass is below `1e-30 ·` the total squared mass, at
 * most 100 sweeps). The input is symmetrised as `(A + Aᵀ)/2` and not modified.
 *
 * @throws Error naming `a` when its length is not d² or it holds a non-finite value.
 */
export function symmetricEigen(a: Float64Array, d: number): SymmetricEigen {
  if (!Number.isInteger(d) || d < 1) throw new Error(`symmetricEigen: d must be an integer ≥ 1, got ${d}`);
  if (a.length !== d * d)
    throw new Error(`symmetricEigen: a must have d² = ${d * d} values, got ${a.length}`);
  const m = new Float64Array(d * d);
  let total = 0;
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      const v = 0.5 * (a[i * d + j]! + a[j * d + i]!);
      if (!Number.isFinite(v)) throw new Error(`symmetricEigen: a has a non-finite value at (${i}, ${j})`);
      m[i * d + j] = v;
      total += v * v;
    }
  }
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  const tol = 1e-30 * total;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) off += 2 * m[i * d + j]! ** 2;
    if (off <= tol) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = m[p * d + q]!;
        if (apq === 0) continue;
        const app = m[p * d + p]!;
        const aqq = m[q * d + q]!;
        // Rotation angle that zeroes (p, q): t = tan θ, the smaller root of t² + 2τt − 1 = 0.
        const tau = (aqq - app) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // A ← Jᵀ A J on rows/columns p and q.
        for (let k = 0; k < d; k++) {
          const akp = m[k * d + p]!;
          const akq = m[k * d + q]!;
          m[k * d + p] = c * akp - s * akq;
          m[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = m[p * d + k]!;
          const aqk = m[q * d + k]!;
          m[p * d + k] = c * apk - s * aqk;
          m[q * d + k] = s * apk + c * aqk;
        }
        m[p * d + q] = 0;
        m[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = m[i * d + i]!;
  return { values, vectors: v };
}

/** `V diag(f(λ)) Vᵀ` for a symmetric eigen-decomposition. */
function spectralFunction(e: SymmetricEigen, d: number, f: (x: number) => number): Float64Array {
  const out = new Float64Array(d * d);
  const fl = e.values.map(f);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += e.vectors[i * d + k]! * fl[k]! * e.vectors[j * d + k]!;
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! + aik * b[k * d + j]!;
    }
  }
  return out;
}

/**
 * Eigenvalues at or below `d · ε · max|λ|` are round-off of a zero eigenvalue of a positive semi-definite
 * matrix (their square roots, ~1e-8·scale, would otherwise bias the trace); they are treated as 0.
 */
function roundOffFloor(values: Float64Array, d: number): number {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  return d * Number.EPSILON * max;
}

function checkStats(s: GaussianStatistics, name: string): number {
  const d = s.mean.length;
  if (d < 1) throw new Error(`frechetDistance: ${name}.mean must not be empty`);
  if (s.cov.length !== d * d) {
    throw new Error(
      `frechetDistance: ${name}.cov must have ${d}² = ${d * d} values (d from ${name}.mean), got ${s.cov.length}`,
    );
  }
  for (const v of s.mean)
    if (!Number.isFinite(v)) throw new Error(`frechetDistance: ${name}.mean has a non-finite value`);
  return d;
}

/**
 * Fréchet (2-Wasserstein²) distance between the Gaussians `N(μa, Σa)` and `N(μb, Σb)`:
 * `‖μa − μb‖² + tr(Σa + Σb − 2 (Σa^{1/2} Σb Σa^{1/2})^{1/2})`, in float64.
 *
 * The matrix square roots come from {@link symmetricEigen}; eigenvalues that are negative through
 * round-off (covariances are positive semi-definite), or within `d·ε·max|λ|` of 0, are clamped to 0. The result is clamped to ≥ 0.
 *
 * @throws Error naming `a` or `b` when the shapes disagree or a value is not finite.
 */
export function frechetDistance(a: GaussianStatistics, b: GaussianStatistics): number {
  const d = checkStats(a, 'a');
  const db = checkStats(b, 'b');
  if (db !== d) throw new Error(`frechetDistance: a has dimension ${d} but b has dimension ${db}`);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mean[i]! - b.mean[i]!) ** 2;
  const eigA = symmetricEigen(a.cov, d);
  const floorA = roundOffFloor(eigA.values, d);
  const sqrtA = spectralFunction(eigA, d, (x) => (x > floorA ? Math.sqrt(x) : 0));
  const inner = matmul(matmul(sqrtA, b.cov, d), sqrtA, d);
  const innerEig = symmetricEigen(inner, d);
  const floorInner = roundOffFloor(innerEig.values, d);
  let traceSqrt = 0;
  for (const l of innerEig.values) if (l > floorInner) traceSqrt += Math.sqrt(l);
  let trA = 0;
  let trB = 0;
  for (let i = 0; i < d; i++) {
    trA += a.cov[i * d + i]!;
    trB += b.cov[i * d + i]!;
  }
  return Math.max(0, meanTerm + trA + trB - 2 * traceSqrt);
}

/**
 * Mean and unbiased (`n − 1`) covariance of `n` feature vectors of dimension `d` stored row-major in
 * `features` (`n · d` values), accumulated in float64 around the mean (two passes).
 *
 * @throws Error naming `n`, `d` or `features` when `n < 2`, `d < 1`, the length is not `n · d`, or a value is not finite.
 */
export function featureStatistics(
  features: Float32Array | Float64Array,
  n: number,
  d: number,
): GaussianStatistics {
  if (!Number.isInteger(n) || n < 2) throw new Error(`featureStatistics: n must be an integer ≥ 2, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`featureStatistics: d must be an integer ≥ 1, got ${d}`);
  if (features.length !== n * d) {
    throw new Error(`featureStatistics: features must have n·d = ${n * d} values, got ${features.length}`);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = features[i * d + j]!;
      if (!Number.isFinite(v))
        throw new Error(`featureStatistics: features has a non-finite value at row ${i}, column ${j}`);
      mean[j] = mean[j]! + v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  const cov = new Float64Array(d * d);
  const centered = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) centered[j] = features[i * d + j]! - mean[j]!;
    for (let j = 0; j < d; j++) {
      const cj = centered[j]!;
      if (cj === 0) continue;
      for (let k = j; k < d; k++) cov[j * d + k] = cov[j * d + k]! + cj * centered[k]!;
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const v = cov[j * d + k]! / (n - 1);
      cov[j * d + k] = v;
      cov[k * d + j] = v;
    }
  }
  return { mean, cov };
}
