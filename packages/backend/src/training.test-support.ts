import { DdpmUnet, expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';

// The small training run shared by training.test.ts (wasm vs cpu) and wasm-threads.test.ts (threaded wasm vs cpu).

// A DDPM-style U-Net with every kind of layer @sbm/unet's networks use: 3×3 and 1×1 convolutions,
// a stride-2 downsampling convolution, nearest-neighbour upsampling, group norm, self-attention.
const config = { ch: 8, chMult: [1, 2], resolution: 8, groups: 4, attnResolutions: [4], seed: 3 };
const batch = 3;

export interface TrainingRun {
  losses: number[];
  params: Float32Array[];
  kernels: string[];
}

/** Three Adam steps of the ε-matching loss on `backendName`, from identical seeded weights and data. */
export async function trainSmallUnet(backendName: string): Promise<TrainingRun> {
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
