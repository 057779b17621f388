import { setupBackend } from '@sbm/backend';
import { SbmArgumentError, VPSDE } from '@sbm/sde';
import { expectNoLeaks } from '@sbm/test-utils';
import { createUNet, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { inpaintDDIM, inpaintDPMSolverPlusPlus, inpaintPC } from './inpaint.js';
import { expectMoments, gaussianScore, methodBias, reference } from './replacement.test-support.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (n) => import(n) }));

const sde = new VPSDE({ betaMin: 0.1, betaMax: 20, N: 1000 });
const B = 2000;

/** Known coordinate 0 = reference.known; coordinates 1, 2 free (they are garbage in `known`). */
function target() {
  const known = tf.tensor2d(Array.from({ length: B }, (_, i) => [reference.known, 5 + i, -7]));
  const mask = tf.tensor1d([1, 0, 0]);
  return { known, mask };
}

async function check(samples: tf.Tensor, label: string, moments: (typeof reference)['inpaintPC']) {
  const values = await samples.data();
  const unknown = new Float64Array(2 * B);
  for (let i = 0; i < B; i++) {
    // the known coordinate is returned bitwise
    expect(values[3 * i]).toBe(Math.fround(reference.known));
    unknown[2 * i] = values[3 * i + 1]!;
    unknown[2 * i + 1] = values[3 * i + 2]!;
  }
  // against an independent numpy implementation of the same scheme (Monte Carlo, 200000 samples)
  expectMoments(unknown, B, moments, `${label} vs reference`);
  // against the closed-form Gaussian conditional, allowing the replacement method's bias measured by the reference
  expectMoments(
    unknown,
    B,
    { mean: moments.conditionalMean, cov: moments.conditionalCov },
    `${label} vs conditional`,
    methodBias(moments),
  );
}

describe('inpainting a correlated 3-D Gaussian with its exact score', () => {
  it('PC (reverse diffusion + Langevin, 200 levels) matches the reference scheme and keeps the known value', async () => {
    const { known, mask } = target();
    const { samples, nfe } = await inpaintPC({
      sde,
      model: gaussianScore,
      known,
      mask,
      steps: 200,
      snr: 0.16,
      seed: 3,
    });
    expect(nfe).toBe(400);
    expect(samples.shape).toEqual([B, 3]);
    await check(samples, 'inpaintPC', reference.inpaintPC);
    // the PC bias is small: < 0.05 in every moment
    expect(methodBias(reference.inpaintPC)).toBeLessThan(0.05);
    tf.dispose([known, mask, samples]);
  });

  it('DDIM (η = 0, 50 steps, fixed known noise) matches the reference scheme', async () => {
    const { known, mask } = target();
    const { samples, nfe } = await inpaintDDIM({
      sde,
      model: gaussianScore,
      known,
      mask,
      steps: 50,
      seed: 4,
    });
    expect(nfe).toBe(50);
    await check(samples, 'inpaintDDIM', reference.inpaintDDIM);
    tf.dispose([known, mask, samples]);
  });

  it('DPM-Solver++(2M) (20 logSNR steps, fixed known noise) matches the reference scheme', async () => {
    const { known, mask } = target();
    const { samples, nfe } = await inpaintDPMSolverPlusPlus({
      sde,
      model: gaussianScore,
      known,
      mask,
      steps: 20,
      seed: 5,
    });
    expect(nfe).toBe(20);
    await check(samples, 'inpaintDPMSolverPlusPlus', reference.inpaintDPMpp);
    tf.dispose([known, mask, samples]);
  });

  it('DDIM with η = 0 and fixed known noise is deterministic given the seed', async () => {
    const known = tf.tensor2d([
      [1, 0, 0],
      [0.5, 0, 0],
    ]);
    const mask = tf.tensor1d([1, 0, 0]);
    const a = await inpaintDDIM({ sde, model: gaussianScore, known, mask, steps: 5, seed: 9 });
    const b = await inpaintDDIM({ sde, model: gaussianScore, known, mask, steps: 5, seed: 9 });
    const c = await inpaintDDIM({ sde, model: gaussianScore, known, mask, steps: 5, seed: 10 });
    expect(Array.from(await a.samples.data())).toEqual(Array.from(await b.samples.data()));
    expect(Array.from(await a.samples.data())).not.toEqual(Array.from(await c.samples.data()));
    tf.dispose([known, mask, a.samples, b.samples, c.samples]);
  });
});

describe('inpainting errors', () => {
  const known = () => tf.zeros([2, 3]);
  const cases: [string, () => Record<string, unknown>, string, RegExp][] = [
    [
      'mask not broadcastable',
      () => ({ known: known(), mask: tf.ones([2]) }),
      'options.mask',
      /broadcastable/,
    ],
    ['mask not 0/1', () => ({ known: known(), mask: tf.tensor1d([1, 0.5, 0]) }), 'options.mask', /\{0, 1\}/],
    ['mask not a tensor', () => ({ known: known(), mask: [1, 0, 0] }), 'options.mask', /0\/1 tensor/],
    ['known not a tensor', () => ({ known: [[1, 2, 3]], mask: tf.ones([3]) }), 'options.known', /tensor/],
    [
      'known with NaN',
      () => ({ known: tf.tensor2d([[1, Number.NaN, 0]]), mask: tf.ones([3]) }),
      'options.known',
      /NaN/,
    ],
    [
      'bad knownNoise',
      () => ({ known: known(), mask: tf.ones([3]), knownNoise: 'none' }),
      'options.knownNoise',
      /fresh/,
    ],
  ];
  it.each(cases)('%s', async (_name, make, argument, message) => {
    const options = make();
    const before = tf.memory().numTensors;
    const error = await inpaintPC({ sde, model: gaussianScore, steps: 2, ...options } as never).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(SbmArgumentError);
    expect(error.argument).toBe(argument);
    expect(error.message).toMatch(message);
    const tensors = Object.values(options).filter((v) => v instanceof tf.Tensor) as tf.Tensor[];
    expect(tf.memory().numTensors - tensors.length).toBeLessThanOrEqual(before);
    tf.dispose(tensors);
  });
});

describe('inpainting on a real @sbm/unet network', () => {
  it('keeps known pixels exactly, returns [B, 8, 8, 3] and leaks nothing', async () => {
    const net = createUNet(unetPreset('tiny/ddpmpp'));
    const model = (x: tf.Tensor, t: tf.Tensor) =>
      tf.tidy(() => net.predict(x as tf.Tensor4D, tf.mul(t, 999) as tf.Tensor1D));
    const known = tf.randomUniform([2, 8, 8, 3], -1, 1, 'float32', 7);
    const mask = tf.tidy(() =>
      tf.cast(tf.greater(tf.randomUniform([8, 8, 1], 0, 1, 'float32', 8), 0.5), 'float32'),
    );
    const opts = { sde, model, known, mask, steps: 3, seed: 1 };
    const runs = [
      () => inpaintPC(opts),
      () => inpaintDDIM(opts),
      () => inpaintDPMSolverPlusPlus({ ...opts, order: 2 as const }),
    ];
    const maskValues = await mask.data();
    const knownValues = await known.data();
    for (const run of runs) {
      const { samples } = await run();
      expect(samples.shape).toEqual([2, 8, 8, 3]);
      const values = await samples.data();
      for (let i = 0; i < values.length; i++) {
        if (maskValues[Math.floor(i / 3) % 64] === 1) expect(values[i]).toBe(knownValues[i]);
      }
      samples.dispose();
      await expectNoLeaks(run);
    }
    tf.dispose([known, mask]);
    net.model.dispose();
  });
});
