import { createRng, expectNoLeaks, expectTensorsClose, type Rng } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxPatchElements } from './conv2d-kernels.js';
import { originalKernel, registerFastKernels, unregisterFastKernels } from './fast-kernels.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

interface ConvCase {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: [number, number];
  dilation: [number, number];
  pad: Pad;
}

/** Output size and leading padding of one spatial axis, from the TensorFlow padding rules. */
function axisGeometry(n: number, k: number, s: number, d: number, pad: 'same' | 'valid' | [number, number]) {
  const ek = (k - 1) * d + 1;
  if (pad === 'valid') return { out: Math.ceil((n - ek + 1) / s), before: 0 };
  if (pad === 'same') {
    const out = Math.ceil(n / s);
    return { out, before: Math.floor(Math.max(0, (out - 1) * s + ek - n) / 2) };
  }
  return { out: Math.floor((n + pad[0] + pad[1] - ek) / s) + 1, before: pad[0] };
}

function geometry(c: ConvCase) {
  const axis = (i: 1 | 2) =>
    axisGeometry(
      c.x[i],
      c.f[i - 1]!,
      c.stride[i - 1]!,
      c.dilation[i - 1]!,
      typeof c.pad === 'string' ? c.pad : c.pad[i],
    );
  return { h: axis(1), w: axis(2) };
}

/**
 * Float64 reference of a 2-D NHWC convolution and of its two gradients, by direct summation:
 * calls `visit(xIndex, fIndex, yIndex)` for every product x·w that contributes to y.
 */
function forEachProduct(c: ConvCase, visit: (xi: number, fi: number, yi: number) => void): number[] {
  const [B, H, W, Ci] = c.x;
  const [KH, KW, , Co] = c.f;
  const { h, w } = geometry(c);
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < h.out; oh++)
      for (let ow = 0; ow < w.out; ow++)
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * c.stride[0] - h.before + kh * c.dilation[0];
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * c.stride[1] - w.before + kw * c.dilation[1];
            if (iw < 0 || iw >= W) continue;
            for (let ci = 0; ci < Ci; ci++)
              for (let co = 0; co < Co; co++)
                visit(
                  ((b * H + ih) * W + iw) * Ci + ci,
                  ((kh * KW + kw) * Ci + ci) * Co + co,
                  ((b * h.out + oh) * w.out + ow) * Co + co,
                );
          }
        }
  return [B, h.out, w.out, Co];
}

function reference(c: ConvCase, x: Float32Array, f: Float32Array, dy: Float32Array) {
  const [B, , , Co] = forEachProduct(c, () => {});
  const y = new Float64Array(dy.length);
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  forEachProduct(c, (xi, fi, yi) => {
    y[yi]! += x[xi]! * f[fi]!;
    dx[xi]! += dy[yi]! * f[fi]!;
    df[fi]! += dy[yi]! * x[xi]!;
  });
  return { y, dx, df, yShape: [B!, geometry(c).h.out, geometry(c).w.out, Co!] };
}

function randomCase(rng: Rng): ConvCase {
  const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  for (;;) {
    const f: ConvCase['f'] = [int(1, 4), int(1, 4), int(1, 5), int(1, 5)];
    const x: ConvCase['x'] = [int(1, 3), int(3, 11), int(3, 11), f[2]];
    const stride: [number, number] = [int(1, 3), int(1, 3)];
    const dilation: [number, number] = [int(1, 2), int(1, 2)];
    const kind = rng.int(3);
    const pad: Pad =
      kind === 0
        ? 'same'
        : kind === 1
          ? 'valid'
          : [
              [0, 0],
              [int(0, 2), int(0, 2)],
              [int(0, 2), int(0, 2)],
              [0, 0],
            ];
    const c = { x, f, stride, dilation, pad };
    const { h, w } = geometry(c);
    if (h.out >= 1 && w.out >= 1) return c;
  }
}

