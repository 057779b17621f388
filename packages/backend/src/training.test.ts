import { DdpmUnet, expectNoLeaks, expectTensorsClose } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';
import { registerFastKernels, unregisterFastKernels } from './fast-kernels.js';

// A DDPM-style U-Net with every kind of layer @sbm/unet's networks use: 3×3 and 1×1 convolutions,
// a stride-2 downsampling convolution, nearest-neighbour upsampling, group norm, self-attention.
const config = { ch: 8, chMult: [1, 2], resolution: 8, groups: 4, attnResolutions: [4], seed: 3 };
const batch = 3;

interface Run {
  losses: number[];
  params: Float32Array[];
  kernels: string[];
}

/** Three Adam steps of the ε-matching loss on `backendName`, from identical seeded weights and data. */
async function train(backendName: string): Promise<Run> {
  await tf.setBackend(backendName);
  await tf.ready();
  const net = new DdpmUnet(config);
  const data = tf.tidy(() => ({
    x0: tf.randomNormal([batch, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
    noise: tf.randomNormal([batch, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
    t: tf.tensor1d([0.1, 0.5, 0.9]),
    alphaBar: tf.tensor1d([0.95, 0.5, 0.05]),
  }));
  const optimizer = tf.train.adam(1e-2);
  const step = () =>
    optimizer.minimize(() => net.loss(data.x0, data.noise, data.t, data.alphaBar), true, net.variables);
  const losses: number[] = [];
  let kernels: string[] = [];
  for (let i = 0; i < 3; i++) {
    const info = await tf.profile(async () => {
      const loss = step() as tf.Scalar;
      losses.push((await loss.data())[0]!);
      loss.dispose();
    });
    kernels = info.kernelNames;
  }
  await expectNoLeaks(() => step(), { warmup: 0, repeats: 1 });
  const params = await Promise.all(net.variables.map(async (v) => (await v.data()) as Float32Array));
  net.dispose();
  optimizer.dispose();
  tf.dispose(data);
  return { losses, params, kernels };
}

describe('training a small DDPM U-Net', () => {
  it('runs on wasm and gives the losses and weights of the cpu backend to float32 tolerance', async () => {
    // Both with the fast kernels: the stock ResizeNearestNeighborGrad of both backends is wrong for
    // batches > 1 (see resize-nearest-grad.test.ts), so stock cpu is no reference for this network.
    registerFastKernels('cpu');
    const cpu = await train('cpu');
    unregisterFastKernels('cpu');
    registerFastKernels('wasm');
    const wasm = await train('wasm');
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
