import { createRng, expectNoLeaks, expectTensorsClose } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { leadingAxesReduced } from './sum-leading-axes.js';
import { useWasmFastKernels } from './wasm-kernels.test-support.js';

describe('leadingAxesReduced', () => {
  it('counts a reduction of exactly the leading axes, in any order or sign, and nothing else', () => {
    expect(leadingAxesReduced([2, 3, 4, 5], [0, 1, 2])).toBe(3);
    expect(leadingAxesReduced([2, 3, 4, 5], [2, -3, 0, 0])).toBe(3);
    expect(leadingAxesReduced([2, 3], 0)).toBe(1);
    expect(leadingAxesReduced([2, 3, 4], [1, 2])).toBeUndefined();
    expect(leadingAxesReduced([2, 3, 4], [0, 2])).toBeUndefined();
    expect(leadingAxesReduced([2, 3, 4], [0, 1, 2])).toBeUndefined(); // all axes: the original's case
    expect(leadingAxesReduced([2, 3, 4], [])).toBeUndefined();
  });
});

describe('Sum over leading axes on wasm (one average pool)', () => {
  useWasmFastKernels();

  it('matches a float64 reference on 30 random shapes, with and without keepDims', () => {
    const rng = createRng(61);
    for (let i = 0; i < 30; i++) {
      const rank = 2 + rng.int(3);
      // Leading extent from 1 to ~4000 elements, so both the pooled and the original path run.
      const shape = Array.from({ length: rank }, (_, d) => 1 + rng.int(d < rank - 1 ? 24 : 40));
      const k = 1 + rng.int(rank - 1);
      const keepDims = rng.int(2) === 1;
      const values = Float32Array.from(rng.normals(tf.util.sizeFromShape(shape)), (v) => v + 0.5);
      const N = tf.util.sizeFromShape(shape.slice(0, k));
      const C = values.length / N;
      const expected = new Float64Array(C);
      let scale = 0;
      for (let n = 0; n < N; n++)
        for (let c = 0; c < C; c++) {
          expected[c] = expected[c]! + values[n * C + c]!;
          scale += Math.abs(values[n * C + c]!);
        }
      const x = tf.tensor(values, shape);
      const axes = Array.from({ length: k }, (_, a) => a);
      const y = tf.sum(x, axes, keepDims);
      expect(y.shape).toEqual([...(keepDims ? axes.map(() => 1) : []), ...shape.slice(k)]);
      // float32 sums: absolute error relative to the sum of magnitudes of one output's terms.
      expectTensorsClose(y, expected, {
        rtol: 0,
        atol: (2e-6 * scale) / C,
        message: JSON.stringify({ shape, k }),
      });
      tf.dispose([x, y]);
    }
  });

  it('computes the bias gradient of a convolution at the bench shape', () => {
    const rng = createRng(62);
    const dy = tf.tensor4d(Float32Array.from(rng.normals(16 * 32 * 32 * 32)), [16, 32, 32, 32]);
    const bias = tf.zeros([32]);
    const g = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.zerosLike(dy), b), dy)))(bias);
    const v = dy.dataSync();
    const expected = new Float64Array(32);
    for (let i = 0; i < v.length; i++) expected[i % 32] = expected[i % 32]! + v[i]!;
    expectTensorsClose(g, expected, { rtol: 0, atol: 1e-3 });
    tf.dispose([dy, bias, g]);
  });

  it('leaves other reductions and dtypes to the original kernel', () => {
    const x = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    expect(Array.from(tf.sum(x, [1, 2]).dataSync())).toEqual([10, 26]);
    expect(Array.from(tf.sum(x).dataSync())).toEqual([36]);
    const ints = tf.tensor2d(
      Array.from({ length: 600 }, (_, i) => i % 7),
      [300, 2],
      'int32',
    );
    const s = tf.sum(ints, 0);
    expect(s.dtype).toBe('int32');
    const expected = [0, 0];
    for (let i = 0; i < 600; i++) expected[i % 2] = expected[i % 2]! + (i % 7);
    expect(Array.from(s.dataSync())).toEqual(expected);
    const empty = tf.sum(tf.zeros([300, 0]), 0);
    expect(empty.shape).toEqual([0]);
    tf.dispose([x, ints, s, empty]);
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([4, 16, 16, 8]);
    await expectNoLeaks(() => tf.sum(x, [0, 1, 2]));
    await expectNoLeaks(() => tf.sum(x, [0, 1], true));
    x.dispose();
  });
});
