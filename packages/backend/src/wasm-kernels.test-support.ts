import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';
import { registerFastKernels, unregisterFastKernels } from './fast-kernels.js';

/** In the calling `describe`: the wasm backend with this package's fast kernels, removed afterwards. */
export function useWasmFastKernels(): void {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerFastKernels('wasm');
  });
  afterAll(() => unregisterFastKernels('wasm'));
}
