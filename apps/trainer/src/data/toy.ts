/**
 * The 2-D toy dataset: i.i.d. samples of a fixed isotropic Gaussian mixture, deterministic from a seed.
 */
import { type ArrayDataset, createDataset } from './dataset.js';
import { deriveSeed, Xoshiro128StarStar } from './rng.js';

/** An isotropic Gaussian mixture in 2-D: component `k` has weight `weights[k]`, mean `means[k]`, std `stds[k]`. */
export interface GaussianMixture2D {
  readonly weights: readonly number[];
  readonly means: ReadonlyArray<readonly [number, number]>;
  readonly stds: readonly number[];
}

/**
 * The toy mixture (the same parameters as the sampler tests' oracle): three components, weights
 * 0.2 / 0.5 / 0.3, means (−2, −1.5), (1.5, −1), (0, 2), standard deviations 0.35 / 0.5 / 0.3.
 */
export const TOY_MIXTURE: GaussianMixture2D = Object.freeze({
  weights: Object.freeze([0.2, 0.5, 0.3]),
  means: Object.freeze([
    Object.freeze([-2, -1.5] as const),
    Object.freeze([1.5, -1] as const),
    Object.freeze([0, 2] as const),
  ]),
  stds: Object.freeze([0.35, 0.5, 0.3]),
});

/** Stream id mixed into the seed so toy samples never share a stream with other users of the same seed. */
const TOY_STREAM = 0x70e;

/** Options of {@link sampleToy}. */
export interface ToyOptions {
  /** Number of samples (≥ 1). */
  n: number;
  /** Integer seed; the same seed gives the same samples. */
  seed: number;
  /** The mixture, default {@link TOY_MIXTURE}. */
  mixture?: GaussianMixture2D;
}

/**
 * Draws `n` samples: for each, a component by weight (one uniform), then `mean + std·z` with two standard
 * normals (xoshiro128** seeded from `seed`).
 *
 * @returns a float32 dataset named `toy2d` of shape `[2]` (`data[2i], data[2i+1]` = x, y of sample i), with
 * `labels[i]` the component that generated sample i and `numClasses` the number of components.
 */
export function sampleToy(options: ToyOptions): ArrayDataset {
  const { n, seed } = options;
  const m = options.mixture ?? TOY_MIXTURE;
  if (!Number.isInteger(n) || n < 1) throw new Error(`sampleToy: n must be an integer ≥ 1, got ${n}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`sampleToy: seed must be a safe integer, got ${seed}`);
  const K = m.weights.length;
  if (K < 1 || K > 256 || m.means.length !== K || m.stds.length !== K) {
    throw new Error(
      `sampleToy: mixture needs 1–256 components with one mean and std each, got ${K} weights, ${m.means.length} means, ${m.stds.length} stds`,
    );
  }
  if (!m.weights.every((w) => Number.isFinite(w) && w >= 0) || m.weights.every((w) => w === 0)) {
    throw new Error(`sampleToy: mixture weights must be ≥ 0 and not all 0, got [${m.weights.join(', ')}]`);
  }
  if (!m.stds.every((s) => Number.isFinite(s) && s > 0))
    throw new Error(`sampleToy: mixture stds must be > 0, got [${m.stds.join(', ')}]`);
  const total = m.weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of m.weights) {
    acc += w / total;
    cumulative.push(acc);
  }
  const rng = Xoshiro128StarStar.fromSeed(deriveSeed(seed, TOY_STREAM));
  const data = new Float32Array(2 * n);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.nextFloat();
    let k = 0;
    while (k < K - 1 && u >= cumulative[k]!) k++;
    const mean = m.means[k]!;
    data[2 * i] = mean[0] + m.stds[k]! * rng.nextNormal();
    data[2 * i + 1] = mean[1] + m.stds[k]! * rng.nextNormal();
    labels[i] = k;
  }
  return createDataset({ name: 'toy2d', shape: [2], data, labels, numClasses: K });
}
