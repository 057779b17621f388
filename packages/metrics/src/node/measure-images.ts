import * as tf from '@tensorflow/tfjs-core';
import { FeatureStatistics } from '../feature-statistics.js';
import type { FidStatistics } from '../frechet-distance.js';
import { FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES } from '../inception-blocks.js';
import type { FidInception } from '../inception-v3.js';
import type { ImageSource } from './image-source.js';

/** Options of {@link measureImages}. */
export interface MeasureImagesOptions {
  /** Images per forward pass (default 16: about 16 MB of activations per image at 299×299 on the wasm heap). */
  batchSize?: number;
  /** Keep the pool3 features (for KID). */
  keepFeatures?: boolean;
  /** Keep the logits (for the Inception Score). */
  keepLogits?: boolean;
  /** Called after every forward pass with the images done so far. */
  onProgress?: (done: number, total: number) => void;
  /** Stops between forward passes. */
  signal?: AbortSignal;
}

/** What {@link measureImages} measured. */
export interface ImageMeasurements {
  /** Number of images measured, $N$. */
  count: number;
  /** Mean `[2048]` and covariance `[2048, 2048]` (divisor $N - 1$) of the pool3 features, as pytorch-fid's `calculate_activation_statistics`. */
  statistics: FidStatistics;
  /** `[N, 2048]` pool3 features, row-major (with `keepFeatures`). */
  features?: Float32Array;
  /** `[N, 1008]` logits, row-major (with `keepLogits`). */
  logits?: Float32Array;
}

/**
 * Runs every image of `source` through the FID Inception network once and accumulates the pool3 statistics in
 * float64 (streaming: memory does not grow with N unless features or logits are kept).
 *
 * @param model - from `loadFidInception`.
 * @param source - from {@link openImageSource}.
 * @throws SbmArgumentError from the source (a corrupt file) or when fewer than 2 images are given.
 */
export async function measureImages(
  model: FidInception,
  source: ImageSource,
  options: MeasureImagesOptions = {},
): Promise<ImageMeasurements> {
  const { batchSize = 16, keepFeatures = false, keepLogits = false, onProgress, signal } = options;
  const stats = new FeatureStatistics(FID_INCEPTION_FEATURES);
  const features = keepFeatures ? new Float32Array(source.count * FID_INCEPTION_FEATURES) : undefined;
  const logits = keepLogits ? new Float32Array(source.count * FID_INCEPTION_CLASSES) : undefined;
  let done = 0;
  for await (const batch of source.batches(batchSize)) {
    signal?.throwIfAborted();
    const images = tf.tensor4d(batch.pixels, [batch.count, batch.height, batch.width, 3]);
    let out: ReturnType<FidInception['apply']> | undefined;
    try {
      out = model.apply(images);
      const [pool3, logit] = await Promise.all([
        out.pool3.data(),
        keepLogits ? out.logits.data() : undefined,
      ]);
      stats.add(pool3 as Float32Array, batch.count);
      features?.set(pool3 as Float32Array, done * FID_INCEPTION_FEATURES);
      if (logit) logits?.set(logit as Float32Array, done * FID_INCEPTION_CLASSES);
    } finally {
      images.dispose();
      if (out) tf.dispose([out.pool3, out.logits]);
    }
    done += batch.count;
    onProgress?.(done, source.count);
  }
  return { count: done, statistics: stats.toFidStatistics(), features, logits };
}
