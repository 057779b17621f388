import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ClassEmbedding, GaussianFourierProjection, positionalEmbedding } from './time-embedding.js';

beforeAll(useCpuBackend);

describe('positionalEmbedding', () => {
  it('is [sin(t·ω_i), cos(t·ω_i)] with ω_i = 10000^(−i/(h−1))', () => {
    const t = [0, 1.5, 37];
    const dim = 8;
    const half = dim / 2;
    const y = positionalEmbedding(tf.tensor1d(t), dim).arraySync();
    t.forEach((tv, n) => {
      for (let i = 0; i < half; i++) {
        const omega = 10000 ** (-i / (half - 1));
        expect(y[n]![i]).toBeCloseTo(Math.sin(tv * omega), 5);
        expect(y[n]![half + i]).toBeCloseTo(Math.cos(tv * omega), 5);
      }
    });
  });

  it('pads an odd width with a zero column', () => {
    const y = positionalEmbedding(tf.tensor1d([2]), 7);
    expect(y.shape).toEqual([1, 7]);
    expect(y.arraySync()[0]![6]).toBe(0);
  });

  it('does not leak', async () => {
    const t = tf.tensor1d([1, 2]);
    await expectNoLeaks(() => positionalEmbedding(t, 16));
  });
});

describe('GaussianFourierProjection', () => {
  it('embeds log σ as [sin(2π log σ W), cos(2π log σ W)] with frozen W ~ N(0, scale²)', () => {
    const layer = new GaussianFourierProjection({ embeddingSize: 3, scale: 16 });
    const sigma = tf.tensor1d([0.5, 20]);
    layer.apply(sigma);
    expect(layer.trainableWeights).toHaveLength(0);
    const w = [0.3, -1.2, 2];
    layer.setWeights([tf.tensor1d(w)]);
    const y = (layer.apply(sigma) as tf.Tensor).arraySync() as number[][];
    [0.5, 20].forEach((s, n) => {
      w.forEach((wi, i) => {
        expect(y[n]![i]).toBeCloseTo(Math.sin(2 * Math.PI * Math.log(s) * wi), 4);
        expect(y[n]![3 + i]).toBeCloseTo(Math.cos(2 * Math.PI * Math.log(s) * wi), 4);
      });
    });
  });

  it('draws W with standard deviation `scale`', () => {
    const layer = new GaussianFourierProjection({ embeddingSize: 4000, scale: 16 });
    layer.apply(tf.tensor1d([1]));
    const values = layer.getWeights()[0]!.dataSync();
    const std = Math.sqrt(Array.from(values).reduce((a, v) => a + v * v, 0) / values.length);
    // Standard error of the sample std for n = 4000 is ≈ scale/√(2n) ≈ 0.18.
    expect(Math.abs(std - 16)).toBeLessThan(1);
  });
});

describe('ClassEmbedding', () => {
  it('adds the label’s row to the time embedding; label numClasses is the null class', () => {
    const layer = new ClassEmbedding({ numClasses: 2, dim: 2 });
    const temb = tf.tensor2d([1, 1, 2, 2, 3, 3], [3, 2]);
    const labels = tf.tensor1d([0, 2, 1], 'int32');
    layer.apply([temb, labels]);
    layer.setWeights([tf.tensor2d([10, 20, 30, 40, 50, 60], [3, 2])]);
    expectTensorsClose(layer.apply([temb, labels]) as tf.Tensor, [11, 21, 52, 62, 33, 43]);
  });
});
