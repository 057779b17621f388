import { classifierFreeGuidance } from '@sbm/guidance';
import type { ModelAdapter } from '@sbm/samplers';
import type { MarginalCoefficients } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { toImages } from './image-grid.js';
import type { Image8 } from './png-io.js';
import { samplerByName } from './sampler-registry.js';
import type { Shard } from './shard.js';

/** A batch of sample indices `[start, end)`. */
export interface IndexBatch {
  readonly start: number;
  readonly end: number;
}

/**
 * The batches of shard `i` of `n` for `count` samples in batches of `batchSize`: the run's batches are the
 * fixed global ranges `[k·batchSize, min((k+1)·batchSize, count))`, and shard `i` takes batches
 * `⌊i·K/n⌋ … ⌊(i+1)·K/n⌋ − 1` of the `K` of them. Every shard's batch is thus the very batch an unsharded
 * run computes (same indices, same size), so the union of the shards equals the unsharded run image for
 * image on any backend, even where a backend's arithmetic depends on the batch size.
 */
export function shardBatches(count: number, batchSize: number, shard: Shard): IndexBatch[] {
  if (!(Number.isInteger(count) && count >= 0))
    throw new Error(`count: expected an integer >= 0, got ${count}`);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new Error(`batchSize: expected an integer >= 1, got ${batchSize}`);
  }
  const K = Math.ceil(count / batchSize);
  const first = Math.floor((shard.index * K) / shard.total);
  const last = Math.floor(((shard.index + 1) * K) / shard.total);
  const out: IndexBatch[] = [];
  for (let k = first; k < last; k++)
    out.push({ start: k * batchSize, end: Math.min((k + 1) * batchSize, count) });
  return out;
}

/** Options of {@link sampleBatches}. */
export interface SampleBatchesOptions {
  /** The process the model was trained for (an SDE, or discrete marginals). */
  sde: MarginalCoefficients;
  /** The wrapped model (e.g. the EMA network). */
  model: ModelAdapter;
  /** A sampler name of the registry (`'ddim'`, `'unipc'`, `'pc'`, …). */
  sampler: string;
  /** The sampler's own options (steps, spacing, …). */
  samplerOptions?: Record<string, unknown>;
  /** Shape of one sample: `[H, W, C]` for images, `[D]` for points (`[2]`: x, y). */
  sampleShape: readonly number[];
  /** Samples in the whole (unsharded) run. */
  count: number;
  /** Samples per model batch (wasm's 4 GiB heap bounds it). */
  batchSize: number;
  /** Seed of the run: sample k's noise comes from stream k of this seed (@sbm/samplers' NoiseStreams). */
  seed: number;
  /** This process's shard, default the whole run. */
  shard?: Shard;
  /**
   * Receives each batch's raw samples (float32, row-major `[end − start, ...sampleShape]`: sample
   * `batch.start + i` is `samples[i·n … (i+1)·n)` with n = prod(sampleShape)) and their shape (awaited).
   */
  onBatch?: (batch: IndexBatch, samples: Float32Array, shape: number[]) => void | Promise<void>;
  /** Class labels for a class-conditional model, and classifier-free guidance (see {@link SampleConditioning}). */
  conditioning?: SampleConditioning;
}

/**
 * How a class-conditional model is sampled: sample k gets the class `classLabel`, or `k mod numClasses`
 * (so every shard and batch size gives sample k the same class), and with `scale ≠ 1` the model is guided
 * without a classifier (Ho & Salimans 2022) with the null class `numClasses` (@sbm/unet's convention, what
 * `training.labelDropout` trains).
 */
export interface SampleConditioning {
  numClasses: number;
  classLabel?: number;
  /** Guidance scale `w` (1: the conditional model as trained). */
  scale: number;
}

/**
 * The conditioning of a model with `numClasses` classes (none for 0) under the config's `guidance` section
 * (`{ scale, classLabel? }`).
 */
export function sampleConditioning(
  numClasses: number,
  guidance: { scale: number; classLabel?: number },
): SampleConditioning | undefined {
  if (numClasses === 0) return undefined;
  return {
    numClasses,
    scale: guidance.scale,
    ...(guidance.classLabel === undefined ? {} : { classLabel: guidance.classLabel }),
  };
}

/** The class of sample `k` under `conditioning`. */
export function sampleClass(conditioning: SampleConditioning, k: number): number {
  return conditioning.classLabel ?? k % conditioning.numClasses;
}

/**
 * Samples one shard of a run with any sampler of @sbm/samplers, batch by batch over the global batches of
 * {@link shardBatches} (each batch with `firstSample` = its first global index, so that sample k is the same
 * in any shard), and hands the raw float samples `[b, ...sampleShape]` to `onBatch`. Returns the batches done
 * and the model evaluations spent.
 */
export async function sampleBatches(
  options: SampleBatchesOptions,
): Promise<{ batches: IndexBatch[]; nfe: number }> {
  const run = samplerByName(options.sampler);
  const batches = shardBatches(options.count, options.batchSize, options.shard ?? { index: 0, total: 1 });
  const { conditioning } = options;
  const model =
    conditioning === undefined || conditioning.scale === 1
      ? options.model
      : classifierFreeGuidance(options.model, {
          scale: conditioning.scale,
          nullLabel: conditioning.numClasses,
          numClasses: conditioning.numClasses,
        });
  let nfe = 0;
  for (const batch of batches) {
    const shape = [batch.end - batch.start, ...options.sampleShape];
    const labels =
      conditioning === undefined
        ? undefined
        : tf.tensor1d(
            Int32Array.from({ length: batch.end - batch.start }, (_, i) =>
              sampleClass(conditioning, batch.start + i),
            ),
            'int32',
          );
    let result: Awaited<ReturnType<typeof run>>;
    try {
      result = await run({
        ...options.samplerOptions,
        sde: options.sde,
        model,
        shape,
        seed: options.seed,
        firstSample: batch.start,
        ...(labels ? { labels } : {}),
      });
    } finally {
      labels?.dispose();
    }
    nfe += result.nfe;
    const values = (await result.samples.data()) as Float32Array;
    result.samples.dispose();
    await options.onBatch?.(batch, values, shape);
  }
  return { batches, nfe };
}

/** Options of {@link sampleImages}: those of {@link sampleBatches} for images, handed over as 8-bit images. */
export interface SampleImagesOptions extends Omit<SampleBatchesOptions, 'sampleShape' | 'onBatch'> {
  /** Shape of one sample `[H, W, C]`. */
  sampleShape: readonly [number, number, number];
  /** Whether the data was scaled to `[−1, 1]` (else `[0, 1]`). */
  centered: boolean;
  /** Receives each batch's images with their global indices (awaited). */
  onBatch?: (batch: IndexBatch, images: Image8[]) => void | Promise<void>;
}

/**
 * Samples the images of one shard of a run ({@link sampleBatches}) and hands the 8-bit images (`toImages`:
 * `[−1, 1]` or `[0, 1]` mapped to 0–255) to `onBatch`. Returns the batches done and the model evaluations spent.
 */
export async function sampleImages(
  options: SampleImagesOptions,
): Promise<{ batches: IndexBatch[]; nfe: number }> {
  const { centered, onBatch, ...rest } = options;
  return sampleBatches({
    ...rest,
    onBatch: (batch, samples, shape) => onBatch?.(batch, toImages(samples, shape, centered)),
  });
}
