import { expectTensorsClose, type Rng } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';

// Random 2-D convolution cases and a float64 reference by direct summation, shared by the kernel
// tests of every backend configuration (conv2d-kernels.test.ts, wasm-threads.test.ts).

export type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];

export interface ConvCase {
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

/** The forward convolution `y` and both gradients `dx`, `df` of `⟨y, dy⟩` in float64, with `y`'s shape. */
export function convReference(c: ConvCase, x: Float32Array, f: Float32Array, dy: Float32Array) {
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

export function randomCase(rng: Rng): ConvCase {
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

export function runCase(c: ConvCase, rng: Rng, kernels: ('fwd' | 'dx' | 'dw')[] = ['fwd', 'dx', 'dw']) {
  const { yShape } = convReference(c, new Float32Array(0), new Float32Array(0), new Float32Array(0));
  const xv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.x)));
  const fv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.f)));
  const dyv = Float32Array.from(rng.normals(tf.util.sizeFromShape(yShape)));
  const ref = convReference(c, xv, fv, dyv);
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