function runCase(c: ConvCase, rng: Rng, kernels: ('fwd' | 'dx' | 'dw')[] = ['fwd', 'dx', 'dw']) {
  const { yShape } = reference(c, new Float32Array(0), new Float32Array(0), new Float32Array(0));
  const xv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.x)));
  const fv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.f)));
  const dyv = Float32Array.from(rng.normals(tf.util.sizeFromShape(yShape)));
  const ref = reference(c, xv, fv, dyv);
  const label = JSON.stringify(c);
  const common = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' as const, dilations: c.dilation };
  tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const f = tf.tensor4d(fv, c.f);
    const dy = tf.tensor4d(dyv, yShape as [number, number, number, number]);
    const check = (name: string, actual: tf.Tensor, expected: Float64Array) => {
      const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expectTensorsClose(actual, expected, { rtol: 1e-4, atol: 1e-4 * scale, message: `${name} ${label}` });
    };
    if (kernels.includes('fwd'))
      check('Conv2D', tf.engine().runKernel('Conv2D', { x, filter: f }, { ...common }) as tf.Tensor, ref.y);
    if (kernels.includes('dx')) {
      const attrs = { ...common, inputShape: c.x };
      check(
        'Conv2DBackpropInput',
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, attrs) as tf.Tensor,
        ref.dx,
      );
    }
    if (kernels.includes('dw')) {
      const attrs = { ...common, filterShape: c.f };
      check(
        'Conv2DBackpropFilter',
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor,
        ref.df,
      );
    }
  });
}

describe.each(['cpu', 'wasm'])('fast convolution kernels on %s', (backendName) => {
  beforeAll(async () => {
    await tf.setBackend(backendName);
    await tf.ready();
    registerFastKernels(backendName);
  });
  afterAll(() => unregisterFastKernels(backendName));

  it('match a float64 reference on 40 random shapes, strides, paddings and dilations to 1e-4', () => {
    const rng = createRng(backendName === 'cpu' ? 11 : 12);
    for (let i = 0; i < 40; i++) runCase(randomCase(rng), rng);
  });

  it('match the reference on U-Net shapes: 3×3 same, stride-2 downsampling, 1×1 skip', () => {
    const rng = createRng(5);
    runCase({ x: [2, 16, 16, 8], f: [3, 3, 8, 16], stride: [1, 1], dilation: [1, 1], pad: 'same' }, rng);
    runCase({ x: [2, 16, 16, 8], f: [3, 3, 8, 8], stride: [2, 2], dilation: [1, 1], pad: 'same' }, rng);
    runCase({ x: [2, 8, 8, 12], f: [1, 1, 12, 6], stride: [1, 1], dilation: [1, 1], pad: 'valid' }, rng);
  });

  it('process big batches in chunks with the same result', () => {
    // One example's patch matrix (64·64 rows × 3·3·128) exceeds half the chunk limit: one example
    // per chunk on the im2col paths (on wasm the stride-1 gradients run on XNNPACK instead; the
    // dilated filter gradient, which XNNPACK cannot take, still goes through chunked im2col).
    expect(64 * 64 * 9 * 128 * 2).toBeGreaterThan(maxPatchElements);
    const rng = createRng(6);
    runCase({ x: [2, 64, 64, 128], f: [3, 3, 128, 1], stride: [1, 1], dilation: [1, 1], pad: 'same' }, rng, [
      'dw',
      'dx',
    ]);
    runCase({ x: [2, 64, 64, 128], f: [3, 3, 128, 1], stride: [1, 1], dilation: [2, 2], pad: 'same' }, rng, [
      'dw',
    ]);
  });

  it('agree with the original kernels where the backend has them (NCHW falls back to them)', () => {
    const rng = createRng(7);
    const x = tf.tensor4d(Float32Array.from(rng.normals(2 * 7 * 6 * 3)), [2, 7, 6, 3]);
    const f = tf.tensor4d(Float32Array.from(rng.normals(3 * 2 * 3 * 4)), [3, 2, 3, 4]);
    const attrs = { strides: [2, 1], pad: 'same', dataFormat: 'NHWC', dilations: 1 };
    const fast = tf.engine().runKernel('Conv2D', { x, filter: f }, { ...attrs }) as tf.Tensor;
    const original = originalKernel('Conv2D', backendName);
    expect(original).toBeDefined();
    unregisterFastKernels(backendName);
    const stock = tf.engine().runKernel('Conv2D', { x, filter: f }, { ...attrs }) as tf.Tensor;
    registerFastKernels(backendName);
    expectTensorsClose(fast, stock, { rtol: 1e-4, atol: 1e-5 });
    tf.dispose([x, f, fast, stock]);
  });

  it('leak no tensors', async () => {
    const x = tf.randomNormal([2, 9, 9, 4]);
    const f = tf.randomNormal([3, 3, 4, 5]);
    await expectNoLeaks(() =>
      tf.grads((xx: tf.Tensor, ff: tf.Tensor) =>
        tf.sum(tf.conv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 2, 'same')),
      )([x, f]),
    );
    tf.dispose([x, f]);
  });
});
