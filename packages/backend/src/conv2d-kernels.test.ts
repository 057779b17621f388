import { createRng, expectNoLeaks, expectTensorsClose } from '@sbm/test-utils';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BackendAdapter, backendAdapter } from './backend-adapter.js';
import { convReference, randomCase, runCase } from './conv-cases.test-support.js';
import { conv2dBackpropFilter, convGeometry, maxPatchElements } from './conv2d-kernels.js';
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
    // per chunk on the im2col paths. On wasm the stride-1 gradients need no patch matrix (XNNPACK
    // convolution, shifted windows); the third case, a stride-2 'valid' conv that never reads the
    // last row, takes the chunked im2col filter gradient there too (63·63 rows × 3·3·128 each).
    expect(64 * 64 * 9 * 128 * 2).toBeGreaterThan(maxPatchElements);
    expect(63 * 63 * 9 * 128 * 2).toBeGreaterThan(maxPatchElements);
    const rng = createRng(6);
    runCase({ x: [2, 64, 64, 128], f: [3, 3, 128, 1], stride: [1, 1], dilation: [1, 1], pad: 'same' }, rng, [
      'dw',
      'dx',
    ]);
    runCase({ x: [2, 64, 64, 128], f: [3, 3, 128, 1], stride: [1, 1], dilation: [2, 2], pad: 'same' }, rng, [
      'dw',
    ]);
    runCase(
      { x: [2, 128, 128, 128], f: [3, 3, 128, 1], stride: [2, 2], dilation: [1, 1], pad: 'valid' },
      rng,
      ['dw'],
    );
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

describe('conv2dBackpropFilter on wasm, each of its paths', () => {
  let be: BackendAdapter;
  let backend: KernelBackend;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    backend = tf.backend();
    const native = (name: string) => tf.getKernel(name, 'wasm')!.kernelFunc;
    be = backendAdapter('wasm', backend, native('BatchMatMul'), native('Conv2D'));
  });

  it('shifted windows, one XNNPACK convolution and im2col all match the float64 reference', () => {
    let aliases = 0;
    const counting: BackendAdapter = {
      ...be,
      alias: (t, offset, shape) => {
        aliases++;
        return be.alias!(t, offset, shape);
      },
    };
    const paths: Record<string, BackendAdapter> = {
      shifted: counting,
      convolution: { ...be, alias: undefined },
      im2col: { ...be, alias: undefined, conv2d: undefined },
    };
    const rng = createRng(31);
    let shiftedCases = 0;
    // Stride 1 (the shifted windows' case) with 'same'/'valid'/explicit padding and dilation 1–2,
    // on images large enough that the padded border mostly stays under that path's size limit.
    for (let i = 0; i < 30; i++) {
      const c = randomCase(rng);
      c.stride = [1, 1];
      c.x[1] += 12;
      c.x[2] += 12;
      const aliasesBefore = aliases;
      const g = convGeometry(c.x, c.f, { strides: 1, pad: c.pad }, c.dilation);
      const xv = Float32Array.from(rng.normals(tf.util.sizeFromShape(c.x)));
      const dyv = Float32Array.from(rng.normals(g.batchSize * g.outHeight * g.outWidth * g.outChannels));
      const ref = convReference(c, xv, new Float32Array(tf.util.sizeFromShape(c.f)), dyv).df;
      const scale = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const x = tf.tensor4d(xv, c.x);
      const dy = tf.tensor4d(dyv, [g.batchSize, g.outHeight, g.outWidth, g.outChannels]);
      for (const [path, adapter] of Object.entries(paths)) {
        const dw = conv2dBackpropFilter(adapter, x, dy, g);
        const t = tf.engine().makeTensorFromTensorInfo(dw as TensorInfo);
        expectTensorsClose(t, ref, {
          rtol: 1e-4,
          atol: 1e-4 * scale,
          message: `${path} ${JSON.stringify(c)}`,
        });
        t.dispose();
      }
      tf.dispose([x, dy]);
      if (aliases > aliasesBefore) shiftedCases++;
    }
    expect(shiftedCases).toBeGreaterThanOrEqual(15);
  });

  it('releases every window it aliases and frees its buffers', () => {
    const g = convGeometry([2, 12, 12, 5], [3, 3, 5, 4], { strides: 1, pad: 'same' }, 1);
    const x = tf.randomNormal([2, 12, 12, 5]);
    const dy = tf.randomNormal([2, 12, 12, 4]);
    be.dispose(conv2dBackpropFilter(be, x, dy, g));
    const before = backend.numDataIds();
    for (let i = 0; i < 3; i++) be.dispose(conv2dBackpropFilter(be, x, dy, g));
    expect(backend.numDataIds()).toBe(before);
    tf.dispose([x, dy]);
  });
});
