import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2dSame } from './nn-ops.js';
import {
  averageDownsample2d,
  firConvDownsample2d,
  firDownsample2d,
  firUpsample2d,
  firUpsampleConv2d,
  nearestUpsample2d,
  setupFirKernel,
  upfirdn2d,
} from './upfirdn2d.js';

beforeAll(useCpuBackend);

/** upfirdn2d by its definition, one output pixel at a time (float64): y[o] = Σ_k K[k]·u[o·down + kh − 1 − k]. */
function upfirdn2dLoops(
  x: tf.Tensor4D,
  kernel: number[][],
  up: number,
  down: number,
  p0: number,
  p1: number,
) {
  const [b, h, w, c] = x.shape;
  const xs = x.arraySync();
  const kh = kernel.length;
  const kw = kernel[0]!.length;
  const H = h * up + p0 + p1;
  const W = w * up + p0 + p1;
  // u = zero-inserted, padded input.
  const u = (n: number, i: number, j: number, ch: number) => {
    const si = i - p0;
    const sj = j - p0;
    if (si < 0 || sj < 0 || si % up !== 0 || sj % up !== 0 || si / up >= h || sj / up >= w) return 0;
    return xs[n]![si / up]![sj / up]![ch]!;
  };
  const oh = Math.floor((H - kh) / down) + 1;
  const ow = Math.floor((W - kw) / down) + 1;
  const out: number[] = [];
  for (let n = 0; n < b; n++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          // True convolution: the kernel is flipped relative to the input window.
          for (let a = 0; a < kh; a++)
            for (let d = 0; d < kw; d++)
              s += kernel[kh - 1 - a]![kw - 1 - d]! * u(n, i * down + a, j * down + d, ch);
          out.push(s);
        }
  return { values: out, shape: [b, oh, ow, c] };
}

const crop = (t: tf.Tensor4D, border: number) =>
  tf.slice(t, [0, border, border, 0], [-1, t.shape[1] - 2 * border, t.shape[2] - 2 * border, -1]);

