import { assertInteger, describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES } from './inception-blocks.js';
import type { FidInception } from './inception-v3.js';

/** Options of {@link inceptionFeatures}. */
export interface InceptionFeaturesOptions {
  /**
   * Images per forward pass (default 16). Each 299×299 image needs about 16 MB of activations at the widest
   * stage, so the default fits comfortably in the wasm backend's heap.
   */
  batchSize?: number;
  /** Called after every forward pass with the number of images done so far. */
  onProgress?: (done: number) => void;
}

/** Features of a set of images, row-major. */
export interface InceptionFeatures {
  /** Number of images `N`. */
  count: number;
  /** `[N, 2048]` pool3 features, row-major. */
  pool3: Float32Array;
  /** `[N, 1008]` classifier logits, row-major. */
  logits: Float32Array;
}

/** Where {@link inceptionFeatures} takes images from. */
export type InceptionImageSource = tf.Tensor4D | Iterable<tf.Tensor4D> | AsyncIterable<tf.Tensor4D>;

function isAsyncIterable(v: unknown): v is AsyncIterable<tf.Tensor4D> {
  return typeof v === 'object' && v !== null && Symbol.asyncIterator in v;
}

function isIterable(v: unknown): v is Iterable<tf.Tensor4D> {
  return typeof v === 'object' && v !== null && Symbol.iterator in v;
}

/**
 * pool3 features and logits of any number of images through the FID Inception network (pytorch-fid's
 * `get_activations`, Heusel et al. 2017), in forward passes of at most `batchSize` images; the results are read
 * back after every pass, so only one batch of activations is on the backend at a time.
 *
 * @param model - the network from `loadFidInception`.
 * @param images - `[N, H, W, C]` float32 in `[0, 1]` with `C` = 1 or 3 (not disposed), or an (async) iterable of
 *   such batches (e.g. a sampler's output, sizes may differ between batches); tensors yielded by an iterable are
 *   handed over and disposed once used.
 * @param options - `batchSize` (default 16) and an `onProgress` callback.
 * @returns `count`, `pool3 [N, 2048]` and `logits [N, 1008]` as row-major Float32Arrays.
 * @throws SbmArgumentError for a bad `images` (see `preprocessForInception`; the name says which batch) or a
 *   `batchSize` that is not a positive integer.
 */
export async function inceptionFeatures(
  model: FidInception,
  images: InceptionImageSource,
  options: InceptionFeaturesOptions = {},
): Promise<InceptionFeatures> {
  const batchSize = options.batchSize ?? 16;
  assertInteger('options.batchSize', batchSize);
  if (!(images instanceof tf.Tensor) && !isIterable(images) && !isAsyncIterable(images)) {
    throw new SbmArgumentError(
      'images',
      `expected a tf.Tensor4D [N,H,W,C] or an iterable of them, got ${describeValue(images)}`,
    );
  }
  const pool3Parts: Float32Array[] = [];
  const logitParts: Float32Array[] = [];
  let done = 0;

  const consume = async (batch: tf.Tensor4D, name: string): Promise<void> => {
    if (!(batch instanceof tf.Tensor) || batch.rank !== 4) {
      throw new SbmArgumentError(name, `expected a tf.Tensor4D [N,H,W,C], got ${describeValue(batch)}`);
    }
    const n = batch.shape[0];
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const chunk = start === 0 && size === n ? batch : tf.slice(batch, [start, 0, 0, 0], [size, -1, -1, -1]);
      let outputs: { pool3: tf.Tensor2D; logits: tf.Tensor2D } | undefined;
      try {
        outputs = model.apply(chunk);
        const [p, l] = await Promise.all([outputs.pool3.data(), outputs.logits.data()]);
        pool3Parts.push(p as Float32Array);
        logitParts.push(l as Float32Array);
      } catch (error) {
        if (error instanceof SbmArgumentError && error.argument === 'images' && name !== 'images') {
          throw new SbmArgumentError(name, error.message.slice('images: '.length));
        }
        throw error;
      } finally {
        if (chunk !== batch) chunk.dispose();
        if (outputs !== undefined) tf.dispose([outputs.pool3, outputs.logits]);
      }
      done += size;
      options.onProgress?.(done);
    }
  };

  if (images instanceof tf.Tensor) {
    await consume(images, 'images');
  } else {
    let index = 0;
    const iterable = images as Iterable<tf.Tensor4D> | AsyncIterable<tf.Tensor4D>;
    for await (const batch of iterable) {
      try {
        await consume(batch, `images[${index}]`);
      } finally {
        if (batch instanceof tf.Tensor) batch.dispose();
      }
      index++;
    }
  }
  return {
    count: done,
    pool3: concatParts(pool3Parts, done * FID_INCEPTION_FEATURES),
    logits: concatParts(logitParts, done * FID_INCEPTION_CLASSES),
  };
}

function concatParts(parts: Float32Array[], length: number): Float32Array {
  const out = new Float32Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
