import { karrasSigmas, VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { edmSample } from './edm-sampler.js';
import {
  cases,
  exactScore,
  expectMixture,
  latents,
  maxAbsDiff,
  referenceOde,
} from './oracle.test-support.js';

beforeAll(useCpuBackend);

describe.each(cases)('EDM Heun on the $name mixture oracle', ({ name, sde, spec }) => {
  it('deterministic, 18 Karras levels (35 NFE), reproduces the mixture', async () => {
    const { samples, nfe } = await edmSample({ sde, model: exactScore(spec), shape: [2000, 2], seed: 1 });
    expect(nfe).toBe(35);
    expectMixture(samples, `${name} EDM Heun`);
    samples.dispose();
  });

  it('stochastic (80 levels, S_churn = 10, S_noise = 1.003) reproduces the mixture', async () => {
    // churn adds its own first-order error (Karras et al. use it with many steps): with 18 or 40 levels
    // (γ = √2 − 1, 0.25 on every level) the energy distance stays visibly above the noise floor (see
    // bench/results/samplers.md); at 80 levels (γ = 0.125) the sampler is accurate
    const { samples, nfe } = await edmSample({
      sde,
      model: exactScore(spec),
      shape: [2000, 2],
      seed: 2,
      steps: 80,
      sChurn: 10,
      sNoise: 1.003,
    });
    expect(nfe).toBe(159);
    expectMixture(samples, `${name} EDM Heun with churn`);
    samples.dispose();
  });
});

describe('EDM Heun details', () => {
  const { sde, spec } = cases[2]!; // VE: σ̃ = σ, the setting of Karras et al.

  it('visits the Karras noise levels (Eq. 5) and ends at σ = 0', async () => {
    const times: number[] = [];
    const { samples } = await edmSample({
      sde,
      model: exactScore(spec),
      shape: [4, 2],
      steps: 6,
      seed: 1,
      onStep: ({ t }) => {
        times.push(t);
      },
    });
    const expected = karrasSigmas(6, sde.sigma(1e-5), 50, 7).slice(1);
    const sigmas = times.map((t, i) => (i === times.length - 1 ? t : sde.sigma(t)));
    expected.forEach((s, i) => {
      expect(sigmas[i]).toBeCloseTo(s, 6);
    });
    samples.dispose();
  });

  it('is a second-order solver of the PF-ODE: with many levels it matches the RK4 reference', async () => {
    // With σ_min = σ(tMin) the deterministic sampler integrates from T to tMin, then takes one Euler step to
    // σ = 0, i.e. x ← D(x; σ_min); compare with the reference ODE solution at tMin.
    const n = 32;
    const z = latents(n, 50, 11);
    const tMin = 1e-5;
    const ref = referenceOde(spec, z, 1, tMin, 4000);
    const error = async (steps: number) => {
      const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
      // stop at tMin: the last level σ_min is reached after steps − 1 Heun steps; read the state there
      let atMin: Float32Array | undefined;
      const { samples } = await edmSample({
        sde,
        model: exactScore(spec),
        xT,
        steps,
        onStep: ({ index, x }) => {
          if (index === steps - 2) atMin = x.dataSync() as Float32Array;
        },
      });
      tf.dispose([xT, samples]);
      return maxAbsDiff(atMin!, ref);
    };
    const coarse = await error(40);
    const fine = await error(160);
    // 4× the levels: error / 16 asymptotically for a second-order method (/ 4 for first order)
    expect(coarse / fine).toBeGreaterThan(8);
    expect(fine).toBeLessThan(0.01);
  });

  it('checks its options and leaks no tensors', async () => {
    const small = new VPSDE({ N: 30 });
    const model = (x: tf.Tensor) => tf.neg(x);
    await expect(edmSample({ sde: small, model, shape: [2, 2], steps: 0 })).rejects.toThrow(
      /^options\.steps: /,
    );
    await expect(edmSample({ sde: small, model, shape: [2, 2], sigmaMax: 1e6 })).rejects.toThrow(
      /^options\.sigmaMax: /,
    );
    await expect(edmSample({ sde: small, model, shape: [2, 2], sChurn: -1 })).rejects.toThrow(
      /^options\.sChurn: /,
    );
    await expectNoLeaks(() =>
      edmSample({ sde: small, model, shape: [3, 2], steps: 5, sChurn: 5, seed: 1, onStep: () => {} }),
    );
  });
});
