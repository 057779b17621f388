/**
 * A small CNN digit classifier used to measure generated MNIST digits (confidence, class histogram and a
 * Fréchet distance in its 64-d feature space).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; the tfjs-layers bundle registers them all.
import * as tfl from '@tensorflow/tfjs-layers';
import type { ArrayDataset } from '../data/dataset.js';
import { randomPermutation, Xoshiro128StarStar } from '../data/rng.js';
import { datasetToDigitImages } from './dataset-images.js';

/** Width of the feature layer (the penultimate dense layer, after its ReLU). */
export const DIGIT_FEATURE_DIM = 64;
/** Number of classes. */
export const DIGIT_CLASSES = 10;

/** A trained classifier for `R × R × 1` digits; call {@link DigitClassifier.dispose} when done. */
export interface DigitClassifier {
  /** Side R of the images it accepts. */
  readonly resolution: number;
  /** `[N, R, R, 1] → [N, 10]` softmax probabilities (the trained model). */
  readonly model: tfl.LayersModel;
  /** The same layers with two outputs: probabilities `[N, 10]` and features `[N, 64]`. */
  readonly featureModel: tfl.LayersModel;
  /** Frees the weights. */
  dispose(): void;
}

/** Options of {@link trainDigitClassifier}. */
export interface TrainDigitClassifierOptions {
  /** Labelled uint8 `[R, R, 1]` digits (e.g. `loadMnist(...).train`), R divisible by 4. */
  train: ArrayDataset;
  /** Passes over `train` (default 2). */
  epochs?: number;
  /** Minibatch size (default 64). */
  batchSize?: number;
  /** Seed of the weight initialisation and of the per-epoch shuffling (default 0). */
  seed?: number;
  /** Adam learning rate (default 1e-3). */
  learningRate?: number;
}

/** Output of {@link classifyDigits}. */
export interface DigitClassification {
  /** `[N, 10]` row-major softmax probabilities. */
  probabilities: Float32Array;
  /** Arg-max class per image. */
  predicted: Uint8Array;
  /** Max probability per image. */
  confidence: Float32Array;
  /** `[N, 64]` row-major activations of the feature layer. */
  features: Float32Array;
}

function checkPositiveInt(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`trainDigitClassifier: ${name} must be an integer ≥ 1, got ${v}`);
}

/**
 * Builds the (untrained) network: conv 3×3×16 + ReLU + max-pool 2, conv 3×3×32 + ReLU + max-pool 2,
 * flatten, dense 64 + ReLU (the feature layer), dense 10 softmax. Weights are Glorot-uniform from `seed`.
 *
 * @throws Error naming `resolution` unless it is a positive multiple of 4.
 */
export function buildDigitClassifier(resolution: number, seed = 0): DigitClassifier {
  if (!Number.isInteger(resolution) || resolution < 4 || resolution % 4 !== 0) {
    throw new Error(`buildDigitClassifier: resolution must be a positive multiple of 4, got ${resolution}`);
  }
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 16 + k });
  const input = tfl.input({ shape: [resolution, resolution, 1] });
  let h = tfl.layers
    .conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) })
    .apply(input) as tfl.SymbolicTensor;
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers
    .conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) })
    .apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tfl.SymbolicTensor;
  h = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
  const features = tfl.layers
    .dense({ units: DIGIT_FEATURE_DIM, activation: 'relu', kernelInitializer: init(3) })
    .apply(h) as tfl.SymbolicTensor;
  const probs = tfl.layers
    .dense({ units: DIGIT_CLASSES, activation: 'softmax', kernelInitializer: init(4) })
    .apply(features) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: probs });
  const featureModel = tfl.model({ inputs: input, outputs: [probs, features] });
  return {
    resolution,
    model,
    featureModel,
    // Both models share the same layer objects; disposing one frees the weights.
    dispose: () => model.dispose(),
  };
}

/**
 * Trains {@link buildDigitClassifier} with Adam on sparse categorical cross-entropy.
 *
 * Determinism: the initial weights (seeded Glorot) and the minibatch order (a xoshiro128** permutation per
 * epoch from `seed`, fed to `fit` with `shuffle: false`) are fixed by `seed`, and there is no dropout, so a
 * run is reproducible on the same backend. Float reduction order differs across backends (cpu, wasm with or
 * without SIMD/threads, GPU), so weights and accuracies agree only approximately across them.
 *
 * @throws Error naming `train`, `epochs`, `batchSize` or `seed` when invalid.
 */
