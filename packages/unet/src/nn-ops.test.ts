import { expectNoLeaks, expectTensorsClose, groupNormViaMoments, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
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

  // An independent formulation (reductions over the grouped axes with tf.moments, differentiated by tfjs).
  const viaMoments = groupNormViaMoments;

  it('has the gradients of autodiff through tf.moments (x, γ, β), on groups with large means', () => {
    const x = tf.randomNormal([3, 5, 4, 12], 3, 2, 'float32', 7);
    const gamma = tf.randomNormal([12], 1, 0.5, 'float32', 8);
    const beta = tf.randomNormal([12], 0, 1, 'float32', 9);
    const dy = tf.randomNormal([3, 5, 4, 12], 0, 1, 'float32', 10);
    const loss = (f: typeof groupNorm) => (a: tf.Tensor, g: tf.Tensor, be: tf.Tensor) =>
      tf.sum(tf.mul(f(a, g, be, 4, 1e-6), dy));
    const ours = tf.grads(loss(groupNorm))([x, gamma, beta]);
    const reference = tf.grads(loss(viaMoments as typeof groupNorm))([x, gamma, beta]);
    expectTensorsClose(groupNorm(x, gamma, beta, 4, 1e-6), viaMoments(x, gamma, beta, 4, 1e-6), {
      rtol: 1e-5,
      atol: 1e-5,
    });
    for (const [i, name] of ['dx', 'dgamma', 'dbeta'].entries()) {
      expectTensorsClose(ours[i]!, reference[i]!, { rtol: 1e-4, atol: 1e-4, message: name });
    }
  });

  it('has a gradient equal to a central difference along a random direction', () => {
    const x = tf.randomNormal([2, 4, 4, 6], 0.5, 1.5, 'float32', 11);
    const v = tf.randomNormal([2, 4, 4, 6], 0, 1, 'float32', 12);
    const gamma = tf.randomNormal([6], 1, 0.3, 'float32', 13);
    const beta = tf.zeros([6]);
    const weights = tf.randomNormal([2, 4, 4, 6], 0, 1, 'float32', 14);
    const loss = (a: tf.Tensor) => tf.sum(tf.mul(tf.sin(groupNorm(a, gamma, beta, 3, 1e-6)), weights));
    const analytic = tf.sum(tf.mul(tf.grad(loss)(x), v)).dataSync()[0]!;
    const h = 1e-2;
    const plus = loss(tf.add(x, tf.mul(v, h))).dataSync()[0]!;
    const minus = loss(tf.sub(x, tf.mul(v, h))).dataSync()[0]!;
    // O(h²) truncation plus float32 rounding of sums of ~100 terms: 1% of the value.
    expect(Math.abs((plus - minus) / (2 * h) - analytic)).toBeLessThan(0.01 * Math.abs(analytic) + 1e-3);
  });

  it('does not leak, forward or backward', async () => {
    const [x, gamma, beta] = [tf.randomNormal([1, 2, 2, 4]), tf.ones([4]), tf.zeros([4])];
    await expectNoLeaks(() => groupNorm(x, gamma, beta, 2, 1e-6));
    await expectNoLeaks(() =>
      tf.grads((a: tf.Tensor, g: tf.Tensor, be: tf.Tensor) => tf.sum(groupNorm(a, g, be, 2, 1e-6)))([
        x,
        gamma,
        beta,
      ]),
    );
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
