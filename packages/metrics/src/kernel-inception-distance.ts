import { SbmArgumentError } from '@sbm/sde';
import { gemmNT } from './float64-gemm.js';
import { type MeanStd, meanStd } from './inception-score.js';

/** Options of {@link kernelInceptionDistance}. */
export interface KernelInceptionDistanceOptions {
  /** Samples drawn (without replacement) from each set per subset, `m` (default 1000). */
  subsetSize?: number;
  /** Number of subsets averaged (default 100). */
  numSubsets?: number;
  /** Seed of the subset draws (default 0); equal seeds give equal results. */
  seed?: number;
}

/**
 * Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs"), as in the reference
 * implementations torch-fidelity and clean-fid: with the cubic polynomial kernel
 *
 * $$k(x, y) = \Big(\frac{x^\top y}{d} + 1\Big)^3,$$
 *
 * for each of `numSubsets` subsets $X \subset A$, $Y \subset B$ of $m$ = `subsetSize` rows drawn without replacement,
 * the unbiased estimator of the squared maximum mean discrepancy
 *
 * $$\begin{aligned} \widehat{\mathrm{MMD}}^2_u = {} & \frac{1}{m(m-1)} \sum_{i \ne j} k(x_i, x_j) + \frac{1}{m(m-1)} \sum_{i \ne j} k(y_i, y_j) \\ & - \frac{2}{m^2} \sum_{i,j} k(x_i, y_j), \end{aligned}$$
 *
 * reported as mean and standard deviation (`ddof = 0`) over the subsets. Float64 throughout; each
 * subset costs $2 m^2 d$ multiply–adds (three Gram matrices, two of them symmetric).
 *
 * @param featuresA - `[nA, d]` row-major features of the first set $A$ (e.g. Inception pool3).
 * @param featuresB - `[nB, d]` row-major features of the second set $B$.
 * @param dim - feature dimension $d$.
 * @param options - `subsetSize` $m$ (default 1000), `numSubsets` (default 100) and `seed` (default 0).
 * @throws SbmArgumentError if a length is not a multiple of `dim`, a value is not finite, or a set has
 *   fewer than `subsetSize` samples (suggesting a smaller `subsetSize`).
 */
export function kernelInceptionDistance(
  featuresA: Float32Array | Float64Array,
  featuresB: Float32Array | Float64Array,
  dim: number,
  options: KernelInceptionDistanceOptions = {},
): MeanStd {
  const subsetSize = options.subsetSize ?? 1000;
  const numSubsets = options.numSubsets ?? 100;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(dim) || dim < 1)
    throw new SbmArgumentError('dim', `expected an integer >= 1, got ${dim}`);
  if (!Number.isInteger(subsetSize) || subsetSize < 2) {
    throw new SbmArgumentError('options.subsetSize', `expected an integer >= 2, got ${subsetSize}`);
  }
  if (!Number.isInteger(numSubsets) || numSubsets < 1) {
    throw new SbmArgumentError('options.numSubsets', `expected an integer >= 1, got ${numSubsets}`);
  }
  if (!Number.isSafeInteger(seed))
    throw new SbmArgumentError('options.seed', `expected a safe integer, got ${seed}`);
  const nA = checkFeatures('featuresA', featuresA, dim, subsetSize);
  const nB = checkFeatures('featuresB', featuresB, dim, subsetSize);
  const rng = new SubsetRng(seed);
  const m = subsetSize;
  const x = new Float64Array(m * dim);
  const y = new Float64Array(m * dim);
  const kxx = new Float64Array(m * m);
  const kyy = new Float64Array(m * m);
  const kxy = new Float64Array(m * m);
  const poolA = new Int32Array(nA);
  const poolB = new Int32Array(nB);
  const values = new Float64Array(numSubsets);
  for (let s = 0; s < numSubsets; s++) {
    rng.gather(featuresA, nA, dim, m, poolA, x);
    rng.gather(featuresB, nB, dim, m, poolB, y);
    kxx.fill(0);
    kyy.fill(0);
    kxy.fill(0);
    gemmNT(x, dim, x, dim, kxx, m, m, m, dim, { lowerOnly: true });
    gemmNT(y, dim, y, dim, kyy, m, m, m, dim, { lowerOnly: true });
    gemmNT(x, dim, y, dim, kxy, m, m, m, dim);
    let sumXX = 0;
    let sumYY = 0;
    let sumXY = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < i; j++) {
        sumXX += (kxx[i * m + j]! / dim + 1) ** 3;
        sumYY += (kyy[i * m + j]! / dim + 1) ** 3;
      }
      for (let j = 0; j < m; j++) sumXY += (kxy[i * m + j]! / dim + 1) ** 3;
    }
    values[s] = (2 * (sumXX + sumYY)) / (m * (m - 1)) - (2 * sumXY) / (m * m);
  }
  return meanStd(values);
}

function checkFeatures(
  name: string,
  features: Float32Array | Float64Array,
  dim: number,
  subsetSize: number,
): number {
  if (!(features instanceof Float32Array || features instanceof Float64Array)) {
    throw new SbmArgumentError(name, 'expected a Float32Array or Float64Array [n, dim]');
  }
  const n = features.length / dim;
  if (!Number.isInteger(n)) {
    throw new SbmArgumentError(name, `expected a multiple of dim = ${dim} values, got ${features.length}`);
  }
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i]!)) {
      throw new SbmArgumentError(
        name,
        `expected finite values, got ${features[i]} in row ${Math.floor(i / dim)}`,
      );
    }
  }
  if (n < subsetSize) {
    throw new SbmArgumentError(
      name,
      `has ${n} samples, fewer than options.subsetSize = ${subsetSize}; pass a subsetSize <= ${n} (or more samples)`,
    );
  }
  return n;
}

/** Seeded xoshiro128** stream (state expanded by a splitmix32-style mixer) for the subset draws. */
class SubsetRng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let z = (seed >>> 0) ^ Math.floor(seed / 4294967296);
    const next = (): number => {
      z = (z + 0x9e3779b9) >>> 0;
      let t = z;
      t = Math.imul(t ^ (t >>> 16), 0x21f0aaad);
      t = Math.imul(t ^ (t >>> 15), 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  private nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform integer in `[0, bound)` from 53 random bits. */
  below(bound: number): number {
    const u = ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
    return Math.floor(u * bound);
  }

  /** Copies `m` rows drawn without replacement (partial Fisher–Yates over `pool`) into `out [m, dim]`. */
  gather(
    features: Float32Array | Float64Array,
    n: number,
    dim: number,
    m: number,
    pool: Int32Array,
    out: Float64Array,
  ): void {
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < m; i++) {
      const j = i + this.below(n - i);
      const row = pool[j]!;
      pool[j] = pool[i]!;
      pool[i] = row;
      for (let k = 0; k < dim; k++) out[i * dim + k] = features[row * dim + k]!;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
