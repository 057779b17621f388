import { useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients (tfjs-core alone has none in Node)
import { beforeAll, describe, expect, it } from 'vitest';
import { matMulFlops, stepFlops } from './step-flops.js';

beforeAll(useCpuBackend);

/** Profiles `fn` and returns the kernels with their shapes. */
async function kernelsOf(fn: () => tf.TensorContainer) {
  const p = await tf.profile(() => {
    tf.tidy(fn);
  });
  return p.kernels.map((k) => ({
    name: k.name,
    inputShapes: k.inputShapes as number[][],
    outputShapes: k.outputShapes as number[][],
  }));
}

describe('matMulFlops', () => {
  it('counts 2·M·N·K per matrix for every transpose and batch, from profiled shapes', async () => {
    for (const [B, M, K, N] of [
      [1, 3, 5, 7],
      [4, 16, 8, 2],
      [2, 1, 9, 1],
    ] as const) {
      for (const [ta, tb] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        const a = tf.ones(ta ? [B, K, M] : [B, M, K]);
        const b = tf.ones(tb ? [B, N, K] : [B, K, N]);
        const kernels = await kernelsOf(() => tf.matMul(a, b, ta, tb));
        const mm = kernels.filter((k) => k.name === 'BatchMatMul');
        expect(mm).toHaveLength(1);
        // a one-by-one count of the multiply-adds of the product
        expect(matMulFlops(mm[0]!.inputShapes, mm[0]!.outputShapes[0]!)).toBe(2 * B * M * N * K);
        tf.dispose([a, b]);
      }
    }
    expect(() => matMulFlops([[2, 3]], [2, 2])).toThrow(/^matMulFlops: expected two operands/);
  });
});

describe('stepFlops', () => {
  it('adds convolution and matrix-product FLOPs of a dense + conv gradient and ignores elementwise kernels', async () => {
    const x = tf.ones([2, 6, 6, 3]);
    const w = tf.ones([3, 3, 3, 4]);
    const d = tf.ones([5, 7]);
    const kernels = await kernelsOf(() => {
      const g = tf.grad((f: tf.Tensor) =>
        tf.sum(tf.relu(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'))),
      )(w);
      return [g, tf.matMul(tf.ones([3, 5]), d)];
    });
    const f = stepFlops(kernels);
    // forward 2·|y|·9·3 with |y| = 2·6·6·4, plus the filter gradient with the same count
    expect(f.conv).toBe(2 * (2 * 2 * 6 * 6 * 4 * 9 * 3));
    expect(f.matmul).toBe(2 * 3 * 7 * 5);
    expect(f.total).toBe(f.conv + f.matmul);
    tf.dispose([x, w, d]);
  });
});
