import { createRng, expectNoLeaks } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { useWasmFastKernels } from './wasm-kernels.test-support.js';

describe('SplitV on wasm', () => {
  useWasmFastKernels();

  it('gives every piece exactly on 40 random shapes, axes and sizes (empty pieces too)', () => {
    const rng = createRng(51);
    for (let i = 0; i < 40; i++) {
      const rank = 1 + rng.int(4);
      const shape = Array.from({ length: rank }, () => 1 + rng.int(6));
      const axis = rng.int(rank);
      const total = shape[axis]!;
      // Random cut points of [0, total], repeated cuts giving empty pieces.
      const cuts = [0, ...Array.from({ length: rng.int(4) }, () => rng.int(total + 1)), total].sort(
        (a, b) => a - b,
      );
      const sizes = cuts.slice(1).map((c, j) => c - cuts[j]!);
      const values = Float32Array.from({ length: tf.util.sizeFromShape(shape) }, (_, j) => j);
      const x = tf.tensor(values, shape);
      const pieces = tf.split(x, sizes, axis - rank); // a negative axis as tfjs allows
      const strides = tf.util.computeStrides(shape);
      let start = 0;
      pieces.forEach((piece, j) => {
        const expectedShape = shape.slice();
        expectedShape[axis] = sizes[j]!;
        expect(piece.shape).toEqual(expectedShape);
        // Element (i_0, …, i_axis, …) of piece j is element (i_0, …, start + i_axis, …) of x,
        // whose value is its own flat index.
        const got = piece.dataSync();
        const pieceStrides = tf.util.computeStrides(expectedShape);
        for (let f = 0; f < got.length; f++) {
          let rest = f;
          let flat = 0;
          for (let d = 0; d < rank; d++) {
            const s = d < rank - 1 ? pieceStrides[d]! : 1;
            const idx = Math.floor(rest / s);
            rest -= idx * s;
            flat += (d === axis ? idx + start : idx) * (d < rank - 1 ? strides[d]! : 1);
          }
          if (got[f] !== flat) throw new Error(`piece ${j} of ${JSON.stringify({ shape, axis, sizes })}`);
        }
        start += sizes[j]!;
      });
      tf.dispose([x, ...pieces]);
    }
  });

  it('splits the gradient of a channel concat, and int32 tensors through the original', () => {
    const a = tf.randomNormal([2, 4, 4, 6]);
    const b = tf.randomNormal([2, 4, 4, 3]);
    const w = tf.randomNormal([2, 4, 4, 9]);
    const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.concat([p, q], 3), w)))([
      a,
      b,
    ]);
    const [wa, wb] = tf.split(w, [6, 3], 3);
    expect(Array.from(da!.dataSync())).toEqual(Array.from(wa!.dataSync()));
    expect(Array.from(db!.dataSync())).toEqual(Array.from(wb!.dataSync()));
    const ints = tf.split(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [1, 2], 1);
    expect(ints.map((t) => [t.dtype, Array.from(t.dataSync())])).toEqual([
      ['int32', [1, 4]],
      ['int32', [2, 3, 5, 6]],
    ]);
    tf.dispose([a, b, w, da!, db!, wa!, wb!, ...ints]);
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([2, 3, 3, 8]);
    await expectNoLeaks(() => tf.split(x, [3, 5], 3));
    x.dispose();
  });
});
