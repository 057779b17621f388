// Runs the examples of guides/choosing-a-sampler.md with the exact score of Gaussian data N(0, 4 I): every sampler
// must report the NFE the guide states and reproduce the data's mean and variance.
import { VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { sampleAtTenNfe, samplerMenu } from './choosing-a-sampler.js';
import { gaussianScore } from './scores.js';

beforeAll(useCpuBackend);

/**
 * Mean and variance over all 2 × B values of `[B, 2]` samples of N(0, 4): standard errors 2/√(2B) and 4·√(1/B)
 * (variance of a variance estimate, 2σ⁴/(n − 1) with n = 2B).
 */
function expectGaussian(samples: tf.Tensor, bias: number, label: string): void {
  const n = samples.size;
  const { mean, variance } = tf.moments(samples);
  const m = mean.dataSync()[0]!;
  const v = variance.dataSync()[0]!;
  tf.dispose([mean, variance]);
  expect(Math.abs(m), `${label} mean`).toBeLessThan(4 * (2 / Math.sqrt(n)) + bias);
  expect(Math.abs(v - 4), `${label} variance`).toBeLessThan(4 * 4 * Math.sqrt(2 / (n - 1)) + bias);
}

describe('guides/choosing-a-sampler examples', () => {
  it('UniPC with quadratic steps spends 10 NFE and samples N(0, 4) on VP', async () => {
    const vp = new VPSDE();
    const { samples, nfe } = await sampleAtTenNfe(vp, gaussianScore(vp, 2), [2000, 2], 1);
    expect(nfe).toBe(10);
    expectGaussian(samples, 0.1, 'VP UniPC');
    samples.dispose();
  });

  it('every sampler of the menu reports the NFE of its rule and samples N(0, 4)', async () => {
    const sde = new VESDE();
    const results = await samplerMenu(sde, gaussianScore(sde, 2), [1000, 2], 2);
    const nfe = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, r.nfe]));
    expect(nfe).toMatchObject({
      pc: 200,
      ddim: 50,
      edm: 35,
      dpmSolver: 30,
      dpmSolverPlusPlus: 20,
      unipc: 10,
    });
    expect(nfe['ode']).toBeGreaterThan(10);
    for (const [name, r] of Object.entries(results)) {
      expectGaussian(r.samples, 0.15, name);
      r.samples.dispose();
    }
  });

  it('leaks no tensors', async () => {
    const vp = new VPSDE();
    await expectNoLeaks(() => sampleAtTenNfe(vp, gaussianScore(vp, 2), [4, 2], 0));
  });
});
