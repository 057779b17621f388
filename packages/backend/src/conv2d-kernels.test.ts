import { createRng, expectNoLeaks, expectTensorsClose } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomCase, runCase } from './conv-cases.test-support.js';
import { maxPatchElements } from './conv2d-kernels.js';
import { originalKernel, registerFastKernels, unregisterFastKernels } from './fast-kernels.js';

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
