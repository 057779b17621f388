import { createRng, expectNoLeaks, expectTensorsClose, type Rng } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { useWasmFastKernels } from './wasm-kernels.test-support.js';

interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  stride: number;
  dilation: number;
  pad: 'same' | 'valid';
}

function randomCase(rng: Rng): Case {
  const int = (lo: number, hi: number) => lo + rng.int(hi - lo + 1);
  for (;;) {
    const k = int(1, 4);
    const stride = int(1, 2);
    const dilation = 1; // tfjs' depthwise gradient rejects dilation > 1 before reaching a kernel
    const f: Case['f'] = [k, int(1, 4), int(1, 4), int(1, 3)];
    const c: Case = {
      x: [int(1, 3), int(4, 10), int(4, 10), f[2]],
      f,
      stride,
      dilation,
      pad: rng.int(2) ? 'same' : 'valid',
    };
    const ek = (Math.max(f[0], f[1]) - 1) * dilation + 1;
    if (c.pad === 'same' || ek <= Math.min(c.x[1], c.x[2])) return c;
  }
}

/** Both gradients of `Σ depthwise(x, w) · dy` with the active backend's kernels, as flat arrays. */
function gradients(c: Case, xv: Float32Array, wv: Float32Array, dyv: Float32Array | undefined) {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x);
    const w = tf.tensor4d(wv, c.f);
    const y = tf.depthwiseConv2d(x, w, c.stride, c.pad, 'NHWC', c.dilation);
    const dy = dyv === undefined ? tf.ones(y.shape) : tf.tensor(dyv, y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(
        tf.mul(
          tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad, 'NHWC', c.dilation),
          dy,
        ),
      ),
    )([x, w]);
    return { y: y.dataSync(), dx: dx!.dataSync(), dw: dw!.dataSync(), yShape: y.shape };
  });
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('depthwise convolution kernels on wasm', () => {
  useWasmFastKernels();

  it('are adjoint to the forward pass and equal the cpu kernels on 30 random cases to 1e-4', async () => {
    const rng = createRng(21);
    for (let i = 0; i < 30; i++) {
      const c = randomCase(rng);
      const label = JSON.stringify(c);
      const xv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.x)));
      const wv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.f)));
      const shapeProbe = gradients(c, xv, wv, undefined);
      const dyv = Float32Array.from(rng.normals(tf.util.sizeFromShape(shapeProbe.yShape)));
      const wasm = gradients(c, xv, wv, dyv);
      await tf.setBackend('cpu');
      const cpu = gradients(c, xv, wv, dyv);
      await tf.setBackend('wasm');
      // ⟨depthwise(x, w), dy⟩ = ⟨x, dx⟩ = ⟨w, dw⟩ (the forward is linear in x and in w), in float64,
      // with the cpu backend's forward pass; wasm's forward (XNNPACK, or this package's kernel in
      // the 'same'-padding cases XNNPACK gets wrong) must equal it.
      expectTensorsClose(wasm.y, cpu.y, { rtol: 1e-4, atol: 1e-5, message: `forward ${label}` });
      const lhs = dot(cpu.y, dyv);
      const scale = Math.max(1, Math.abs(lhs));
      expect(Math.abs(dot(xv, wasm.dx) - lhs), `dx ${label}`).toBeLessThanOrEqual(1e-4 * scale);
      expect(Math.abs(dot(wv, wasm.dw) - lhs), `dw ${label}`).toBeLessThanOrEqual(1e-4 * scale);
      const tol = (v: ArrayLike<number>) => ({
        rtol: 1e-4,
        atol: 1e-4 * Math.max(...Array.from(v, Math.abs)),
      });
      expectTensorsClose(wasm.dx, cpu.dx, { ...tol(cpu.dx), message: `dx ${label}` });
      expectTensorsClose(wasm.dw, cpu.dw, { ...tol(cpu.dw), message: `dw ${label}` });
    }
  });

  it('leak no tensors', async () => {
    const x = tf.randomNormal([2, 6, 6, 3]);
    const w = tf.randomNormal([3, 3, 3, 2]);
    await expectNoLeaks(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')),
      )([x, w]),
    );
    tf.dispose([x, w]);
  });
});
