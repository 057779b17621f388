import { registerFastKernels, unregisterFastKernels } from '@sbm/backend';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UNetConfig } from './config.js';
import { unetPreset } from './presets.js';
import { createUNet, type UNet } from './unet.js';

// Training goes through @sbm/backend's kernels: tfjs' stock cpu filter gradient is ~300× slower than the forward
// convolution, and its ResizeNearestNeighborGrad is wrong for batches > 1.
beforeAll(async () => {
  await useCpuBackend();
  registerFastKernels('cpu');
});
afterAll(() => unregisterFastKernels('cpu'));

const batch = 2;

/** A denoising batch for `config`: noisy images and the conditioning input (σ for Fourier embeddings, else 999·t). */
function denoisingBatch(config: UNetConfig) {
  return tf.tidy(() => {
    const shape = [batch, config.imageSize, config.imageSize, config.numChannels];
    const x0 = tf.randomUniform(shape, -1, 1, 'float32', 1);
    const noise = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const std = [0.3, 0.8];
    const xt = tf.add(x0, tf.mul(tf.reshape(tf.tensor1d(std), [batch, 1, 1, 1]), noise)) as tf.Tensor4D;
    const t = tf.tensor1d(config.embeddingType === 'fourier' ? std : [200, 700]);
    return { xt, noise, t };
  });
}

/** ε-matching denoising loss: mean((net(x_t, t) − ε)²). */
function denoisingLoss(net: UNet, data: ReturnType<typeof denoisingBatch>): tf.Scalar {
  return tf.mean(tf.square(tf.sub(net.predict(data.xt, data.t, { training: true }), data.noise)));
}

function trainableVariables(net: UNet): tf.Variable[] {
  return net.model.trainableWeights.map((w) => w.read() as tf.Variable);
}

const families = ['ddpm', 'ddpmpp', 'ncsnpp'];

