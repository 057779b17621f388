import { setupBackend } from '@sbm/backend';
import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES } from './inception-blocks.js';
import { inceptionFeatures } from './inception-features.js';
import {
  formulaBatch,
  type InceptionReference,
  loadFixtureInception,
  loadInceptionReference,
  maxAbs,
  maxAbsDiff,
  row,
} from './inception-fixtures.test-support.js';
import type { FidInception } from './inception-v3.js';

let ref: InceptionReference;
let model: FidInception;

beforeAll(async () => {
  await setupBackend({ prefer: 'wasm', importModule: (n) => import(n) });
  ref = loadInceptionReference();
  model = loadFixtureInception();
});

afterAll(() => model?.dispose());

/**
 * Row `k` of the result equals PyTorch's output for reference input `inputs[k]` within 1e-4 × max |reference|
 * (scripts/inception-reference.py, float64; see inception-v3.test.ts for the tolerance).
 */
function expectRows(result: { pool3: Float32Array; logits: Float32Array }, inputs: number[]): void {
  inputs.forEach((i, k) => {
    const p = row(ref.pool3, i, FID_INCEPTION_FEATURES);
    const l = row(ref.logits, i, FID_INCEPTION_CLASSES);
    expect(maxAbsDiff(row(result.pool3, k, FID_INCEPTION_FEATURES), p)).toBeLessThan(1e-4 * maxAbs(p));
    expect(maxAbsDiff(row(result.logits, k, FID_INCEPTION_CLASSES), l)).toBeLessThan(1e-4 * maxAbs(l));
  });
}

describe('inceptionFeatures against pytorch-fid (torch 1.13)', () => {
  it('splits a [3,32,32,3] tensor into batches of 2 and returns the rows in order', async () => {
    const images = formulaBatch([4, 5, 6].map((i) => ref.meta.inputs[i]!));
    const progress: number[] = [];
    const result = await inceptionFeatures(model, images, {
      batchSize: 2,
      onProgress: (n) => progress.push(n),
    });
    expect(result.count).toBe(3);
    expect(result.pool3).toHaveLength(3 * FID_INCEPTION_FEATURES);
    expect(result.logits).toHaveLength(3 * FID_INCEPTION_CLASSES);
    expectRows(result, [4, 5, 6]);
    expect(progress).toEqual([2, 3]);
    expect(images.isDisposed).toBe(false);
    images.dispose();
  });

  it('takes an async iterable of batches of different sizes and disposes what it yields', async () => {
    const batches = [formulaBatch([ref.meta.inputs[5]!]), formulaBatch([ref.meta.inputs[3]!])];
    async function* source() {
      yield* batches;
    }
    const result = await inceptionFeatures(model, source());
    expect(result.count).toBe(2);
    expectRows(result, [5, 3]);
    expect(batches.every((b) => b.isDisposed)).toBe(true);
  });

  it('leaks no tensors (a tensor source split into single-image batches)', async () => {
    const images = formulaBatch([4, 6].map((i) => ref.meta.inputs[i]!));
    // The tests above ran the forward pass already, so no warm-up call is needed.
    await expectNoLeaks(() => inceptionFeatures(model, images, { batchSize: 1 }), { warmup: 0, repeats: 1 });
    images.dispose();
  });
});

describe('inceptionFeatures argument checks', () => {
  it('rejects a bad batchSize and a source that is not images', async () => {
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    await expect(inceptionFeatures(model, images, { batchSize: 0 })).rejects.toThrow(
      /^options\.batchSize: expected an integer >= 1, got 0/,
    );
    await expect(inceptionFeatures(model, 42 as unknown as tf.Tensor4D)).rejects.toThrow(
      /^images: expected a tf\.Tensor4D \[N,H,W,C\] or an iterable of them, got 42/,
    );
    images.dispose();
  });

  it('names the offending batch of an iterable and still disposes it', async () => {
    const bytes = tf.fill([1, 8, 8, 3], 255) as tf.Tensor4D;
    const flat = tf.zeros([8, 8, 3]) as unknown as tf.Tensor4D;
    await expect(inceptionFeatures(model, [bytes])).rejects.toThrow(SbmArgumentError);
    await expect(inceptionFeatures(model, [tf.fill([1, 8, 8, 3], 255) as tf.Tensor4D])).rejects.toThrow(
      /^images\[0\]: expected values in \[0, 1\], found values in \[255, 255\]/,
    );
    await expect(inceptionFeatures(model, [flat])).rejects.toThrow(/^images\[0\]: expected a tf\.Tensor4D/);
    expect(bytes.isDisposed).toBe(true);
    expect(flat.isDisposed).toBe(true);
  });
});
