/**
 * Deterministic, resumable mini-batches over an {@link ArrayDataset}.
 *
 * - Epoch `e` visits the samples in the order of a permutation drawn from `(seed, e)` alone.
 * - Each epoch yields `floor(size / batchSize)` batches; the last `size mod batchSize` samples of the
 *   epoch's order are dropped (as score_sde's input pipeline does with `drop_remainder=True`), so every
 *   batch has exactly `batchSize` samples.
 * - With `randomFlip`, the sample at position `j` of epoch `e`'s order is mirrored left–right iff bit `j` of
 *   a flip stream drawn from `(seed, e)` is set (probability ½).
 * - Everything is a pure function of `(seed, epoch, batch index)`, so a stream started at a saved
 *   `position` yields exactly the batches an uninterrupted stream would from there.
 */
import { type ArrayDataset, isImageDataset, sampleLength } from './dataset.js';
import { deriveSeed, randomPermutation, Xoshiro128StarStar } from './rng.js';

/** A point in the batch sequence: batch `index` (0-based) of epoch `epoch` (0-based). */
export interface BatchPosition {
  epoch: number;
  index: number;
}

/** One mini-batch. */
export interface Batch {
  /** `[batchSize, ...dataset.shape]` row-major (images: `[B, H, W, C]`), see `centered`. */
  x: Float32Array;
  /** `[batchSize]` class labels, or `null` when the dataset has none. */
  labels: Int32Array | null;
  /** `[batchSize, ...dataset.shape]`. */
  shape: number[];
  /** The dataset index of each sample, `[batchSize]`. */
  indices: Int32Array;
  /** 1 where the sample was mirrored left–right, `[batchSize]`; `null` without `randomFlip`. */
  flipped: Uint8Array | null;
  /** Where this batch sits in the sequence. */
  position: BatchPosition;
}

/** Options of {@link createBatchStream}. */
export interface BatchStreamOptions {
  dataset: ArrayDataset;
  /** Samples per batch, 1 … dataset.size. */
  batchSize: number;
  /** Integer seed of the shuffles and flips. */
  seed: number;
  /** Mirror images left–right with probability ½ (image datasets only). */
  randomFlip: boolean;
  /** Map uint8 `v` to `2v/255 − 1` ∈ [−1, 1] instead of `v/255` ∈ [0, 1]. Float datasets are passed through unchanged. */
  centered: boolean;
  /** Where to start (default `{ epoch: 0, index: 0 }`); `index` may equal `batchesPerEpoch` (= next epoch). */
  position?: BatchPosition;
}

/** A synchronous, infinite batch sequence. */
export interface BatchStream {
  /** Batches per epoch, `floor(size / batchSize)`. */
  readonly batchesPerEpoch: number;
  /** The position of the batch the next `next()` returns (save this to resume). */
  readonly position: BatchPosition;
  /** Computes and returns the next batch. */
  next(): Batch;
}

const PERMUTATION_STREAM = 1;
const FLIP_STREAM = 2;

/** The sample order of epoch `epoch` for `seed`: a permutation of `0 … size−1`. */
export function epochPermutation(size: number, seed: number, epoch: number): Int32Array {
  return randomPermutation(size, Xoshiro128StarStar.fromSeed(deriveSeed(seed, epoch, PERMUTATION_STREAM)));
}

/** The flip bits of epoch `epoch` for `seed`: `[size]`, entry `j` for position `j` of the epoch's order. */
export function epochFlips(size: number, seed: number, epoch: number): Uint8Array {
  const rng = Xoshiro128StarStar.fromSeed(deriveSeed(seed, epoch, FLIP_STREAM));
  const flips = new Uint8Array(size);
  for (let j = 0; j < size; j++) flips[j] = rng.nextUint32() >>> 31;
  return flips;
}

/**
 * Creates a deterministic batch stream (see the module comment for the order, dropping and flip rules).
 *
 * @throws when `batchSize` is not in `1 … dataset.size`, `seed` is not a safe integer, `randomFlip` is asked
 * of a non-image dataset, or `position` is out of range.
 */