describe('training every preset family', () => {
  it.each(families.flatMap((f) => [`tiny/${f}`, `small/${f}`]))(
    '%s: one step gives finite, non-zero gradients for every trainable weight, lowers the loss, and does not leak',
    async (name) => {
      const net = createUNet(unetPreset(name, { dropout: 0 }));
      const data = denoisingBatch(net.config);
      const variables = trainableVariables(net);
      expect(variables.length).toBe(net.model.trainableWeights.length);
      const { value, grads } = tf.variableGrads(() => denoisingLoss(net, data), variables);
      for (const v of variables) {
        const g = grads[v.name];
        expect(g, v.name).toBeDefined();
        expect(g!.shape, v.name).toEqual(v.shape);
        const values = g!.dataSync();
        expect(values.every(Number.isFinite), `${v.name} finite`).toBe(true);
        expect(
          values.some((u) => u !== 0),
          `${v.name} non-zero`,
        ).toBe(true);
      }
      const optimizer = tf.train.adam(1e-4);
      optimizer.applyGradients(variables.map((v) => ({ name: v.name, tensor: grads[v.name]! })));
      const after = tf.tidy(() => denoisingLoss(net, data));
      expect(after.dataSync()[0]!).toBeLessThan(value.dataSync()[0]!);
      tf.dispose([value, after, ...Object.values(grads)]);
      // Later steps (Adam's slots exist after the first) allocate nothing that outlives them.
      // (Adam pairs its slots with the variables by position: keep the variable list and its order.)
      await expectNoLeaks(() => optimizer.minimize(() => denoisingLoss(net, data), false, variables), {
        warmup: 0,
        repeats: 1,
      });
      optimizer.dispose();
      tf.dispose(data);
      net.dispose();
    },
  );

  it.each(families.map((f) => `tiny/${f}`))(
    '%s: gradients agree with central finite differences (float64 directional derivatives)',
    (name) => {
      const net = createUNet(unetPreset(name, { dropout: 0 }));
      const data = denoisingBatch(net.config);
      const variables = trainableVariables(net);
      // Seeded weights, so that the test is deterministic: 1 ± 0.05 for GroupNorm scales, N(0, 1/fan-in) for
      // kernels, N(0, 0.05²) for biases (not the reference's zero-initialized (init_scale 0) output
      // convolutions, which would leave most gradients too small to measure).
      for (const [k, v] of variables.entries()) {
        const fanIn = v.shape.slice(0, -1).reduce((a, b) => a * b, 1);
        const spread = v.rank > 1 ? 1 / Math.sqrt(fanIn) : 0.05;
        const mean = v.name.includes('GroupNorm') && v.name.includes('weight') ? 1 : 0;
        v.assign(tf.randomNormal(v.shape, mean, spread, 'float32', 100 + k));
      }
      // The Fourier embedding's fixed frequencies (not trainable), N(0, fourier_scale²) as in the reference.
      for (const w of net.model.nonTrainableWeights) {
        w.write(tf.randomNormal(w.shape as number[], 0, net.config.fourierScale, 'float32', 99));
      }
      const projection = tf.randomNormal([batch, 8, 8, 3], 0, 1, 'float32', 3);
      // A linear readout keeps the loss's curvature (and so the finite-difference error) small.
      const loss = () => tf.sum(tf.mul(net.predict(data.xt, data.t), projection)) as tf.Scalar;
      const { value, grads } = tf.variableGrads(loss, variables);
      value.dispose();
      // The first convolution (its gradient crosses every block, the upsampling path included), a weight in
      // the middle of the network and the output convolution.
      const picks = [0, Math.floor(variables.length / 2), variables.length - 2];
      for (const [k, index] of picks.entries()) {
        const v = variables[index]!;
        const original = v.clone();
        const direction = tf.randomNormal(v.shape, 0, 1, 'float32', 20 + k);
        const analytic = tf.tidy(() => tf.sum(tf.mul(grads[v.name]!, direction)).dataSync()[0]!);
        const step =
          1e-2 * Math.max(1e-2, Math.sqrt(tf.tidy(() => tf.mean(tf.square(original)).dataSync()[0]!)));
        const at = (h: number) => {
          v.assign(tf.tidy(() => tf.add(original, tf.mul(direction, h))));
          return tf.tidy(() => loss().dataSync()[0]!);
        };
        // Fourth-order central difference (error O(h⁴)) at 3× the step: float32 rounding of the loss
        // divided by the step dominates a plain (f(h) − f(−h))/2h here (the time-embedding weights' small
        // derivative moved by ±5% with the rounding order of the group norms' sums).
        const wide = 3 * step;
        const numeric = (-at(2 * wide) + 8 * at(wide) - 8 * at(-wide) + at(-2 * wide)) / (12 * wide);
        v.assign(original);
        expect(Math.abs(analytic), `${v.name} directional derivative is measurable`).toBeGreaterThan(1e-3);
        expectTensorsClose([numeric], [analytic], { rtol: 1e-2, atol: 1e-4, message: v.name });
        tf.dispose([original, direction]);
      }
      tf.dispose([projection, data, ...Object.values(grads)]);
      net.dispose();
    },
  );
});

describe('training on wasm', () => {
  it.each(families.map((f) => `tiny/${f}`))(
    '%s trains on wasm (with @sbm/backend kernels) with the losses of the cpu backend',
    async (name) => {
      /** Two Adam steps of the denoising loss from `weights` on `backendName`; returns the three losses. */
      const train = async (backendName: string, weights: Float32Array[]) => {
        await tf.setBackend(backendName);
        registerFastKernels(backendName);
        const net = createUNet(unetPreset(name));
        net.model.setWeights(net.model.getWeights().map((w, i) => tf.tensor(weights[i]!, w.shape)));
        const data = denoisingBatch(net.config);
        const optimizer = tf.train.adam(1e-3);
        const losses: number[] = [];
        for (let i = 0; i < 2; i++) {
          const loss = optimizer.minimize(() => denoisingLoss(net, data), true) as tf.Scalar;
          losses.push((await loss.data())[0]!);
          loss.dispose();
        }
        losses.push(tf.tidy(() => denoisingLoss(net, data).dataSync()[0]!));
        tf.dispose(data);
        optimizer.dispose();
        net.dispose();
        return losses;
      };
      await tf.setBackend('cpu');
      const init = createUNet(unetPreset(name));
      const weights = init.model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
      init.dispose();
      const cpu = await train('cpu', weights);
      const wasm = await train('wasm', weights);
      unregisterFastKernels('wasm');
      await tf.setBackend('cpu');
      expect(cpu[2]!).toBeLessThan(cpu[0]!);
      expectTensorsClose(wasm, cpu, { rtol: 1e-4, atol: 0, message: 'losses' });
    },
  );
});
