import { SbmArgumentError } from '@sbm/sde';
import type * as tf from '@tensorflow/tfjs-core';
import { gemmNT } from './float64-gemm.js';
import type { FidStatistics } from './frechet-distance.js';

// Rows per internal block: each block's co-moment is one [dim, dim] × [dim, CHUNK] product.
const CHUNK = 256;

/**
 * Streaming mean and covariance of feature vectors (e.g. Inception pool3 `[N, 2048]`), accumulated
 * in float64 with the pairwise update of Chan, Golub & LeVeque (1979, "Updating formulae and a
 * pairwise algorithm for computing sample variances"): for a block $B$ of $n_B$ rows with mean $\bar x_B$
 * and co-moment $C_B = \sum_{x \in B} (x - \bar x_B)(x - \bar x_B)^\top$, merged into the running $(n_A, \bar x_A, C_A)$,
 *
 * $$\delta = \bar x_B - \bar x_A, \qquad n = n_A + n_B,$$
 *
 * $$\bar x = \bar x_A + \delta\, \frac{n_B}{n}, \qquad C = C_A + C_B + \delta \delta^\top \frac{n_A n_B}{n}.$$
 *
 * The result does not depend on how the rows are batched (up to rounding), and shards computed
 * separately can be combined with {@link FeatureStatistics.merge}. Each block of up to 256 rows costs
 * one symmetric product (lower triangle only, cache-blocked): $d^2 n / 2$ multiply–adds in all.
 * `covariance()` is $\Sigma = C/(n - 1)$, like `np.cov(x, rowvar=False)` in pytorch-fid.
 *
 * @example
 * ```ts
 * const stats = new FeatureStatistics(2048);
 * for (const batch of batches) stats.addTensor(batch); // [B, 2048]
 * const fid = frechetDistance(stats.toFidStatistics(), reference);
 * ```
 */
export class FeatureStatistics {
  /** Feature dimension `d`. */
  readonly dim: number;
  private n = 0;
  private readonly mu: Float64Array;
  /** Lower triangle of the co-moment `Σ (x − x̄)(x − x̄)ᵀ`, `[d, d]` row-major. */
  private readonly coMoment: Float64Array;
  /** Scratch for one block's co-moment `[d, d]`, allocated on the first `add` and reused. */
  private blockMoment: Float64Array | undefined;

