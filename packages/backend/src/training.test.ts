import { DdpmUnet, expectNoLeaks, expectTensorsClose } from '@sbm/test-utils';
import { createUNet, unetPreset } from '@sbm/unet';
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

  it("trains @sbm/unet's tiny NCSN++ (FIR resampling: depthwise convs) on wasm like on cpu", async () => {
    /** Three Adam steps of a denoising loss from the given initial weights; returns the losses. */
    const train3 = async (backendName: string, weights: Float32Array[]) => {
      await tf.setBackend(backendName);
      registerFastKernels(backendName);
      const net = createUNet(unetPreset('tiny/ncsnpp'));
      net.model.setWeights(net.model.getWeights().map((w, i) => tf.tensor(weights[i]!, w.shape)));
      const x = tf.randomNormal([3, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const sigma = tf.tensor1d([0.05, 1, 20]);
      const optimizer = tf.train.adam(1e-3);
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const loss = optimizer.minimize(
          () => tf.mean(tf.square(tf.sub(net.predict(x, sigma), x))),
          true,
        ) as tf.Scalar;
        losses.push((await loss.data())[0]!);
        loss.dispose();
      }
      tf.dispose([x, sigma]);
      optimizer.dispose();
      net.model.dispose();
      unregisterFastKernels(backendName);
      return losses;
    };
    await tf.setBackend('cpu');
    const init = createUNet(unetPreset('tiny/ncsnpp'));
    const weights = await Promise.all(
      init.model.getWeights().map(async (w) => (await w.data()) as Float32Array),
    );
    init.model.dispose();
    const cpu = await train3('cpu', weights);
    const wasm = await train3('wasm', weights);
    expect(cpu[2]!).toBeLessThan(cpu[0]!);
    expectTensorsClose(wasm, cpu, { rtol: 1e-4, atol: 0 });
  });
});
