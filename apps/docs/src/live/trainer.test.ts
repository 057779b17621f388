import '@tensorflow/tfjs-layers'; // registers the gradients
import { VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LIVE_MIXTURE } from './mixture.js';
import { ScoreNet } from './score-net.js';
import { ScoreTrainer } from './trainer.js';

beforeAll(useCpuBackend);

const sde = new VPSDE();
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

describe('ScoreNet', () => {
  it('maps x [B, 2], t [B] to [B, 2]; one time stands for the batch', () => {
    const net = new ScoreNet({ hidden: 16, seed: 1 });
    const x = tf.tensor2d([0.1, -0.2, 1, 2, -3, 0.5], [3, 2]);
    const each = net.predict(x, tf.fill([3], 0.3));
    const one = net.predict(x, tf.tensor1d([0.3]));
    expect(each.shape).toEqual([3, 2]);
    expect(Array.from(one.dataSync())).toEqual(Array.from(each.dataSync()));
    // The time matters.
    const later = net.predict(x, tf.fill([3], 0.9));
    expect(Array.from(later.dataSync())).not.toEqual(Array.from(each.dataSync()));
    tf.dispose([x, each, one, later]);
    net.dispose();
  });

  it('has 3 layers of weights and biases, reproducible from its seed, and frees them', () => {
    const before = tf.memory().numTensors;
    const a = new ScoreNet({ hidden: 8, timeFeatures: 4, seed: 3 });
    const b = new ScoreNet({ hidden: 8, timeFeatures: 4, seed: 3 });
    expect(a.variables.map((v) => v.shape)).toEqual([[6, 8], [8], [8, 8], [8], [8, 2], [2]]);
    for (const [i, v] of a.variables.entries()) {
      expect(Array.from(v.dataSync())).toEqual(Array.from(b.variables[i]!.dataSync()));
    }
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names a bad option', () => {
    expect(() => new ScoreNet({ timeFeatures: 3 })).toThrow(/^options\.timeFeatures:/);
    expect(() => new ScoreNet({ hidden: 0 })).toThrow(/^options\.hidden:/);
  });
});

describe('ScoreTrainer', () => {
  it('lowers the denoising loss of a fresh network, reproducibly from its seed', () => {
    const run = () => {
      const net = new ScoreNet({ hidden: 32, seed: 0 });
      const trainer = new ScoreTrainer({
        sde,
        mixture: LIVE_MIXTURE,
        net,
        batchSize: 128,
        learningRate: 5e-3,
        seed: 4,
      });
      const losses = Array.from({ length: 150 }, () => trainer.step());
      trainer.dispose();
      net.dispose();
      return losses;
    };
    const losses = run();
    // At initialization ε̂ ≈ 0, so the loss is ≈ E ε² = 1; a network that learned anything predicts part of ε from
    // x_t at large t, where x_t ≈ ε.
    const first = mean(losses.slice(0, 15));
    const last = mean(losses.slice(-30));
    expect(first).toBeGreaterThan(0.6);
    expect(last).toBeLessThan(0.5);
    expect(last).toBeLessThan(0.7 * first);
    expect(run()).toEqual(losses);
  });

  it('decays the learning rate along a cosine to 0: no change at the last step', () => {
    const net = new ScoreNet({ hidden: 8, seed: 0 });
    const trainer = new ScoreTrainer({ sde, mixture: LIVE_MIXTURE, net, batchSize: 16, decaySteps: 3 });
    for (let i = 0; i < 3; i++) trainer.step();
    const before = net.variables.map((v) => Array.from(v.dataSync()));
    trainer.step(); // rate (1 + cos π)/2 = 0
    for (const [i, v] of net.variables.entries()) expect(Array.from(v.dataSync())).toEqual(before[i]);
    trainer.dispose();
    net.dispose();
  });

  it('leaks no tensors per step', async () => {
    const net = new ScoreNet({ hidden: 16, seed: 0 });
    const trainer = new ScoreTrainer({ sde, mixture: LIVE_MIXTURE, net, batchSize: 32 });
    await expectNoLeaks(() => {
      trainer.step();
    });
    trainer.dispose();
    net.dispose();
  });

  it('names a bad option', () => {
    const net = new ScoreNet({ hidden: 8 });
    expect(() => new ScoreTrainer({ sde, mixture: LIVE_MIXTURE, net, batchSize: 0 })).toThrow(
      /^options\.batchSize:/,
    );
    expect(() => new ScoreTrainer({ sde, mixture: LIVE_MIXTURE, net, learningRate: -1 })).toThrow(
      /^options\.learningRate:/,
    );
    expect(() => new ScoreTrainer({ sde, mixture: LIVE_MIXTURE, net, decaySteps: 0.5 })).toThrow(
      /^options\.decaySteps:/,
    );
    net.dispose();
  });
});
