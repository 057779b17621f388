import { readFileSync } from 'node:fs';

/** The reference numbers written by `packages/metrics/scripts/stats-reference.py`. */
export const statsReference = JSON.parse(
  readFileSync(new URL('../test-fixtures/stats/reference.json', import.meta.url), 'utf8'),
) as StatsReference;

/** Bytes of a fixture file in `packages/metrics/test-fixtures/stats/`. */
export function statsFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../test-fixtures/stats/${name}`, import.meta.url)));
}

/** The fields of `reference.json` that the tests read. */
export interface StatsReference {
  mulberry32Check: number[];
  frechet: {
    name: string;
    dim: number;
    sigma1: { seed: number; rank: number };
    sigma2: { seed: number; rank: number };
    mu1Seed: number;
    mu2Seed: number;
    scipySqrtm: number;
    eigh: number;
    factorSvd: number;
    traceSum: number;
  }[];
  statistics: {
    seed: number;
    n: number;
    dim: number;
    scale: number;
    offset: number;
    mean: number[];
    cov: number[];
  };
  inceptionScore: {
    seed: number;
    n: number;
    numClasses: number;
    splits: number;
    scale: number;
    mean: number;
    std: number;
  }[];
  kid: { seedA: number; seedB: number; nA: number; nB: number; dim: number; shift: number; mmd2: number }[];
  npz: {
    arrays: Record<string, { shape: number[]; dtype: string; values: (number | string)[] }>;
    fidStats: { dim: number; mu: number[]; sigma: number[]; mu32: number[]; sigma32: number[] };
  };
}

/** `count` uniforms in [0, 1) from mulberry32 (the same stream as the Python script's `mulberry32`). */
export function mulberry32(seed: number, count: number): Float64Array {
  let a = seed >>> 0;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = ((t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t) >>> 0;
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** `[rows, cols]` row-major with entries uniform in [−1, 1) (the script's `random_matrix`). */
export function randomMatrix(seed: number, rows: number, cols: number): Float64Array {
  return mulberry32(seed, rows * cols).map((u) => 2 * u - 1);
}

/** `A Aᵀ / rank` for `A [dim, rank] = randomMatrix(seed, dim, rank)` (the script's `random_covariance`). */
export function randomCovariance(seed: number, dim: number, rank: number): Float64Array {
  const a = randomMatrix(seed, dim, rank);
  const s = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = 0;
      for (let k = 0; k < rank; k++) sum += a[i * rank + k]! * a[j * rank + k]!;
      s[i * dim + j] = sum / rank;
      s[j * dim + i] = sum / rank;
    }
  }
  return s;
}

/** A random orthogonal `[n, n]` matrix (modified Gram–Schmidt on the rows of a seeded random matrix). */
export function randomOrthogonal(seed: number, n: number): Float64Array {
  const q = randomMatrix(seed, n, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += q[i * n + k]! * q[j * n + k]!;
      for (let k = 0; k < n; k++) q[i * n + k]! -= dot * q[j * n + k]!;
    }
    let norm = 0;
    for (let k = 0; k < n; k++) norm += q[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    for (let k = 0; k < n; k++) q[i * n + k]! /= norm;
  }
  return q;
}

/** `Qᵀ diag(lambda) Q` for an orthogonal `q [n, n]` (rows are the eigenvectors). */
export function withEigenvalues(q: Float64Array, lambda: ArrayLike<number>): Float64Array {
  const n = lambda.length;
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += q[k * n + i]! * lambda[k]! * q[k * n + j]!;
      s[i * n + j] = sum;
    }
  }
  return s;
}
