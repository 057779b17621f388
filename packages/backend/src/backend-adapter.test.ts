import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendAdapter, backendAdapter } from './backend-adapter.js';
import { registerFastKernels, unregisterFastKernels } from './fast-kernels.js';

describe('the wasm adapter', () => {
  let be: BackendAdapter;
  let backend: tf.KernelBackend;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    backend = tf.backend();
    be = backendAdapter('wasm', backend, tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc);
  });

  it('aliases a window of a tensor without copying, and the native matmul reads it', () => {
    const owner = be.alloc([10]);
    be.view(owner).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const window = be.alias!(owner, 3, [1, 2, 2]);
    expect(Array.from(be.view(window))).toEqual([4, 5, 6, 7]);
    // Writes through either view are seen by the other: the same memory.
    be.view(window)[0] = 40;
    expect(be.view(owner)[3]).toBe(40);
    const identity = be.alloc([1, 2, 2]);
    be.view(identity).set([1, 0, 0, 1]);
    const product = be.matMul(window, identity);
    expect(Array.from(be.view(product))).toEqual([40, 5, 6, 7]);
    be.releaseAlias!(window);
    for (const t of [product, identity, owner]) be.dispose(t);
  });

  it('forgets a released alias without freeing its memory, and rejects windows out of range', () => {
    const owner = be.alloc([8]);
    be.view(owner).set([0, 1, 2, 3, 4, 5, 6, 7]);
    const before = backend.numDataIds();
    const window = be.alias!(owner, 4, [4]);
    expect(backend.numDataIds()).toBe(before + 1);
    be.releaseAlias!(window);
    expect(backend.numDataIds()).toBe(before);
    // The owner's memory is intact and still its own: a new allocation does not land on it.
    const other = be.alloc([8]);
    be.view(other).fill(-1);
    expect(Array.from(be.view(owner))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(() => be.alias!(owner, 5, [4])).toThrow(/alias: \[5, 9\) lies outside a tensor of shape \[8\]/);
    expect(() => be.alias!(owner, -1, [2])).toThrow(/lies outside/);
    be.dispose(other);
    be.dispose(owner);
  });

  it('shares data for Identity (tf.clone; the engine saving tensors for gradients) and frees it with the last reference', () => {
    registerFastKernels('wasm');
    try {
      const x = tf.tensor1d([1, 2, 3]);
      const before = backend.numDataIds();
      const y = tf.clone(x);
      const z = tf.clone(y);
      // One buffer, three tensors: no copies were made.
      expect(backend.numDataIds()).toBe(before);
      expect(backend.refCount(x.dataId)).toBe(3);
      x.dispose();
      y.dispose();
      expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
      z.dispose();
      expect(backend.numDataIds()).toBe(before - 1);
      // Gradients through a product (whose operands the engine saves by cloning) are unchanged.
      const a = tf.tensor1d([2, 3]);
      const b = tf.tensor1d([5, 7]);
      const [da, db] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(p, q)))([a, b]);
      expect(Array.from(da!.dataSync())).toEqual([5, 7]);
      expect(Array.from(db!.dataSync())).toEqual([2, 3]);
      tf.dispose([a, b, da!, db!]);
    } finally {
      unregisterFastKernels('wasm');
    }
  });
});
