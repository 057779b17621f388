import { createRng, expectNoLeaks } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerFastKernels, unregisterFastKernels } from './fast-kernels.js';
import { nearestSourceIndices } from './resize-nearest-grad.js';

describe('nearestSourceIndices', () => {
  it('follows the TensorFlow conventions on hand-worked sizes', () => {
    expect(Array.from(nearestSourceIndices(4, 8, false, false))).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    expect(Array.from(nearestSourceIndices(3, 5, false, false))).toEqual([0, 0, 1, 1, 2]); // floor(0.6·i)
    expect(Array.from(nearestSourceIndices(3, 5, true, false))).toEqual([0, 1, 1, 2, 2]); // round(0.5·i)
    expect(Array.from(nearestSourceIndices(3, 5, false, true))).toEqual([0, 0, 1, 2, 2]); // floor(0.6·(i+½))
    expect(Array.from(nearestSourceIndices(5, 2, false, false))).toEqual([0, 2]); // downsampling
  });
});

describe.each(['cpu', 'wasm'])('ResizeNearestNeighborGrad on %s', (backendName) => {
  beforeAll(async () => {
    await tf.setBackend(backendName);
    await tf.ready();
    registerFastKernels(backendName);
  });
  afterAll(() => unregisterFastKernels(backendName));

  const cases = [
    { shape: [3, 4, 4, 16], size: [8, 8], alignCorners: false, halfPixelCenters: false },
    { shape: [2, 3, 5, 2], size: [6, 10], alignCorners: false, halfPixelCenters: false },
    { shape: [2, 3, 5, 3], size: [7, 4], alignCorners: true, halfPixelCenters: false },
    { shape: [4, 5, 3, 1], size: [2, 8], alignCorners: false, halfPixelCenters: true },
    { shape: [1, 1, 1, 2], size: [3, 3], alignCorners: true, halfPixelCenters: false },
  ] as const;

  it.each(cases)('is the adjoint of the forward resize: %o', (c) => {
    const rng = createRng(c.shape[0] * 100 + c.size[0]);
    const [B, , , C] = c.shape;
    const attrs = { alignCorners: c.alignCorners, halfPixelCenters: c.halfPixelCenters, size: c.size };
    const xv = Float32Array.from(rng.normals(tf.util.sizeFromShape([...c.shape])));
    const dyv = Float32Array.from(rng.normals(B * c.size[0] * c.size[1] * C));
    tf.tidy(() => {
      const x = tf.tensor4d(xv, [...c.shape]);
      const dy = tf.tensor4d(dyv, [B, c.size[0], c.size[1], C]);
      const dx = tf.engine().runKernel('ResizeNearestNeighborGrad', { images: x, dy }, attrs) as tf.Tensor;
      // <resize(x), dy> = <x, dx> with the backend's own forward kernel, summed in float64.
      const y = (
        tf.engine().runKernel('ResizeNearestNeighbor', { images: x }, attrs) as tf.Tensor
      ).dataSync();
      const dxv = dx.dataSync();
      let lhs = 0;
      let rhs = 0;
      for (let i = 0; i < y.length; i++) lhs += y[i]! * dyv[i]!;
      for (let i = 0; i < xv.length; i++) rhs += xv[i]! * dxv[i]!;
      expect(Math.abs(lhs - rhs)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(lhs)));
    });
  });

  it('leaks no tensors', async () => {
    const x = tf.randomNormal([2, 3, 3, 2]);
    const dy = tf.randomNormal([2, 6, 6, 2]);
    const attrs = { alignCorners: false, halfPixelCenters: false, size: [6, 6] };
    await expectNoLeaks(() => tf.engine().runKernel('ResizeNearestNeighborGrad', { images: x, dy }, attrs));
    tf.dispose([x, dy]);
  });
});
