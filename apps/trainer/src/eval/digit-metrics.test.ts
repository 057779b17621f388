import { setupBackend } from '@sbm/backend';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../data/mnist.js';
import { Xoshiro128StarStar } from '../data/rng.js';
import { datasetToDigitImages } from './dataset-images.js';
import { type DigitClassifier, trainDigitClassifier } from './digit-classifier.js';
import { digitSampleMetrics, formatDigitMetrics } from './digit-metrics.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (name) => import(name) }));

describe('digitSampleMetrics (classifier trained on 2,000 MNIST digits, 28×28)', () => {
  const { train, test } = loadMnist({ train: 2000, test: 2000, resolution: 28 });
  const per = 28 * 28;
  // Disjoint held-out halves: 1,000 "real" digits and 1,000 other real digits posing as samples.
  const real = datasetToDigitImages(test!, 0, 1000);
  const other = datasetToDigitImages(test!, 1000, 2000);
  let classifier: DigitClassifier;
  beforeAll(async () => {
    classifier = await trainDigitClassifier({ train, epochs: 3, batchSize: 32, seed: 1 });
  }, 120_000);
  afterAll(() => classifier?.dispose());

  it('scores other real digits like the real ones (confident share, Fréchet near the floor)', () => {
    // 500 samples so that the sample-size bias matches the floor's (500 vs 500).
    const m = digitSampleMetrics({ classifier, samples: other.pixels.subarray(0, 500 * per), real });
    console.log(formatDigitMetrics(m));
    expect(m.heldOutAccuracy).toBeGreaterThan(0.9);
    expect(Math.abs(m.confidentShare - m.realConfidentShare)).toBeLessThan(0.06);
    expect(m.frechetFloor).toBeGreaterThan(0);
    expect(m.frechet).toBeLessThan(1.5 * m.frechetFloor);
    // (500 vs 1,000 digits carries less finite-sample bias than the 500 vs 500 floor; measured ≈ 0.4× it.)
    expect(m.frechet).toBeGreaterThan(0.1 * m.frechetFloor);
    expect(m.histogram.reduce((a, b) => a + b, 0)).toBe(500);
  });

  it('gives uniform noise a low confident share and a far larger Fréchet distance', () => {
    const rng = Xoshiro128StarStar.fromSeed(7);
    const noise = new Float32Array(500 * per);
    for (let i = 0; i < noise.length; i++) noise[i] = rng.nextFloat();
    const m = digitSampleMetrics({ classifier, samples: noise, real });
    console.log(formatDigitMetrics(m));
    expect(m.confidentShare).toBeLessThan(m.realConfidentShare - 0.3);
    expect(m.frechet).toBeGreaterThan(10 * m.frechetFloor);
  });

  it('shows a class-imbalanced sample set in the histogram', () => {
    // Only the real digits labelled 3 (and one 8 to have two classes).
    const labels = other.labels!;
    const idx = [...labels.keys()].filter((i) => labels[i] === 3);
    idx.push(labels.indexOf(8));
    const samples = new Float32Array(idx.length * per);
    idx.forEach((i, k) => {
      samples.set(other.pixels.subarray(i * per, (i + 1) * per), k * per);
    });
    const m = digitSampleMetrics({ classifier, samples, real });
    expect(m.histogram[3]! / idx.length).toBeGreaterThan(0.8);
    const elsewhere = m.histogram.reduce((a, b) => a + b, 0) - m.histogram[3]!;
    expect(elsewhere).toBeLessThan(0.2 * idx.length);
    // Mode collapse on one class also costs Fréchet distance.
    expect(m.frechet).toBeGreaterThan(3 * m.frechetFloor);
  });

  it('leaks no tensors and names the argument on bad input', () => {
    const samples = other.pixels.subarray(0, 20 * per);
    digitSampleMetrics({ classifier, samples, real });
    const before = tf.memory().numTensors;
    digitSampleMetrics({ classifier, samples, real });
    expect(tf.memory().numTensors).toBe(before);
    expect(() => digitSampleMetrics({ classifier, samples: new Float32Array(per), real })).toThrow(/samples/);
    expect(() => digitSampleMetrics({ classifier, samples, real: { ...real, resolution: 32 } })).toThrow(
      /real has resolution/,
    );
  });
});
