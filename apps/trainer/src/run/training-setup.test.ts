import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import type { TrainerConfig } from '../config/schema.js';
import { MlpNetwork } from '../train/mlp-network.js';
import { trainStep } from '../train/train-step.js';
import { loadTrainingSet } from './load-dataset.js';
import { createTrainingSetup } from './training-setup.js';

beforeAll(useCpuBackend);

const toyConfig = (...set: string[]): Promise<TrainerConfig> =>
  loadConfig({ preset: 'toy/mixture', set: ['model.hidden=16', 'model.layers=2', ...set] });

describe('createTrainingSetup for model.kind mlp', () => {
  it('builds the MLP (weights from config.seed), its ε-loss, Adam and the EMA; unetConfig names model.kind', async () => {
    const config = await toyConfig();
    const a = createTrainingSetup(config);
    const b = createTrainingSetup(config);
    const c = createTrainingSetup({ ...config, seed: config.seed + 1 });
    expect(a.architecture).toEqual({
      kind: 'mlp',
      config: { dim: 2, hidden: 16, layers: 2, timeEmbeddingDim: 32, numClasses: 0 },
    });
    expect(a.net).toBeInstanceOf(MlpNetwork);
    expect(a.lossConfig.parameterization).toBe('eps');
    expect(() => a.unetConfig).toThrow(/^model\.kind: this setup trains an 'mlp'/);
    const values = (s: typeof a) => Object.values(s.variables).map((v) => Array.from(v.dataSync()));
    expect(values(b)).toEqual(values(a));
    expect(values(c)).not.toEqual(values(a));
    // One step on a batch of toy points: a finite loss, and the EMA follows.
    const x = tf.tensor2d([
      [2, 0],
      [0, 2],
    ]);
    const result = trainStep(a.context, x);
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(a.optimizer.step).toBe(1);
    x.dispose();
    for (const s of [a, b, c]) s.dispose();
  });

  it('leaves no tensors behind (setup + dispose, a training step)', async () => {
    const config = await toyConfig();
    await expectNoLeaks(() => createTrainingSetup(config).dispose());
    const setup = createTrainingSetup(config);
    const x = tf.randomNormal([8, 2], 0, 1, 'float32', 1);
    await expectNoLeaks(() => {
      trainStep(setup.context, x);
    });
    x.dispose();
    setup.dispose();
  });
});

describe('loadTrainingSet for toy data', () => {
  it('draws data.trainSize labelled points [2] of the mixture from the seed', async () => {
    const { data } = await toyConfig('data.trainSize=500');
    const a = await loadTrainingSet(data, { seed: 1 });
    expect([a.size, ...a.shape]).toEqual([500, 2]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.numClasses).toBe(8);
    // Every point lies near the ring of radius 2 (std 0.1: within 6 std), labelled by its component's angle.
    for (let i = 0; i < a.size; i++) {
      const [x, y] = [a.data[2 * i]!, a.data[2 * i + 1]!];
      expect(Math.abs(Math.hypot(x, y) - 2)).toBeLessThan(0.6);
      const k = a.labels![i]!;
      expect(
        Math.hypot(x - 2 * Math.cos((k * Math.PI) / 4), y - 2 * Math.sin((k * Math.PI) / 4)),
      ).toBeLessThan(0.6);
    }
    expect(Array.from((await loadTrainingSet(data, { seed: 1 })).data)).toEqual(Array.from(a.data));
    expect(Array.from((await loadTrainingSet(data, { seed: 2 })).data)).not.toEqual(Array.from(a.data));
    await expect(loadTrainingSet({ ...data, numClasses: 3 })).rejects.toThrow(
      /^data\.numClasses: expected 0 \(unconditional\) or data\.components \(8\)/,
    );
  });
});
