import { setupBackend } from '@sbm/backend';
import { uniformDequantize } from '@sbm/metrics';
import { wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
// Gradients for the divergence (tfjs-core registers none in Node).
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDataset } from '../data/dataset.js';
import { evaluateLikelihood } from './bits-per-dim.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (name) => import(name) }));

// Data N(0, I) stays N(0, I) under the VP SDE at every t (α² + σ² = 1), so its score is exactly −x and the
// probability-flow ODE log-likelihood of any x is log N(x; 0, I): the reference below, in closed form.
const sde = new VPSDE();
const model = wrapModel((x: tf.Tensor) => tf.neg(x), { sde, prediction: 'score' });
const logNormal = (v: ArrayLike<number>) =>
  Array.from(v).reduce((a, x) => a - 0.5 * x * x - 0.5 * Math.log(2 * Math.PI), 0);

describe('evaluateLikelihood', () => {
  it('float data: log N(x; 0, I) exactly (ODE tolerance), bits/dim −log p / (D ln 2), in batches', async () => {
    const points = Float32Array.from([0.3, -1.2, 2.0, 0.5, -0.7, 0.1, 1.5, -1.5, 0.0, 0.9]);
    const data = createDataset({ name: 'points', shape: [2], data: points });
    const r = await evaluateLikelihood({
      sde,
      model,
      data,
      centered: false,
      count: 5,
      batchSize: 2,
      seed: 3,
      divergence: 'exact',
    });
    expect(r.count).toBe(5);
    expect(r.dim).toBe(2);
    for (let i = 0; i < 5; i++) {
      const truth = logNormal(points.subarray(2 * i, 2 * i + 2));
      expect(Math.abs(r.logLikelihood[i]! - truth)).toBeLessThan(1e-3);
      expect(r.bitsPerDim[i]).toBeCloseTo(-r.logLikelihood[i]! / (2 * Math.LN2), 12);
    }
    const mean = Array.from(r.bitsPerDim).reduce((a, v) => a + v, 0) / 5;
    expect(r.meanBitsPerDim).toBeCloseTo(mean, 12);
    expect(r.nfe).toBeGreaterThan(0);
  });

  it('8-bit images: dequantized on the grid of the model range, with score_sde offset (7 bits centered, 8 not)', async () => {
    const pixels = Uint8Array.from({ length: 3 * 2 * 2 * 1 }, (_, i) => (i * 37) % 256);
    const data = createDataset({ name: 'tiny-images', shape: [2, 2, 1], data: pixels });
    for (const centered of [true, false]) {
      const [lo, hi] = centered ? [-1, 1] : [0, 1];
      const r = await evaluateLikelihood({
        sde,
        model,
        data,
        centered,
        count: 3,
        batchSize: 2,
        seed: 9,
        divergence: 'exact',
      });
      // The same dequantization (batch i uses seed + i), then the closed-form density and bits/dim.
      const expected: number[] = [];
      for (const [batch, [start, end]] of [
        [0, 2],
        [2, 3],
      ].entries()) {
        const grid = tf.tensor4d(
          Float32Array.from(pixels.subarray(start! * 4, end! * 4), (v) => lo + (v / 255) * (hi - lo)),
          [end! - start!, 2, 2, 1],
        );
        const x = uniformDequantize(grid, 9 + batch, { dataRange: [lo, hi] });
        const values = x.dataSync();
        for (let i = 0; i < end! - start!; i++) expected.push(logNormal(values.subarray(4 * i, 4 * i + 4)));
        tf.dispose([grid, x]);
      }
      for (let i = 0; i < 3; i++) {
        expect(Math.abs(r.logLikelihood[i]! - expected[i]!)).toBeLessThan(1e-3);
        const bpd = -expected[i]! / (4 * Math.LN2) + Math.log2(256 / (hi - lo));
        expect(Math.abs(r.bitsPerDim[i]! - bpd)).toBeLessThan(1e-3);
      }
    }
  });

  it('rejects a count beyond the data and leaves no tensors behind', async () => {
    const data = createDataset({ name: 'points', shape: [2], data: Float32Array.from([0.1, 0.2, 0.3, 0.4]) });
    await expect(
      evaluateLikelihood({ sde, model, data, centered: false, count: 3, batchSize: 1, seed: 0 }),
    ).rejects.toThrow('count: expected an integer in 1 … 2 (the evaluation set), got 3');
    await expectNoLeaks(() =>
      evaluateLikelihood({
        sde,
        model,
        data,
        centered: false,
        count: 2,
        batchSize: 1,
        seed: 0,
        rtol: 1e-3,
        atol: 1e-3,
      }),
    );
  });
});
