import { createRng } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { runCase } from './conv-cases.test-support.js';
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
    // The single-threaded backend computes (with the fast kernels) to the float64 reference.
    runCase(
      { x: [2, 9, 9, 4], f: [3, 3, 4, 5], stride: [1, 1], dilation: [1, 1], pad: 'same' },
      createRng(3),
    );
  });
});
