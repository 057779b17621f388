import { assertInteger, describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link uniformDequantize}. */
export interface DequantizeOptions {
  /** Quantization levels, default 256 (8-bit). */
  levels?: number;
  /** The data range `[lo, hi]`: `[0, 1]` (default) or `[−1, 1]` for centered data (score_sde's `data.centered`). */
  dataRange?: readonly [number, number];
}

/**
 * Uniform dequantization of $L$-level data ($L$ = `levels`; Theis et al. 2016; Song et al. 2021, App. D.2, as
 * score_sde's `(x·255 + U[0, 1)) / 256` before its data scaler): a value on the grid
 * $lo + k\, (hi - lo)/(L - 1)$, $k = 0, \dots, L - 1$, becomes
 *
 * $$lo + (k + u)\, \frac{hi - lo}{L}, \qquad u \sim \mathcal{U}[0, 1),$$
 *
 * i.e. a uniform draw over the $k$-th of $L$ equal bins of $[lo, hi]$. The log-likelihood of the result bounds that of the
 * discrete data from below (see {@link bitsPerDim}).
 *
 * @param x - data `[B, ...]` on the grid (within 1% of a grid step), float32; not disposed.
 * @param seed - seed of the uniform draws.
 * @param options - `levels` (default 256) and `dataRange` (default `[0, 1]`).
 * @returns a new float32 tensor of the shape of `x`.
 * @throws SbmArgumentError naming `x` when it is not a float32 tensor, has values outside `dataRange` or off
 *   the grid (e.g. data already dequantized or in another range), or naming the invalid option.
 */
export function uniformDequantize(x: tf.Tensor, seed: number, options: DequantizeOptions = {}): tf.Tensor {
  if (!(x instanceof tf.Tensor) || x.dtype !== 'float32') {
    throw new SbmArgumentError('x', `expected a float32 tensor, got ${describeValue(x)}`);
  }
  if (!Number.isSafeInteger(seed))
    throw new SbmArgumentError('seed', `expected a safe integer, got ${describeValue(seed)}`);
  const levels = options.levels ?? 256;
  assertInteger('options.levels', levels, 2);
  const [lo, hi] = checkDataRange('options.dataRange', options.dataRange ?? [0, 1]);
  const values = x.dataSync();
  const steps = levels - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi)) {
      throw new SbmArgumentError(
        'x',
        `expected values in [${lo}, ${hi}] (options.dataRange), got ${v} at flat index ${i}`,
      );
    }
    const k = ((v - lo) / (hi - lo)) * steps;
    if (Math.abs(k - Math.round(k)) > 0.01) {
      throw new SbmArgumentError(
        'x',
        `expected ${levels}-level data on the grid ${lo} + k·${(hi - lo) / steps}, got ${v} at flat index ${i} ` +
          '(already dequantized, or another dataRange?)',
      );
    }
  }
  return tf.tidy(() => {
    const k = tf.round(tf.mul(tf.sub(x, lo), steps / (hi - lo)));
    const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
    return tf.add(tf.mul(tf.add(k, u), (hi - lo) / levels), lo);
  });
}

/**
 * Checks a data range `[lo, hi]` (finite, `lo < hi`) and returns it.
 *
 * @throws SbmArgumentError naming `name` otherwise.
 */
export function checkDataRange(name: string, dataRange: unknown): readonly [number, number] {
  if (
    !Array.isArray(dataRange) ||
    dataRange.length !== 2 ||
    !dataRange.every((v) => typeof v === 'number' && Number.isFinite(v)) ||
    !(dataRange[1] > dataRange[0])
  ) {
    throw new SbmArgumentError(
      name,
      `expected [lo, hi] with finite lo < hi, got ${describeValue(dataRange)}`,
    );
  }
  return dataRange as unknown as readonly [number, number];
}
