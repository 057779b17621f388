import { setupBackend } from '@sbm/backend';
import { SbmArgumentError, VPSDE } from '@sbm/sde';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { colorizeDDIM, colorizePC } from './colorize.js';
import { expectMoments, gaussianScore, methodBias, reference } from './replacement.test-support.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (n) => import(n) }));

const sde = new VPSDE({ betaMin: 0.1, betaMax: 20, N: 1000 });
const B = 2000;
// The two unknown decoupled directions (orthonormal, orthogonal to (1, 1, 1)), as in the reference script.
const V = [
  [-2 / Math.sqrt(6), 1 / Math.sqrt(6), 1 / Math.sqrt(6)],
  [0, 1 / Math.sqrt(2), -1 / Math.sqrt(2)],
];

describe('colorizing a 3-channel "pixel" Gaussian with its exact score', () => {
  it('PC: the channel mean equals the grey value and the decoupled colours follow the reference', async () => {
    const grey = tf.fill([B, 1, 1, 1], reference.grey);
    const { samples, nfe } = await colorizePC({
      sde,
      model: gaussianScore,
      grey,
      steps: 200,
      snr: 0.16,
      seed: 11,
    });
    expect(nfe).toBe(400);
    expect(samples.shape).toEqual([B, 1, 1, 3]);
    const x = await samples.data();
    const unknown = new Float64Array(2 * B);
    for (let i = 0; i < B; i++) {
      const [r, g, b] = [x[3 * i]!, x[3 * i + 1]!, x[3 * i + 2]!];
      // float32 rounding: a few roundings of values of size |r| + |g| + |b| (2^-23 relative each)
      const roundoff = 16 * 2 ** -23 * (Math.abs(r) + Math.abs(g) + Math.abs(b));
      expect(Math.abs((r + g + b) / 3 - reference.grey)).toBeLessThan(roundoff);
      for (let j = 0; j < 2; j++) unknown[2 * i + j] = V[j]![0]! * r + V[j]![1]! * g + V[j]![2]! * b;
    }
    expectMoments(unknown, B, reference.colorizePC, 'colorizePC vs reference');
    expectMoments(
      unknown,
      B,
      { mean: reference.colorizePC.conditionalMean, cov: reference.colorizePC.conditionalCov },
      'colorizePC vs conditional',
      methodBias(reference.colorizePC),
    );
    tf.dispose([grey, samples]);
  });

  it('weighted grey (luma): ⟨w, x⟩ equals the grey image, shapes [B, H, W, C], no leaks', async () => {
    const grey = tf.randomUniform([2, 4, 4, 1], -0.5, 0.5, 'float32', 3);
    const w = [0.299, 0.587, 0.114];
    const run = () => colorizeDDIM({ sde, model: gaussianScore, grey, channelWeights: w, steps: 4, seed: 2 });
    const { samples, nfe } = await run();
    expect(nfe).toBe(4);
    expect(samples.shape).toEqual([2, 4, 4, 3]);
    const x = await samples.data();
    const g = await grey.data();
    for (let p = 0; p < g.length; p++) {
      const dot = w[0]! * x[3 * p]! + w[1]! * x[3 * p + 1]! + w[2]! * x[3 * p + 2]!;
      const size = Math.abs(x[3 * p]!) + Math.abs(x[3 * p + 1]!) + Math.abs(x[3 * p + 2]!);
      expect(Math.abs(dot - g[p]!)).toBeLessThan(16 * 2 ** -23 * size);
    }
    samples.dispose();
    await expectNoLeaks(run);
    await expectNoLeaks(() => colorizePC({ sde, model: gaussianScore, grey, steps: 2, seed: 2 }));
    grey.dispose();
  });
});

describe('colorization errors', () => {
  const cases: [string, () => Record<string, unknown>, string, RegExp][] = [
    ['grey with 3 channels', () => ({ grey: tf.zeros([1, 2, 2, 3]) }), 'options.grey', /one channel/],
    ['grey with NaN', () => ({ grey: tf.tensor4d([Number.NaN], [1, 1, 1, 1]) }), 'options.grey', /NaN/],
    ['grey not a tensor', () => ({ grey: 0.5 }), 'options.grey', /grey image/],
    [
      'bad weights',
      () => ({ grey: tf.zeros([1, 2, 2, 1]), channelWeights: [0, 0, 0] }),
      'options.channelWeights',
      /not all zero/,
    ],
    [
      'weights of the wrong length',
      () => ({ grey: tf.zeros([1, 2, 2, 1]), channels: 3, channelWeights: [1, 1] }),
      'options.channelWeights',
      /3 finite/,
    ],
    ['one channel', () => ({ grey: tf.zeros([1, 2, 2, 1]), channels: 1 }), 'options.channels', />= 2/],
  ];
  it.each(cases)('%s', async (_name, make, argument, message) => {
    const options = make();
    const error = await colorizePC({ sde, model: gaussianScore, steps: 2, ...options } as never).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(SbmArgumentError);
    expect(error.argument).toBe(argument);
    expect(error.message).toMatch(message);
    tf.dispose(Object.values(options).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
  });
});