  /**
   * An empty accumulator (no samples) for feature vectors of `dim` values.
   * @param dim - feature dimension `d` (integer ≥ 1).
   */
  constructor(dim: number) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new SbmArgumentError('dim', `expected an integer >= 1, got ${dim}`);
    }
    this.dim = dim;
    this.mu = new Float64Array(dim);
    this.coMoment = new Float64Array(dim * dim);
  }

  /** Number of feature vectors added so far. */
  get count(): number {
    return this.n;
  }

  /**
   * Adds a batch of feature vectors `features [n, d]` (row-major).
   * @param features - `n · d` values; `n` defaults to `features.length / d`.
   * @throws SbmArgumentError if the length is not `n · d` or a value is not finite (naming its row).
   */
  add(features: Float32Array | Float64Array | readonly number[], n?: number): this {
    const d = this.dim;
    const rows = n ?? features.length / d;
    if (!Number.isInteger(rows) || rows < 0 || rows * d !== features.length) {
      throw new SbmArgumentError(
        'features',
        n === undefined
          ? `expected a multiple of the feature dimension ${d} values, got ${features.length}`
          : `expected n · dim = ${n} · ${d} = ${n * d} values, got ${features.length}`,
      );
    }
    for (let i = 0; i < features.length; i++) {
      if (!Number.isFinite(features[i]!)) {
        throw new SbmArgumentError(
          'features',
          `expected finite values, got ${features[i]} in row ${Math.floor(i / d)} (column ${i % d}) of this batch`,
        );
      }
    }
    if (rows === 0) return this;
    const block = new Float64Array(d * Math.min(CHUNK, rows));
    const blockMean = new Float64Array(d);
    this.blockMoment ??= new Float64Array(d * d);
    const blockMoment = this.blockMoment;
    for (let r0 = 0; r0 < rows; r0 += CHUNK) {
      const b = Math.min(CHUNK, rows - r0);
      blockMean.fill(0);
      for (let r = 0; r < b; r++) {
        const src = (r0 + r) * d;
        for (let j = 0; j < d; j++) blockMean[j]! += features[src + j]!;
      }
      for (let j = 0; j < d; j++) blockMean[j]! /= b;
      // Centred block, transposed to [d, b] so that the co-moment is X Xᵀ over contiguous rows.
      for (let r = 0; r < b; r++) {
        const src = (r0 + r) * d;
        for (let j = 0; j < d; j++) block[j * b + r] = features[src + j]! - blockMean[j]!;
      }
      blockMoment.fill(0);
      gemmNT(block, b, block, b, blockMoment, d, d, d, b, { lowerOnly: true });
      this.combine(b, blockMean, blockMoment);
    }
    return this;
  }

  /**
   * Adds a batch given as a tensor `features [n, d]` (read synchronously; the tensor is not disposed).
   * @throws SbmArgumentError if the tensor is not of rank 2 with `d` columns, or holds non-finite values.
   */
  addTensor(features: tf.Tensor2D): this {
    if (features.rank !== 2 || features.shape[1] !== this.dim) {
      throw new SbmArgumentError(
        'features',
        `expected a tensor of shape [n, ${this.dim}], got [${features.shape.join(', ')}]`,
      );
    }
    return this.add(features.dataSync() as Float32Array, features.shape[0]);
  }

  /** Adds the samples summarized by `other` (e.g. another shard) to this accumulator. */
  merge(other: FeatureStatistics): this {
    if (!(other instanceof FeatureStatistics) || other.dim !== this.dim) {
      throw new SbmArgumentError(
        'other',
        `expected FeatureStatistics of dimension ${this.dim}, got ${other instanceof FeatureStatistics ? `dimension ${other.dim}` : typeof other}`,
      );
    }
    if (other.n > 0) this.combine(other.n, other.mu, other.coMoment);
    return this;
  }

  /** Mean feature $\bar x$ `[d]` (a copy). @throws SbmArgumentError if no sample was added. */
  mean(): Float64Array {
    if (this.n < 1) throw new SbmArgumentError('count', 'expected at least 1 sample for a mean, got 0');
    return this.mu.slice();
  }

  /**
   * Sample covariance $\Sigma = C/(n - 1)$ `[d, d]` (row-major, symmetric), as `np.cov(x, rowvar=False)`.
   * @throws SbmArgumentError if fewer than 2 samples were added.
   */
  covariance(): Float64Array {
    if (this.n < 2) {
      throw new SbmArgumentError('count', `expected at least 2 samples for a covariance, got ${this.n}`);
    }
    const d = this.dim;
    const out = new Float64Array(d * d);
    const scale = 1 / (this.n - 1);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        const v = this.coMoment[i * d + j]! * scale;
        out[i * d + j] = v;
        out[j * d + i] = v;
      }
    }
    return out;
  }

  /** `{ mu, sigma, dim }` for {@link frechetDistance} and `writeFidStatistics` (needs ≥ 2 samples). */
  toFidStatistics(): FidStatistics {
    return { mu: this.mean(), sigma: this.covariance(), dim: this.dim };
  }

  /** Chan et al.'s pairwise merge of `(nB, meanB, coMomentB)` (lower triangle) into this accumulator. */
  private combine(nB: number, meanB: Float64Array, coMomentB: Float64Array): void {
    const d = this.dim;
    const nA = this.n;
    const total = nA + nB;
    const delta = new Float64Array(d);
    for (let j = 0; j < d; j++) delta[j] = meanB[j]! - this.mu[j]!;
    const weight = (nA * nB) / total;
    for (let i = 0; i < d; i++) {
      const row = i * d;
      const wi = weight * delta[i]!;
      for (let j = 0; j <= i; j++) {
        this.coMoment[row + j]! += coMomentB[row + j]! + wi * delta[j]!;
      }
    }
    const f = nB / total;
    for (let j = 0; j < d; j++) this.mu[j]! += delta[j]! * f;
    this.n = total;
  }
}
