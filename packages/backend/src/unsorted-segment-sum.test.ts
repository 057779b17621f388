import { createRng, expectNoLeaks } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { useWasmFastKernels } from './wasm-kernels.test-support.js';

describe('UnsortedSegmentSum on wasm (missing from tfjs-backend-wasm 4.22)', () => {
  useWasmFastKernels();

  it('sums the rows of each segment (against a plain loop), dropping ids outside [0, S)', () => {
    const rng = createRng(17);
    for (const [N, inner, S] of [
      [7, 3, 4],
      [1, 5, 2],
      [20, 1, 6],
    ] as const) {
      const values = Float32Array.from({ length: N * inner }, () => rng.normal());
      const ids = Int32Array.from({ length: N }, () => rng.int(S + 2) - 1); // −1 and S are dropped
      const out = tf.unsortedSegmentSum(tf.tensor2d(values, [N, inner]), tf.tensor1d(ids, 'int32'), S);
      const expected = new Float64Array(S * inner);
      for (let i = 0; i < N; i++) {
        if (ids[i]! < 0 || ids[i]! >= S) continue;
        for (let j = 0; j < inner; j++) expected[ids[i]! * inner + j]! += values[i * inner + j]!;
      }
      expect(out.shape).toEqual([S, inner]);
      const got = out.dataSync();
      for (let k = 0; k < expected.length; k++) expect(got[k]).toBeCloseTo(expected[k]!, 5);
      out.dispose();
    }
  });

  it("makes tf.gather differentiable on wasm: an embedding's gradient counts each row's uses", () => {
    const table = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
    const ids = tf.tensor1d([2, 0, 2, 2], 'int32');
    const g = tf.grad((w: tf.Tensor) => tf.sum(tf.gather(w as tf.Tensor2D, ids)))(table);
    // d/dW Σ W[ids] = number of times each row is gathered, in every column.
    expect(Array.from(g.dataSync())).toEqual([1, 1, 0, 0, 3, 3]);
    tf.dispose([table, ids, g]);
  });

  it('leaves no tensors behind', async () => {
    const x = tf.ones([4, 3]);
    const ids = tf.tensor1d([0, 1, 0, 1], 'int32');
    await expectNoLeaks(() => tf.unsortedSegmentSum(x, ids, 2));
    tf.dispose([x, ids]);
  });
});
