import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { groupNorm, linear, skipSum } from './nn-ops.js';

beforeAll(useCpuBackend);

describe('groupNorm', () => {
  it('normalizes each group of channels of each example (biased variance), then scales and shifts', () => {
    const [b, h, w, c, groups, eps] = [2, 3, 2, 6, 3, 1e-6];
    const x = tf.randomNormal([b, h, w, c], 1, 2, 'float32', 4);
    const gamma = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const beta = tf.tensor1d([0, -1, 1, 0.5, 0, 2]);
    const y = groupNorm(x, gamma, beta, groups, eps).arraySync();
    const xs = x.arraySync() as number[][][][];
    const size = c / groups;
    for (let n = 0; n < b; n++)
      for (let g = 0; g < groups; g++) {
        const vals: number[] = [];
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++) for (let k = 0; k < size; k++) vals.push(xs[n]![i]![j]![g * size + k]!);
        const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
        const variance = vals.reduce((a, v) => a + (v - mean) ** 2, 0) / vals.length;
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++)
            for (let k = 0; k < size; k++) {
              const ch = g * size + k;
              const expected =
                ((xs[n]![i]![j]![ch]! - mean) / Math.sqrt(variance + eps)) * (ch + 1) + beta.arraySync()[ch]!;
              expect(y[n]![i]![j]![ch]).toBeCloseTo(expected, 4);
            }
      }
  });

  it('does not leak', async () => {
    const [x, gamma, beta] = [tf.randomNormal([1, 2, 2, 4]), tf.ones([4]), tf.zeros([4])];
    await expectNoLeaks(() => groupNorm(x, gamma, beta, 2, 1e-6));
  });
});

describe('linear and skipSum', () => {
  it('linear maps the last axis: y = x·W + b', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 1, 2, 2]);
    const y = linear(x, tf.tensor2d([1, 0, 2, 1, 1, 0], [2, 3]), tf.tensor1d([0, 1, 2]));
    expect(y.shape).toEqual([1, 1, 2, 3]);
    expectTensorsClose(y, [1 + 2 + 0, 0 + 2 + 1, 2 + 0 + 2, 3 + 4 + 0, 0 + 4 + 1, 6 + 0 + 2]);
  });

  it('skipSum divides by √2 only when rescaling', () => {
    const a = tf.tensor1d([1, 2]);
    const b = tf.tensor1d([3, 4]);
    expectTensorsClose(skipSum(a, b, true), [4 / Math.SQRT2, 6 / Math.SQRT2]);
    expectTensorsClose(skipSum(a, b, false), [4, 6]);
  });
});
