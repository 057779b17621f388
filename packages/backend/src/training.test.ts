import { expectTensorsClose } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { registerFastKernels, unregisterFastKernels } from './fast-kernels.js';
import { trainSmallUnet } from './training.test-support.js';

describe('training a small DDPM U-Net', () => {
  it('runs on wasm and gives the losses and weights of the cpu backend to float32 tolerance', async () => {
    // Both with the fast kernels: the stock ResizeNearestNeighborGrad of both backends is wrong for
    // batches > 1 (see resize-nearest-grad.test.ts), so stock cpu is no reference for this network.
    registerFastKernels('cpu');
    const cpu = await trainSmallUnet('cpu');
    unregisterFastKernels('cpu');
    registerFastKernels('wasm');
    const wasm = await trainSmallUnet('wasm');
    unregisterFastKernels('wasm');

    // Every kernel of the step exists on wasm (Conv2DBackpropFilter only through registerFastKernels).
    expect(wasm.kernels).toContain('Conv2DBackpropFilter');
    expect(wasm.kernels.filter((k) => tf.getKernel(k, 'wasm') === undefined)).toEqual([
      'Conv2DBackpropFilter',
    ]);
    expect(cpu.losses[2]!).toBeLessThan(cpu.losses[0]!);
    expectTensorsClose(wasm.losses, cpu.losses, { rtol: 1e-4, atol: 0, message: 'losses' });
    // Four Adam steps (the last one in the leak check) from identical weights: the weights agree too.
    for (const [i, p] of wasm.params.entries()) {
      expectTensorsClose(p, cpu.params[i]!, { rtol: 1e-3, atol: 1e-4, message: `parameter ${i}` });
    }
  });
});
