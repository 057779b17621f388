import { VPSDE } from '@sbm/sde';
import { expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddimSample, ddpmSample } from './ddim.js';
import { edmSample } from './edm-sampler.js';
import { cases, exactScore } from './oracle.test-support.js';
import { pcSample } from './pc-sampler.js';
import type { SampleResult, SamplerBaseOptions } from './sampling-run.js';

beforeAll(useCpuBackend);

const { sde, spec } = cases[0]!;
type Sampler = (o: SamplerBaseOptions & Record<string, unknown>) => Promise<SampleResult>;
const stochastic: [string, Sampler][] = [
  ['DDPM', (o) => ddpmSample({ ...o, sde, steps: 30 })],
  ['DDIM η = 1', (o) => ddimSample({ ...o, sde, steps: 10, eta: 1 })],
  [
    'PC Euler–Maruyama',
    (o) => pcSample({ ...o, sde, steps: 30, predictor: 'eulerMaruyama', corrector: 'none' }),
  ],
  ['EDM with churn', (o) => edmSample({ ...o, sde, steps: 8, sChurn: 20 })],
];

async function draw(
  sampler: Sampler,
  options: Partial<SamplerBaseOptions> & Record<string, unknown>,
): Promise<number[]> {
  const { samples } = await sampler({ sde, model: exactScore(spec), ...options });
  const out = Array.from(samples.dataSync());
  samples.dispose();
  return out;
}

describe.each(stochastic)('%s: reproducibility with per-sample noise streams', (_, sampler) => {
  it('the same seed gives the same samples, another seed other samples', async () => {
    const a = await draw(sampler, { shape: [4, 2], seed: 5 });
    const b = await draw(sampler, { shape: [4, 2], seed: 5 });
    const c = await draw(sampler, { shape: [4, 2], seed: 6 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('sample k is the same in a batch of 3, a batch of 6, and a run split with firstSample', async () => {
    const six = await draw(sampler, { shape: [6, 2], seed: 8 });
    const three = await draw(sampler, { shape: [3, 2], seed: 8 });
    const rest = await draw(sampler, { shape: [3, 2], seed: 8, firstSample: 3 });
    expectTensorsClose(three, six.slice(0, 6), { rtol: 1e-6, atol: 1e-6 });
    expectTensorsClose(rest, six.slice(6), { rtol: 1e-6, atol: 1e-6 });
  });
});

describe('common sampler options', () => {
  const model = (x: tf.Tensor) => tf.neg(x);

  it('labels reach the model on every evaluation', async () => {
    const small = new VPSDE({ N: 30 });
    const seen: number[][] = [];
    const labels = tf.tensor1d([4, 2, 9], 'int32');
    const { samples, nfe } = await ddimSample({
      sde: small,
      model: (x: tf.Tensor, _t: tf.Tensor, l?: tf.Tensor) => {
        seen.push(Array.from(l!.dataSync()));
        return tf.neg(x);
      },
      shape: [3, 2],
      steps: 4,
      labels,
    });
    expect(seen).toHaveLength(nfe);
    expect(seen.every((l) => l.join() === '4,2,9')).toBe(true);
    tf.dispose([samples, labels]);
  });

  it('an already aborted signal stops before any evaluation', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    await expect(ddimSample({ sde, model, shape: [2, 2], signal: controller.signal })).rejects.toThrow(
      'cancelled',
    );
  });

  it('xT and shape must agree; xT is not disposed', async () => {
    const xT = tf.zeros([3, 2]);
    await expect(ddimSample({ sde, model, xT, shape: [4, 2] })).rejects.toThrow(
      /^options\.shape: expected the shape of xT \[3,2\]/,
    );
    const { samples } = await ddimSample({ sde, model, xT, steps: 2 });
    expect(xT.isDisposed).toBe(false);
    tf.dispose([xT, samples]);
  });
});
