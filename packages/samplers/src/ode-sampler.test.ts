import { VPSDE } from '@sbm/sde';
import { createRng, expectNoLeaks, sampleCovariance, sampleMean, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { odeEncode, odeSample } from './ode-sampler.js';
import {
  cases,
  exactScore,
  expectMixture,
  latents,
  maxAbsDiff,
  mixture,
  referenceDenoise,
  referenceOde,
} from './oracle.test-support.js';

beforeAll(useCpuBackend);

describe.each(cases)('probability-flow ODE on the $name mixture oracle', ({ name, sde, spec }) => {
  it.each([
    ['rk45', 2000],
    ['heun', 2000],
    ['euler', 1000],
  ] as const)('%s at its defaults reproduces the mixture', async (method, n) => {
    const { samples, nfe, steps } = await odeSample({
      sde,
      model: exactScore(spec),
      shape: [n, 2],
      seed: 1,
      method,
    });
    if (method === 'euler') expect(nfe).toBe(500);
    if (method === 'heun') expect(nfe).toBe(200);
    if (method === 'rk45') expect(nfe).toBeGreaterThanOrEqual(6 * steps + 2);
    expectMixture(samples, `${name} ODE ${method}`);
    samples.dispose();
  });

  it('RK45 from fixed latents matches a float64 RK4 reference solution of the same ODE', async () => {
    const n = 64;
    const tMin = name === 'VE' ? 1e-5 : 1e-3;
    const z = latents(n, sde.priorStd);
    const reference = referenceOde(spec, z, 1, tMin);
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const { samples, nfe } = await odeSample({ sde, model: exactScore(spec), xT, rtol: 1e-5, atol: 1e-5 });
    // a correct embedded 4th-order error estimate lets the steps grow: ~100 evaluations here (a wrong
    // estimate of lower order forces thousands)
    expect(nfe).toBeLessThan(300);
    // tolerance-limited: local errors ~1e-5 relative, accumulated over the trajectory; float32 state
    expect(maxAbsDiff(samples.dataSync(), reference)).toBeLessThan(2e-3);
    const loose = await odeSample({ sde, model: exactScore(spec), xT, rtol: 1e-2, atol: 1e-2 });
    // the tolerance is honoured: a 1000× looser tolerance gives a visibly larger error, with fewer NFE
    expect(loose.nfe).toBeLessThan((await odeSample({ sde, model: exactScore(spec), xT })).nfe);
    tf.dispose([xT, samples, loose.samples]);
  });
});

describe('odeSample with denoise', () => {
  it("ends with Tweedie's x̂0 = (x + σ² s)/α at tMin, as the float64 reference", async () => {
    const { sde, spec } = cases[0]!;
    const n = 32;
    const z = latents(n, 1, 5);
    const reference = referenceDenoise(spec, referenceOde(spec, z, 1, 1e-3), 1e-3);
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const { samples, nfe } = await odeSample({
      sde,
      model: exactScore(spec),
      xT,
      method: 'heun',
      steps: 200,
      denoise: true,
    });
    expect(nfe).toBe(401);
    expect(maxAbsDiff(samples.dataSync(), reference)).toBeLessThan(2e-3);
    tf.dispose([xT, samples]);
  });
});

describe('fixed-step PF-ODE solvers converge at their order', () => {
  it('Euler is first order and Heun second order against the RK4 reference (VP)', async () => {
    const { sde, spec } = cases[0]!;
    const n = 32;
    const z = latents(n, 1, 3);
    const reference = referenceOde(spec, z, 1, 1e-3);
    const error = async (method: 'euler' | 'heun', steps: number) => {
      const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
      const { samples } = await odeSample({ sde, model: exactScore(spec), xT, method, steps });
      const e = maxAbsDiff(samples.dataSync(), reference);
      tf.dispose([xT, samples]);
      return e;
    };
    const e1 = [await error('euler', 200), await error('euler', 400)];
    const e2 = [await error('heun', 100), await error('heun', 200)];
    expect(e1[0]! / e1[1]!).toBeGreaterThan(1.7);
    expect(e1[0]! / e1[1]!).toBeLessThan(2.5);
    expect(e2[0]! / e2[1]!).toBeGreaterThan(3.2);
    expect(e2[1]).toBeLessThan(e1[1]!);
  });
});

describe('odeEncode (forward direction, data → latents)', () => {
  const { sde, spec } = cases[0]!;

  it('encode then decode returns the data, and latents of mixture data are ≈ N(0, I)', async () => {
    const n = 500;
    const data = mixture.sampleTensor(n, createRng(5));
    const { latents: z, nfe } = await odeEncode({ sde, model: exactScore(spec), x: data });
    expect(nfe).toBeGreaterThan(0);
    // p_T of VP with β_max = 20 is N(α(1) m_k, α(1)² C_k + σ(1)² I) ≈ N(0, I) up to α(1) ≈ 0.0066
    const zs = z.dataSync();
    const mean = sampleMean(zs, n, 2);
    const cov = sampleCovariance(zs, n, 2);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(mean[i]!)).toBeLessThan(4 * Math.sqrt(1 / n));
      expect(Math.abs(cov[i]![i]! - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    }
    expect(Math.abs(cov[0]![1]!)).toBeLessThan(4 * Math.sqrt(1 / n));
    const { samples } = await odeSample({ sde, model: exactScore(spec), xT: z, rtol: 1e-6, atol: 1e-6 });
    // the round trip ends at tMin = 1e-3 where x = α x_0 + σ ε ≈ x_0 up to a drift of ~1e-3 · |x|
    expect(maxAbsDiff(samples.dataSync(), data.dataSync())).toBeLessThan(0.02);
    tf.dispose([data, z, samples]);
  });
});

describe('odeSample bookkeeping', () => {
  const sde = new VPSDE({ N: 30 });
  const model = (x: tf.Tensor) => tf.mul(x, -0.9);

  it('aborts between steps with the signal’s reason and frees its tensors', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    const result = odeSample({
      sde,
      model,
      shape: [4, 2],
      seed: 1,
      method: 'euler',
      steps: 50,
      signal: controller.signal,
      onStep: ({ index }) => {
        if (index === 9) controller.abort(new Error('stop at 10'));
      },
    });
    await expect(result).rejects.toThrow('stop at 10');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('onStep sees every step with its t, the state and the denoised estimate', async () => {
    const seen: number[] = [];
    const { samples } = await odeSample({
      sde,
      model,
      shape: [2, 2],
      method: 'heun',
      steps: 4,
      seed: 1,
      onStep: ({ index, t, x, denoised }) => {
        seen.push(index, t);
        expect(x.shape).toEqual([2, 2]);
        expect(denoised.shape).toEqual([2, 2]);
      },
    });
    expect(seen.filter((_, i) => i % 2 === 0)).toEqual([0, 1, 2, 3]);
    expect(seen[seen.length - 1]).toBeCloseTo(1e-3, 12);
    samples.dispose();
  });

  it('checks its options', async () => {
    await expect(odeSample({ sde, model, shape: [2, 2], method: 'rk4' as never })).rejects.toThrow(
      /^options\.method: /,
    );
    await expect(odeSample({ sde, model, shape: [2, 2], rtol: 0 })).rejects.toThrow(/^options\.rtol: /);
    await expect(odeSample({ sde, model, shape: [2, 2], method: 'euler', steps: 0 })).rejects.toThrow(
      /^options\.steps: /,
    );
    await expect(odeSample({ sde, model, shape: [2, 2], tMin: -0.1 })).rejects.toThrow(/^options\.tMin: /);
    await expect(odeSample({ sde: {} as never, model, shape: [2, 2] })).rejects.toThrow(/^options\.sde: /);
  });

  it('leaks no tensors', async () => {
    for (const method of ['rk45', 'heun', 'euler'] as const) {
      await expectNoLeaks(() =>
        odeSample({ sde, model, shape: [3, 2], seed: 1, method, steps: 5, denoise: true, onStep: () => {} }),
      );
    }
    const x = tf.ones([3, 2]);
    await expectNoLeaks(() => odeEncode({ sde, model, x, method: 'rk45' }));
    x.dispose();
  });
});
