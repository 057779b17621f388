import { createRng, expectNoLeaks, expectTensorsClose, type Rng } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { batchMatMulFits } from './batch-mat-mul.js';
import { useWasmFastKernels } from './wasm-kernels.test-support.js';

/** float64 `op(a) · op(b)` over broadcast batch axes (one side's batch is 1 or both are equal). */
function reference(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
) {
  const [ra, ca] = aShape.slice(-2) as [number, number];
  const [rb, cb] = bShape.slice(-2) as [number, number];
  const [M, K] = transposeA ? [ca, ra] : [ra, ca];
  const N = transposeB ? rb : cb;
  const batchA = tf.util.sizeFromShape(aShape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(bShape.slice(0, -2));
  const batch = Math.max(batchA, batchB);
  const out = new Float64Array(batch * M * N);
  for (let i = 0; i < batch; i++) {
    const ao = (batchA === 1 ? 0 : i) * ra * ca;
    const bo = (batchB === 1 ? 0 : i) * rb * cb;
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const av = a[ao + (transposeA ? k * ca + m : m * ca + k)]!;
          const bv = b[bo + (transposeB ? n * cb + k : k * cb + n)]!;
          s += av * bv;
        }
        out[(i * M + m) * N + n] = s;
      }
  }
  return out;
}

function randomCase(rng: Rng) {
  const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  const [M, K, N] = [int(1, 40), int(1, 40), int(1, 40)];
  const transposeA = rng.int(2) === 1;
  const transposeB = rng.int(2) === 1;
  const batch = [[], [int(2, 4)], [int(2, 3), int(2, 3)]][rng.int(3)]!;
  const kind = rng.int(3); // 0: both batched, 1: a unbatched, 2: b unbatched
  const aBatch = kind === 1 ? (rng.int(2) === 0 ? [] : batch.map(() => 1)) : batch;
  const bBatch = kind === 2 ? (rng.int(2) === 0 ? [] : batch.map(() => 1)) : batch;
  return {
    aShape: [...aBatch, ...(transposeA ? [K, M] : [M, K])],
    bShape: [...bBatch, ...(transposeB ? [N, K] : [K, N])],
    transposeA,
    transposeB,
  };
}

describe('BatchMatMul on wasm (XNNPACK products for transposed and batched operands)', () => {
  useWasmFastKernels();

  it('matches a float64 reference on 60 random shapes, transposes and batch broadcasts to 1e-5', () => {
    const rng = createRng(41);
    for (let i = 0; i < 60; i++) {
      const c = randomCase(rng);
      const av = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.aShape)));
      const bv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.bShape)));
      const ref = reference(av, c.aShape, bv, c.bShape, c.transposeA, c.transposeB);
      const y = tf.tidy(() =>
        tf.matMul(tf.tensor(av, c.aShape), tf.tensor(bv, c.bShape), c.transposeA, c.transposeB),
      );
      const batchShape = (
        tf.util.sizeFromShape(c.aShape.slice(0, -2)) >= tf.util.sizeFromShape(c.bShape.slice(0, -2))
          ? c.aShape
          : c.bShape
      ).slice(0, -2);
      expect(y.shape.slice(0, -2)).toEqual(batchShape);
      expectTensorsClose(y, ref, { rtol: 1e-5, atol: 1e-5, message: JSON.stringify(c) });
      y.dispose();
    }
  });

  it('computes the attention-sized products of the bench network and their gradients', () => {
    const rng = createRng(42);
    const q = tf.tensor3d(Float32Array.from(rng.normals(16 * 64 * 64)), [16, 64, 64]);
    const k = tf.tensor3d(Float32Array.from(rng.normals(16 * 64 * 64)), [16, 64, 64]);
    const [dq, dk] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a, b, false, true)))([q, k]);
    // d/dq Σ q kᵀ = 1 k (row sums of k over its rows), d/dk = 1ᵀ q: columns sums.
    const qv = q.dataSync();
    const kv = k.dataSync();
    const dqRef = new Float64Array(16 * 64 * 64);
    const dkRef = new Float64Array(16 * 64 * 64);
    for (let b = 0; b < 16; b++)
      for (let c = 0; c < 64; c++) {
        let sk = 0;
        let sq = 0;
        for (let r = 0; r < 64; r++) {
          sk += kv[(b * 64 + r) * 64 + c]!;
          sq += qv[(b * 64 + r) * 64 + c]!;
        }
        for (let r = 0; r < 64; r++) {
          dqRef[(b * 64 + r) * 64 + c] = sk;
          dkRef[(b * 64 + r) * 64 + c] = sq;
        }
      }
    expectTensorsClose(dq!, dqRef, { rtol: 1e-5, atol: 1e-4 });
    expectTensorsClose(dk!, dkRef, { rtol: 1e-5, atol: 1e-4 });
    tf.dispose([q, k, dq!, dk!]);
  });

  it('leaves int32, empty and other batch broadcasts to the original kernel', () => {
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const b = tf.tensor2d([5, 6, 7, 8], [2, 2], 'int32');
    // tfjs-backend-wasm's own kernel takes float32 only; its error shows the call reached it.
    expect(() => tf.matMul(a, b, true, false)).toThrow(/non-float32/);
    const empty = tf.matMul(tf.zeros([0, 3]), tf.ones([3, 4]));
    expect(empty.shape).toEqual([0, 4]);
    empty.dispose();
    expect(
      batchMatMulFits(
        { dataId: {}, shape: [2, 1, 3, 4], dtype: 'float32' },
        { dataId: {}, shape: [1, 2, 4, 3], dtype: 'float32' },
      ),
    ).toBe(false);
    expect(
      batchMatMulFits(
        { dataId: {}, shape: [2, 3, 4], dtype: 'float32' },
        { dataId: {}, shape: [2, 4, 3], dtype: 'float32' },
      ),
    ).toBe(true);
    expect(
      batchMatMulFits(
        { dataId: {}, shape: [1, 3, 4], dtype: 'float32' },
        { dataId: {}, shape: [5, 2, 4, 3], dtype: 'float32' },
      ),
    ).toBe(true);
    tf.dispose([a, b]);
  });

  it('leaks no tensors (forward and gradients, batched and transposed)', async () => {
    const a = tf.randomNormal([3, 5, 4]);
    const b = tf.randomNormal([3, 4, 6]);
    const w = tf.randomNormal([4, 6]);
    // Gradients transpose both operands; (tfjs' gradient does not sum over a broadcast batch.)
    await expectNoLeaks(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)))([a, b]));
    await expectNoLeaks(() => tf.matMul(a, w));
    // The batch slices are aliases: all released again.
    const before = tf.backend().numDataIds();
    tf.matMul(a, b).dispose();
    expect(tf.backend().numDataIds()).toBe(before);
    tf.dispose([a, b, w]);
  });
});
