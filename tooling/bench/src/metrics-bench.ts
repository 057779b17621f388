import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupBackend } from '@sbm/backend';
import { FeatureStatistics, frechetDistance, kernelInceptionDistance, loadFidInception } from '@sbm/metrics';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { likelihoodBench } from './likelihood-bench.js';
import { markdownTable } from './timing.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A seeded symmetric positive definite d×d covariance `A Aᵀ / n` of n Gaussian rows, and its mean. */
function gaussianStatistics(d: number, n: number, seed: number) {
  const stats = new FeatureStatistics(d);
  const rows = tf.tidy(() => tf.randomNormal([n, d], 0, 1, 'float32', seed).dataSync() as Float32Array);
  stats.add(rows, n);
  return stats.toFidStatistics();
}

const seconds = (start: number) => (performance.now() - start) / 1000;

/**
 * What @sbm/metrics costs here: the FID Inception's forward pass (images/s at 299×299 on wasm and cpu), the
 * float64 statistics, Fréchet distance and KID at 2048-d, and the probability-flow ODE likelihood (model
 * evaluations and seconds per example against the solver tolerance).
 */
export async function metricsBench(): Promise<string> {
  const out: string[] = [];
  // 1. Inception. The strided-weights fixture expands to the full network (23.9 M numbers): the cost of a
  //    forward pass does not depend on the values.
  const weights = readFileSync(
    resolve(root, 'packages/metrics/test-fixtures/inception/fid_inception_strided.pth'),
  );
  const inceptionRows: (string | number)[][] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    await setupBackend({ prefer: backend, importModule: (name) => import(name) });
    const model = loadFidInception(weights);
    for (const batch of backend === 'wasm' ? [1, 8, 32] : [2]) {
      const images = tf.randomUniform([batch, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
      const run = async () => {
        const o = model.apply(images);
        await o.pool3.data();
        tf.dispose([o.pool3, o.logits]);
      };
      await run(); // warm-up
      const repeats = backend === 'cpu' ? 1 : batch === 1 ? 5 : 2;
      const start = performance.now();
      for (let r = 0; r < repeats; r++) await run();
      const s = seconds(start) / repeats;
      inceptionRows.push([tf.getBackend(), batch, (s * 1000).toFixed(0), (batch / s).toFixed(2)]);
      images.dispose();
    }
    model.dispose();
  }
  out.push(
    '## FID Inception forward pass',
    '',
    'CIFAR-10-sized inputs (32×32, resized to 299×299 inside, as pytorch-fid does); mean of the runs after one warm-up.',
    '',
    markdownTable(['backend', 'batch', 'ms per batch', 'images/s'], inceptionRows),
    '',
  );
  // 2. Statistics and distances at d = 2048, float64 in JavaScript (one thread).
  await setupBackend({ prefer: 'wasm', importModule: (name) => import(name) });
  const d = 2048;
  const n = 4096;
  const rows: (string | number)[][] = [];
  let start = performance.now();
  const a = gaussianStatistics(d, n, 1);
  rows.push([`FeatureStatistics.add of ${n} features + covariance`, seconds(start).toFixed(2)]);
  const b = gaussianStatistics(d, n, 2);
  start = performance.now();
  const fd = frechetDistance(a, b);
  rows.push([`frechetDistance, 2048-d, full rank (value ${fd.toFixed(3)})`, seconds(start).toFixed(2)]);
  const features = (seed: number) =>
    tf.tidy(() => tf.randomNormal([1000, d], 0, 1, 'float32', seed).dataSync() as Float32Array);
  const [fa, fb] = [features(5), features(6)];
  start = performance.now();
  kernelInceptionDistance(fa, fb, d, { subsetSize: 1000, numSubsets: 1 });
  rows.push(['kernelInceptionDistance, one subset of 1000 per set', seconds(start).toFixed(2)]);
  out.push(
    '## Statistics and distances at 2048-d',
    '',
    'float64 JavaScript, one thread. KID with the default 100 subsets costs 100× the one-subset row.',
    '',
    markdownTable(['operation', 'seconds'], rows),
    '',
  );
  out.push(await likelihoodBench());
  return out.join('\n');
}
