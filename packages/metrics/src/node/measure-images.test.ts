import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import { expectNoLeaks, type PixelFn, pngFile } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureStatistics } from '../feature-statistics.js';
import { inceptionFeatures } from '../inception-features.js';
import { loadFixtureInception } from '../inception-fixtures.test-support.js';
import type { FidInception } from '../inception-v3.js';
import { openImageSource } from './image-source.js';
import { measureImages } from './measure-images.js';

// The strided-weights FID Inception fixture (a real torch.save file with non-trivial weights, see
// test-fixtures/inception/README.md) on the wasm backend.
let model: FidInception;
let root: string;
const colour =
  (k: number): PixelFn =>
  (x, y) => [(k * 70 + 5 * x) % 256, (9 * y + 3 * x * k) % 256, (40 * k + x * y) % 256];
beforeAll(async () => {
  await setupBackend({ prefer: 'wasm', importModule: (n) => import(n) });
  model = loadFixtureInception();
  root = await mkdtemp(join(tmpdir(), 'sbm-measure-'));
  await mkdir(join(root, 'set'));
  for (let k = 0; k < 3; k++) await writeFile(join(root, 'set', `${k}.png`), pngFile(32, 32, colour(k)));
});
afterAll(async () => {
  model.dispose();
  await rm(root, { recursive: true, force: true });
});

describe('measureImages', () => {
  it('equals inceptionFeatures on the same images as one tensor, and one-shot statistics of those features', async () => {
    const source = await openImageSource(join(root, 'set'));
    const progress: number[] = [];
    const measured = await measureImages(model, source, {
      batchSize: 2,
      keepFeatures: true,
      keepLogits: true,
      onProgress: (done) => progress.push(done),
    });
    expect(progress).toEqual([2, 3]);
    expect(measured.count).toBe(3);
    // The same pixels as one tensor (v / 255, as the PNGs hold them), through the other entry point.
    const pixels = new Float32Array(3 * 32 * 32 * 3);
    for (let k = 0; k < 3; k++) {
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          pixels.set(
            colour(k)(x, y).map((v) => v / 255),
            ((k * 32 + y) * 32 + x) * 3,
          );
    }
    const images = tf.tensor4d(pixels, [3, 32, 32, 3]);
    const direct = await inceptionFeatures(model, images, { batchSize: 3 });
    images.dispose();
    // Batches of 2 + 1 against one batch of 3: equal up to the backend's summation order.
    const close = (a: Float32Array, b: Float32Array) => {
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
        scale = Math.max(scale, Math.abs(b[i]!));
      }
      return worst / scale;
    };
    expect(close(measured.features!, direct.pool3)).toBeLessThan(1e-5);
    expect(close(measured.logits!, direct.logits)).toBeLessThan(1e-5);
    const oneShot = new FeatureStatistics(2048).add(measured.features!, 3).toFidStatistics();
    // Streaming (2 + 1 rows) against one-shot (3 rows) statistics: float64 rounding only.
    const maxDiff = (a: Float64Array, b: Float64Array) =>
      a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    expect(maxDiff(measured.statistics.mu, oneShot.mu)).toBeLessThan(1e-12);
    expect(maxDiff(measured.statistics.sigma, oneShot.sigma)).toBeLessThan(1e-12);
  });

  it('stops between batches when the signal is aborted, and leaves no tensors behind', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(
      measureImages(model, await openImageSource(join(root, 'set')), { signal: controller.signal }),
    ).rejects.toThrow('stop');
    await expectNoLeaks(async () => {
      await measureImages(model, await openImageSource(join(root, 'set'), { limit: 2 }), { batchSize: 1 });
    });
  });
});
