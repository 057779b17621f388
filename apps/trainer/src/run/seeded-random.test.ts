import { useCpuBackend } from '@sbm/test-utils';
import { createUNet, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { withSeededRandom } from './seeded-random.js';

beforeAll(useCpuBackend);

const weights = (seed: number, stream: number) => {
  const net = withSeededRandom(seed, stream, () => createUNet(unetPreset('tiny/ddpmpp', { nf: 8 })));
  const values = net.model.getWeights().map((w) => Array.from(w.dataSync()));
  net.dispose();
  return values;
};

describe('withSeededRandom', () => {
  it('makes tfjs initializers a function of the seed and restores Math.random', () => {
    const original = Math.random;
    const a = weights(1, 0);
    expect(Math.random).toBe(original);
    expect(weights(1, 0)).toEqual(a);
    expect(weights(2, 0)).not.toEqual(a);
    expect(weights(1, 1)).not.toEqual(a);
    // the initializers' distributions are tfjs' own: some weights vary, biases start at 0
    expect(a.some((w) => w.some((v) => v !== 0))).toBe(true);
  });

  it('makes dropout masks a function of the seed', () => {
    const x = tf.ones([1000]);
    const mask = (seed: number) =>
      withSeededRandom(seed, 7, () => tf.tidy(() => Array.from(tf.dropout(x, 0.5).dataSync())));
    expect(mask(3)).toEqual(mask(3));
    expect(mask(3)).not.toEqual(mask(4));
    x.dispose();
  });

  it('restores Math.random when fn throws, and refuses an async fn', () => {
    const original = Math.random;
    expect(() =>
      withSeededRandom(1, 0, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(Math.random).toBe(original);
    expect(() => withSeededRandom(1, 0, async () => 1)).toThrow(/must be synchronous/);
    expect(Math.random).toBe(original);
  });
});
