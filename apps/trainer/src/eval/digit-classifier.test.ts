import { setupBackend } from '@sbm/backend';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../data/mnist.js';
import { datasetToDigitImages } from './dataset-images.js';
import {
  buildDigitClassifier,
  classifierAccuracy,
  classifyDigits,
  DIGIT_FEATURE_DIM,
  type DigitClassifier,
  trainDigitClassifier,
} from './digit-classifier.js';

// wasm is much faster than the pure-JS cpu backend for convolutions.
beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (name) => import(name) }));

describe('digit classifier on MNIST (2,000 train / 1,000 held-out digits, 28×28)', () => {
  const { train, test } = loadMnist({ train: 2000, test: 1000, resolution: 28 });
  const held = datasetToDigitImages(test!);
  let classifier: DigitClassifier;
  afterAll(() => classifier?.dispose());

  it('reaches ≥ 0.9 held-out accuracy after 3 epochs', async () => {
    const t0 = performance.now();
    classifier = await trainDigitClassifier({ train, epochs: 3, batchSize: 32, seed: 1 });
    const acc = classifierAccuracy(classifier, held.pixels, held.labels!);
    console.log(
      `digit classifier: held-out accuracy ${acc.toFixed(4)}, trained in ${((performance.now() - t0) / 1000).toFixed(1)} s on ${tf.getBackend()}`,
    );
    expect(acc).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it('classifies one digit consistently with its label and with the batched result', () => {
    const per = 28 * 28;
    const all = classifyDigits(classifier, held.pixels.subarray(0, 300 * per), 64);
    // The first confidently classified held-out digit: its label, alone and in the batch.
    const i = all.confidence.findIndex((c, k) => c > 0.99 && all.predicted[k] === held.labels![k]);
    expect(i).toBeGreaterThanOrEqual(0);
    const one = classifyDigits(classifier, held.pixels.subarray(i * per, (i + 1) * per));
    expect(one.predicted[0]).toBe(held.labels![i]);
    expect(one.confidence[0]).toBeCloseTo(all.confidence[i]!, 5);
    let sum = 0;
    for (let c = 0; c < 10; c++) sum += one.probabilities[c]!;
    expect(sum).toBeCloseTo(1, 5);
    expect(one.features.length).toBe(DIGIT_FEATURE_DIM);
    expect(Array.from(one.features).every((v) => v >= 0)).toBe(true); // after the ReLU
    expect(Array.from(one.features)).toEqual(
      Array.from(all.features.subarray(i * 64, (i + 1) * 64)).map((v) => expect.closeTo(v, 4)),
    );
  });

  it('leaks no tensors when classifying', async () => {
    await expectNoLeaks(() => classifyDigits(classifier, held.pixels.subarray(0, 70 * 28 * 28), 32));
  });

  it('names the argument on bad input', () => {
    expect(() => classifyDigits(classifier, new Float32Array(100))).toThrow(/images must hold/);
    expect(() => buildDigitClassifier(30)).toThrow(/resolution/);
  });
});

describe('buildDigitClassifier', () => {
  it('accepts 16 and 32 pixel digits and is deterministic from the seed', () => {
    for (const r of [16, 32]) {
      const a = buildDigitClassifier(r, 3);
      const b = buildDigitClassifier(r, 3);
      const x = new Float32Array(2 * r * r).map((_, k) => (k % 7) / 7);
      const ya = classifyDigits(a, x);
      const yb = classifyDigits(b, x);
      expect(ya.probabilities.length).toBe(20);
      expect(Array.from(yb.probabilities)).toEqual(Array.from(ya.probabilities));
      a.dispose();
      b.dispose();
    }
  });

  it('frees all its weights on dispose', () => {
    const before = tf.memory().numTensors;
    buildDigitClassifier(16, 0).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('leaves nothing behind after training and dispose (the Adam moments included)', async () => {
    const small = loadMnist({ train: 64, test: 0, resolution: 16 }).train;
    (await trainDigitClassifier({ train: small, epochs: 1, batchSize: 32 })).dispose(); // warm-up
    const before = tf.memory().numTensors;
    (await trainDigitClassifier({ train: small, epochs: 1, batchSize: 32 })).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