export function createBatchStream(options: BatchStreamOptions): BatchStream {
  const { dataset, batchSize, seed, randomFlip, centered } = options;
  const N = dataset.size;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > N) {
    throw new Error(
      `createBatchStream: batchSize must be an integer in 1…${N} (the size of ${dataset.name}), got ${batchSize}`,
    );
  }
  if (!Number.isSafeInteger(seed))
    throw new Error(`createBatchStream: seed must be a safe integer, got ${seed}`);
  const image = isImageDataset(dataset);
  if (randomFlip && !image) {
    throw new Error(
      `createBatchStream: randomFlip needs an image dataset ([H, W, C] uint8), ${dataset.name} has shape [${dataset.shape.join(', ')}]`,
    );
  }
  const per = sampleLength(dataset.shape);
  const batchesPerEpoch = Math.floor(N / batchSize);
  const start = options.position ?? { epoch: 0, index: 0 };
  if (
    !Number.isSafeInteger(start.epoch) ||
    start.epoch < 0 ||
    !Number.isInteger(start.index) ||
    start.index < 0 ||
    start.index > batchesPerEpoch
  ) {
    throw new Error(
      `createBatchStream: position must have an integer epoch ≥ 0 and index in 0…${batchesPerEpoch}, got ${JSON.stringify(start)}`,
    );
  }
  let epoch = start.epoch;
  let index = start.index;
  if (index === batchesPerEpoch) {
    epoch++;
    index = 0;
  }
  let cachedEpoch = -1;
  let order: Int32Array = new Int32Array(0);
  let flips: Uint8Array | null = null;

  const H = dataset.shape[0] ?? 1;
  const W = dataset.shape[1] ?? 1;
  const C = dataset.shape[2] ?? 1;
  const src = dataset.data;
  const numerator = centered ? 2 : 1;
  const shift = centered ? -1 : 0;
  const shape = [batchSize, ...dataset.shape];

  function copySample(i: number, flip: boolean, out: Float32Array, o: number): void {
    const base = i * per;
    if (!image) {
      for (let t = 0; t < per; t++) out[o + t] = src[base + t]!;
      return;
    }
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const from = base + (y * W + (flip ? W - 1 - x : x)) * C;
        const to = o + (y * W + x) * C;
        for (let c = 0; c < C; c++) out[to + c] = (numerator * src[from + c]!) / 255 + shift;
      }
    }
  }

  return {
    batchesPerEpoch,
    get position(): BatchPosition {
      return { epoch, index };
    },
    next(): Batch {
      if (cachedEpoch !== epoch) {
        order = epochPermutation(N, seed, epoch);
        flips = randomFlip ? epochFlips(N, seed, epoch) : null;
        cachedEpoch = epoch;
      }
      const x = new Float32Array(batchSize * per);
      const labels = dataset.labels === null ? null : new Int32Array(batchSize);
      const indices = new Int32Array(batchSize);
      const flipped = flips === null ? null : new Uint8Array(batchSize);
      for (let b = 0; b < batchSize; b++) {
        const j = index * batchSize + b;
        const i = order[j]!;
        indices[b] = i;
        const flip = flips !== null && flips[j] === 1;
        if (flipped !== null) flipped[b] = flip ? 1 : 0;
        copySample(i, flip, x, b * per);
        if (labels !== null) labels[b] = dataset.labels![i]!;
      }
      const position = { epoch, index };
      index++;
      if (index === batchesPerEpoch) {
        epoch++;
        index = 0;
      }
      return { x, labels, shape: [...shape], indices, flipped, position };
    },
  };
}

/** A batch stream whose next batch is computed in the background (see {@link prefetch}). */
export interface PrefetchingBatchStream {
  readonly batchesPerEpoch: number;
  /** The position of the batch the next `next()` resolves to (prefetched batches are not counted). */
  readonly position: BatchPosition;
  /** Resolves to the next batch: immediately when it was prefetched, else once it is computed. */
  next(): Promise<Batch>;
}

/**
 * Wraps a stream so that, once a batch is handed out, the following one is computed in a `setImmediate`
 * callback, i.e. while the caller's training step runs (or awaits the accelerator) rather than on the next
 * `next()` call. Yields exactly the batches of `stream`, in order. Do not call `stream.next()` directly
 * after wrapping it.
 */
export function prefetch(stream: BatchStream): PrefetchingBatchStream {
  let position = stream.position;
  let pending: Promise<Batch> | null = null;

  const compute = (): Promise<Batch> =>
    new Promise<Batch>((resolve, reject) => {
      setImmediate(() => {
        try {
          resolve(stream.next());
        } catch (e) {
          reject(e);
        }
      });
    });

  let tail: Promise<unknown> = Promise.resolve();
  const take = async (): Promise<Batch> => {
    const current = pending ?? compute();
    pending = null;
    const batch = await current;
    position = stream.position;
    pending = compute();
    // Errors of a prefetch surface on the next `next()`; keep them from being reported as unhandled.
    pending.catch(() => undefined);
    return batch;
  };

  return {
    batchesPerEpoch: stream.batchesPerEpoch,
    get position(): BatchPosition {
      return { ...position };
    },
    next(): Promise<Batch> {
      // Calls are serialized, so overlapping next() calls still receive consecutive batches.
      const result = tail.then(take);
      tail = result.catch(() => undefined);
      return result;
    },
  };
}