export async function trainDigitClassifier(options: TrainDigitClassifierOptions): Promise<DigitClassifier> {
  const { train } = options;
  const epochs = options.epochs ?? 2;
  const batchSize = options.batchSize ?? 64;
  const seed = options.seed ?? 0;
  checkPositiveInt(epochs, 'epochs');
  checkPositiveInt(batchSize, 'batchSize');
  if (!Number.isInteger(seed) || seed < 0)
    throw new Error(`trainDigitClassifier: seed must be an integer ≥ 0, got ${seed}`);
  if (train.labels === null) throw new Error(`trainDigitClassifier: train (${train.name}) has no labels`);
  const images = datasetToDigitImages(train);
  const r = images.resolution;
  const per = r * r;
  const classifier = buildDigitClassifier(r, seed);
  // An optimizer object passed to compile is not the model's to dispose: its moments are freed below.
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  classifier.model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  try {
    const rng = Xoshiro128StarStar.fromSeed(seed + 0x5eed);
    const shuffled = new Float32Array(images.pixels.length);
    const labels = new Float32Array(images.count);
    for (let e = 0; e < epochs; e++) {
      const order = randomPermutation(images.count, rng);
      for (let k = 0; k < images.count; k++) {
        const i = order[k]!;
        shuffled.set(images.pixels.subarray(i * per, (i + 1) * per), k * per);
        labels[k] = images.labels![i]!;
      }
      const x = tf.tensor4d(shuffled, [images.count, r, r, 1]);
      const y = tf.tensor2d(labels, [images.count, 1]);
      try {
        await classifier.model.fit(x, y, { epochs: 1, batchSize, shuffle: false, verbose: 0 });
      } finally {
        tf.dispose([x, y]);
      }
    }
  } catch (error) {
    classifier.dispose();
    throw error;
  } finally {
    optimizer.dispose();
  }
  return classifier;
}

/**
 * Classifies `[N, R, R, 1]` images in [0, 1] in batches of `batchSize` (default 256).
 *
 * @throws Error naming `images` when its length is not a positive multiple of `R²` of the classifier.
 */
export function classifyDigits(
  classifier: DigitClassifier,
  images: Float32Array,
  batchSize = 256,
): DigitClassification {
  const r = classifier.resolution;
  const per = r * r;
  if (images.length === 0 || images.length % per !== 0) {
    throw new Error(`classifyDigits: images must hold N·${r}·${r} values (N ≥ 1), got ${images.length}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`classifyDigits: batchSize must be an integer ≥ 1, got ${batchSize}`);
  }
  const n = images.length / per;
  const probabilities = new Float32Array(n * DIGIT_CLASSES);
  const features = new Float32Array(n * DIGIT_FEATURE_DIM);
  for (let s = 0; s < n; s += batchSize) {
    const b = Math.min(batchSize, n - s);
    const [p, f] = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(s * per, (s + b) * per), [b, r, r, 1]);
      return classifier.featureModel.predict(x) as tf.Tensor[];
    });
    probabilities.set(p!.dataSync() as Float32Array, s * DIGIT_CLASSES);
    features.set(f!.dataSync() as Float32Array, s * DIGIT_FEATURE_DIM);
    tf.dispose([p!, f!]);
  }
  const predicted = new Uint8Array(n);
  const confidence = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < DIGIT_CLASSES; c++) {
      if (probabilities[i * DIGIT_CLASSES + c]! > probabilities[i * DIGIT_CLASSES + best]!) best = c;
    }
    predicted[i] = best;
    confidence[i] = probabilities[i * DIGIT_CLASSES + best]!;
  }
  return { probabilities, predicted, confidence, features };
}

/** Share of `images` whose predicted class equals `labels` (both of length N). */
export function classifierAccuracy(
  classifier: DigitClassifier,
  images: Float32Array,
  labels: Uint8Array,
): number {
  const { predicted } = classifyDigits(classifier, images);
  if (labels.length !== predicted.length) {
    throw new Error(
      `classifierAccuracy: labels must have one entry per image (${predicted.length}), got ${labels.length}`,
    );
  }
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) ok++;
  return ok / labels.length;
}
