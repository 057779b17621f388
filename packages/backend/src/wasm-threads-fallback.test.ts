import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { setupBackend } from './setup-backend.js';

// A threaded build that cannot start (here: its files cannot be read) must not cost the wasm backend.
vi.mock('./wasm-threads.js', () => ({
  maxWasmThreads: 8,
  initializeThreadedWasm: async () => {
    throw new Error('tfjs-backend-wasm-threaded-simd.worker.js not found');
  },
}));

describe('setupBackend when the threaded wasm build fails', () => {
  it('falls back to one thread and says why', async () => {
    const r = await setupBackend({ prefer: 'wasm', threads: 2 });
    expect(tf.getBackend()).toBe('wasm');
    expect(r.threads).toBe(1);
    expect(r.notes).toContain(
      'the threaded wasm build failed to initialize: tfjs-backend-wasm-threaded-simd.worker.js not found; using one thread',
    );
    expect(tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
    const y = tf.conv2d(
      tf.ones([1, 3, 3, 1]) as tf.Tensor4D,
      tf.ones([2, 2, 1, 1]) as tf.Tensor4D,
      1,
      'valid',
    );
    expect(Array.from(await y.data())).toEqual([4, 4, 4, 4]);
  });
});