describe('setupFirKernel', () => {
  it('is the normalized outer product of a 1-D kernel', () => {
    const k = setupFirKernel([1, 3, 3, 1]);
    expect(k[1]![2]).toBeCloseTo(9 / 64, 15);
    expect(k[0]![3]).toBeCloseTo(1 / 64, 15);
    expect(k.flat().reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });
});

describe('upfirdn2d', () => {
  // An asymmetric kernel catches a missing flip.
  const kernel = [
    [1, 2, 0.5],
    [-1, 3, 0.25],
  ];
  let x: tf.Tensor4D;
  beforeAll(() => {
    x = tf.randomNormal([2, 5, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  });

  it.each([
    [2, 1, 2, 1],
    [1, 2, 1, 1],
    [1, 1, 0, 0],
    [2, 2, 1, 2],
  ])('matches the definition for up %i, down %i, pads (%i, %i)', (up, down, p0, p1) => {
    const ref = upfirdn2dLoops(x, kernel, up, down, p0, p1);
    const y = upfirdn2d(x, kernel, up, down, p0, p1);
    expect(y.shape).toEqual(ref.shape);
    expectTensorsClose(y, ref.values, { rtol: 1e-5, atol: 1e-5 });
  });

  it('with kernel [1, 1] is nearest-neighbour upsampling and 2×2 average pooling', () => {
    expectTensorsClose(firUpsample2d(x, [1, 1]), nearestUpsample2d(x), { rtol: 0, atol: 1e-7 });
    expectTensorsClose(firDownsample2d(x, [1, 1]), averageDownsample2d(x), { rtol: 1e-6, atol: 1e-7 });
  });

  it('keeps a constant image constant away from the border (unit DC gain)', () => {
    const ones = tf.ones([1, 8, 8, 2]) as tf.Tensor4D;
    expectTensorsClose(crop(firUpsample2d(ones, [1, 3, 3, 1]), 2), 1, { rtol: 1e-6 });
    expectTensorsClose(crop(firDownsample2d(ones, [1, 3, 3, 1]), 1), 1, { rtol: 1e-6 });
    expect(firUpsample2d(ones, [1, 3, 3, 1]).shape).toEqual([1, 16, 16, 2]);
    expect(firDownsample2d(ones, [1, 3, 3, 1]).shape).toEqual([1, 4, 4, 2]);
  });

  it('nearest upsampling and average pooling match their definitions', () => {
    const xs = x.arraySync();
    const up = nearestUpsample2d(x).arraySync();
    expect(up[1]![7]![5]![2]).toBe(xs[1]![3]![2]![2]);
    const down = averageDownsample2d(tf.slice(x, [0, 0, 0, 0], [-1, 4, 4, -1]) as tf.Tensor4D).arraySync();
    const mean = (xs[0]![2]![0]![1]! + xs[0]![2]![1]![1]! + xs[0]![3]![0]![1]! + xs[0]![3]![1]![1]!) / 4;
    expect(down[0]![1]![0]![1]).toBeCloseTo(mean, 6);
  });

  it('nearest upsampling has a gradient, the 2×2 block sums of dy, at batch > 1', () => {
    const v0 = tf.randomNormal([3, 4, 5, 2], 0, 1, 'float32', 10) as tf.Tensor4D;
    const dy = tf.randomNormal([3, 8, 10, 2], 0, 1, 'float32', 11) as tf.Tensor4D;
    const grad = (
      tf.grad((v) => tf.sum(tf.mul(nearestUpsample2d(v as tf.Tensor4D), dy)))(v0) as tf.Tensor4D
    ).arraySync();
    const dys = dy.arraySync();
    for (let b = 0; b < 3; b++)
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 5; j++)
          for (let c = 0; c < 2; c++) {
            let sum = 0;
            for (const [di, dj] of [
              [0, 0],
              [0, 1],
              [1, 0],
              [1, 1],
            ] as const)
              sum += dys[b]![2 * i + di]![2 * j + dj]![c]!;
            expect(grad[b]![i]![j]![c]).toBeCloseTo(sum, 5);
          }
  });

  it('does not leak', async () => {
    const w = tf.ones([3, 3, 3, 2]) as tf.Tensor4D;
    await expectNoLeaks(() => upfirdn2d(x, kernel, 2, 1, 1, 1));
    await expectNoLeaks(() => firUpsampleConv2d(x, w, [1, 3, 3, 1]));
    await expectNoLeaks(() => firConvDownsample2d(x, w, [1, 3, 3, 1]));
  });
});

describe('fused FIR resampling convolutions', () => {
  let x: tf.Tensor4D;
  let w: tf.Tensor4D;
  let zero: tf.Tensor;
  beforeAll(() => {
    x = tf.randomNormal([2, 12, 12, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 3) as tf.Tensor4D;
    zero = tf.zeros([4]);
  });

  // StyleGAN2's fused ops equal "FIR-upsample, then 3×3 conv" and "3×3 conv, then FIR-downsample"; they pad once,
  // so they agree exactly with kernel [1, 1] and away from the border otherwise.
  it('upsampling conv = conv3x3(FIR upsample(x))', () => {
    const fused = firUpsampleConv2d(x, w, [1, 1]);
    expect(fused.shape).toEqual([2, 24, 24, 4]);
    expectTensorsClose(fused, conv2dSame(nearestUpsample2d(x), w, zero), { rtol: 1e-5, atol: 1e-5 });
    const fir = firUpsampleConv2d(x, w, [1, 3, 3, 1]);
    expectTensorsClose(crop(fir, 2), crop(conv2dSame(firUpsample2d(x, [1, 3, 3, 1]), w, zero), 2), {
      rtol: 1e-5,
      atol: 1e-5,
    });
  });

  it('downsampling conv = FIR downsample(conv3x3(x))', () => {
    const fused = firConvDownsample2d(x, w, [1, 3, 3, 1]);
    expect(fused.shape).toEqual([2, 6, 6, 4]);
    const unfused = firDownsample2d(conv2dSame(x, w, zero), [1, 3, 3, 1]);
    expectTensorsClose(crop(fused, 1), crop(unfused, 1), { rtol: 1e-5, atol: 1e-5 });
  });
});
