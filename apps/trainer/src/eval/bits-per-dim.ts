import { type DivergenceMethod, likelihood, uniformDequantize } from '@sbm/metrics';
import type { ModelAdapter } from '@sbm/samplers';
import type { SDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type ArrayDataset, sampleLength } from '../data/dataset.js';

/** Options of {@link evaluateLikelihood}. */
export interface EvaluateLikelihoodOptions {
  sde: SDE;
  /** The exported model, wrapped (it must be synchronous and differentiable: a LayersModel is). */
  model: ModelAdapter;
  /** The evaluation data: uint8 images (0–255) or float data (e.g. the toy points), in dataset order. */
  data: ArrayDataset;
  /** Images are scaled to [−1, 1] (`data.centered`) instead of [0, 1]; ignored for float data. */
  centered: boolean;
  /** Examples evaluated: the first `count` of `data`. */
  count: number;
  /** Examples per ODE solve. */
  batchSize: number;
  /** Seed of the dequantization noise and of the Hutchinson probes (batch `i` uses `seed + i`). */
  seed: number;
  rtol?: number;
  atol?: number;
  divergence?: DivergenceMethod;
  signal?: AbortSignal;
  /** Called after every batch with the examples done and the model evaluations of that batch. */
  onBatch?: (done: number, nfe: number) => void;
}

/** What {@link evaluateLikelihood} measured. */
export interface LikelihoodEvaluation {
  count: number;
  /** Values per example `D`. */
  dim: number;
  /** Per example: bits/dim (8-bit images: of the dequantized data with score_sde's offset; float data: `−log p / (D ln 2)`). */
  bitsPerDim: Float64Array;
  /** Per example: `log p(x)` in nats, of the data as the model sees it (dequantized and scaled for images). */
  logLikelihood: Float64Array;
  /** Mean bits/dim and its standard error `s / √n` over the examples (Hutchinson noise included). */
  meanBitsPerDim: number;
  standardError: number;
  /** Model evaluations, summed over the batches. */
  nfe: number;
}

/**
 * Bits/dim of a dataset under a trained score model, as score_sde's evaluation (`run_lib.evaluate` with
 * `eval.enable_bpd`): 8-bit images are uniformly dequantized (`(k + u)/256`, `u ~ U[0, 1)`), scaled to the model's
 * range, and their exact log-likelihood computed along the probability-flow ODE (Song et al. 2021, App. D.2) with
 * @sbm/metrics' `likelihood`; bits/dim adds log2(256 / range). Float data (the toy mixture) is not quantized: its
 * bits/dim is `−log p(x) / (D ln 2)` and `logLikelihood` is its density in nats.
 *
 * @throws Error naming `count` or `batchSize` when they are not positive integers or `count` exceeds the data.
 */
export async function evaluateLikelihood(options: EvaluateLikelihoodOptions): Promise<LikelihoodEvaluation> {
  const { sde, model, data, centered, count, batchSize, seed, onBatch } = options;
  if (!Number.isInteger(count) || count < 1 || count > data.size) {
    throw new Error(`count: expected an integer in 1 … ${data.size} (the evaluation set), got ${count}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize: expected a positive integer, got ${batchSize}`);
  }
  const dim = sampleLength(data.shape);
  const images = data.data instanceof Uint8Array;
  const dataRange: [number, number] = centered ? [-1, 1] : [0, 1];
  const bitsPerDim = new Float64Array(count);
  const logLikelihood = new Float64Array(count);
  let nfe = 0;
  for (let start = 0, batch = 0; start < count; start += batchSize, batch++) {
    const b = Math.min(batchSize, count - start);
    const raw = data.data.subarray(start * dim, (start + b) * dim);
    const x = tf.tidy(() => {
      if (!images) return tf.tensor(raw as Float32Array, [b, ...data.shape]);
      // On the 8-bit grid of the model's range, then spread uniformly over each value's bin.
      const grid = tf.tensor(
        Float32Array.from(raw, (v) => dataRange[0] + (v / 255) * (dataRange[1] - dataRange[0])),
        [b, ...data.shape],
      );
      return uniformDequantize(grid, seed + batch, { dataRange });
    });
    try {
      const r = await likelihood({
        sde,
        model,
        x,
        seed: seed + batch,
        rtol: options.rtol,
        atol: options.atol,
        divergence: options.divergence,
        signal: options.signal,
        ...(images ? { dataRange } : {}),
      });
      r.latent.dispose();
      logLikelihood.set(r.logLikelihood, start);
      for (let i = 0; i < b; i++) {
        bitsPerDim[start + i] = images ? r.bitsPerDim[i]! : -r.logLikelihood[i]! / (dim * Math.LN2);
      }
      nfe += r.nfe;
      onBatch?.(start + b, r.nfe);
    } finally {
      x.dispose();
    }
  }
  const mean = bitsPerDim.reduce((a, v) => a + v, 0) / count;
  const variance = count > 1 ? bitsPerDim.reduce((a, v) => a + (v - mean) ** 2, 0) / (count - 1) : Number.NaN;
  return {
    count,
    dim,
    bitsPerDim,
    logLikelihood,
    meanBitsPerDim: mean,
    standardError: Math.sqrt(variance / count),
    nfe,
  };
}
