import {
  discreteMarginals,
  discreteSchedule,
  discreteTimesteps,
  linearBetas,
  SbmArgumentError,
  VPSDE,
} from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDIMStepper, ddimSample, ddpmSample } from './ddim.js';
import { wrapModel } from './model-adapter.js';
import { NoiseStreams } from './noise-streams.js';
import {
  cases,
  exactScore,
  expectMixture,
  latents,
  maxAbsDiff,
  meanAbsDiff,
  mixture,
  referenceDenoise,
  referenceOde,
} from './oracle.test-support.js';

beforeAll(useCpuBackend);

describe.each(cases)('DDIM / DDPM on the $name mixture oracle', ({ name, sde, spec }) => {
  it('DDIM (η = 0, 50 steps) reproduces the mixture', async () => {
    const { samples, nfe } = await ddimSample({ sde, model: exactScore(spec), shape: [2000, 2], seed: 1 });
    expect(nfe).toBe(50);
    expectMixture(samples, `${name} DDIM`);
    samples.dispose();
  });

  it('DDPM ancestral (N = 1000 steps) reproduces the mixture', async () => {
    const { samples, nfe } = await ddpmSample({ sde, model: exactScore(spec), shape: [1000, 2], seed: 2 });
    expect(nfe).toBe(1000);
    expectMixture(samples, `${name} DDPM`);
    samples.dispose();
  });
});

describe('DDIM with η = 0 is a solver of the probability-flow ODE', () => {
  it('converges to the float64 RK4 solution from the same latents as steps grow (mean error halves per doubling)', async () => {
    const { sde, spec } = cases[0]!;
    const n = 64;
    const z = latents(n, 1);
    const tMin = 1e-3;
    const reference = referenceDenoise(spec, referenceOde(spec, z, 1, tMin), tMin);
    const errors: number[] = [];
    let worst = 0;
    for (const steps of [10, 20, 40, 80, 160, 320]) {
      const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
      const { samples } = await ddimSample({ sde, model: exactScore(spec), xT, steps, tMin });
      errors.push(meanAbsDiff(samples.dataSync(), reference));
      worst = maxAbsDiff(samples.dataSync(), reference);
      tf.dispose([xT, samples]);
    }
    for (let i = 1; i < errors.length; i++) {
      // halving the step divides the mean error by ~2 for a first-order method
      expect(errors[i - 1]! / errors[i]!, `mean errors ${errors.join(', ')}`).toBeGreaterThan(1.5);
    }
    expect(errors[5]).toBeLessThan(0.01);
    expect(worst).toBeLessThan(0.1); // at 320 steps even points near a mode boundary agree
  });
});

describe('DDIMStepper (stateless stepping API)', () => {
  const { sde, spec } = cases[0]!;

  it('a hand-written loop over schedule() gives exactly what ddimSample gives', async () => {
    const xT = tf.randomNormal([16, 2], 0, 1, 'float32', 3);
    const eta = 0.5;
    const seed = 11;
    const { samples } = await ddimSample({ sde, model: exactScore(spec), xT, steps: 12, eta, seed });
    const stepper = new DDIMStepper({ sde, steps: 12, eta, prediction: 'score' });
    const streams = new NoiseStreams(seed, 16);
    let x: tf.Tensor = tf.clone(xT);
    const score = exactScore(spec);
    for (const info of stepper.schedule()) {
      const tt = tf.fill([16], info.t) as tf.Tensor1D;
      const out = score(x, tt);
      tt.dispose();
      const noise = info.tNext === null ? undefined : streams.normal([16, 2]);
      const { prevSample, denoised } = stepper.step(out, info, x, noise);
      tf.dispose([out, noise, denoised, x]);
      x = prevSample;
    }
    expectTensorsClose(x, samples, { rtol: 1e-5, atol: 1e-5 });
    tf.dispose([x, samples, xT]);
  });

  it('one step equals the DDIM formula computed by hand (η = 1 variance = DDPM β̃)', () => {
    const stepper = new DDIMStepper({ sde, timesteps: [0.5, 0.3], eta: 1, prediction: 'eps' });
    const x = tf.tensor2d([[0.3, -1.2]]);
    const eps = tf.tensor2d([[0.7, 0.1]]);
    const z = tf.tensor2d([[1, -1]]);
    const [info] = stepper.schedule();
    const { prevSample, denoised } = stepper.step(eps, info!, x, z);
    const [at, st, as] = [sde.alpha(0.5), sde.sigma(0.5), sde.alpha(0.3)];
    const abT = at * at;
    const abS = as * as;
    const varPost = ((1 - abS) / (1 - abT)) * (1 - abT / abS); // Ho et al. β̃ for the skip 0.5 → 0.3
    const x0 = [(0.3 - st * 0.7) / at, (-1.2 - st * 0.1) / at];
    const dir = Math.sqrt(1 - abS - varPost);
    const expected = [
      as * x0[0]! + dir * 0.7 + Math.sqrt(varPost),
      as * x0[1]! + dir * 0.1 - Math.sqrt(varPost),
    ];
    expectTensorsClose(denoised, x0, { rtol: 1e-5, atol: 1e-6 });
    expectTensorsClose(prevSample, expected, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([x, eps, z, prevSample, denoised]);
  });

  it('needs noise when it adds noise, and checks its inputs', () => {
    const stepper = new DDIMStepper({ sde, steps: 3, eta: 1 });
    const x = tf.zeros([2, 2]);
    expect(() => stepper.step(x, stepper.schedule()[0]!, x)).toThrow(/^noise: /);
    expect(() => new DDIMStepper({ sde, steps: 0 })).toThrow(/^options\.steps: expected an integer >= 1/);
    expect(() => new DDIMStepper({ sde, eta: -1 })).toThrow(/^options\.eta: /);
    expect(() => new DDIMStepper({ sde, timesteps: [0.2, 0.5] })).toThrow(/strictly decreasing/);
    expect(() => new DDIMStepper({ sde, timesteps: [1.5, 0.5] })).toThrow(
      /^options\.timesteps: expected times in \[0, 1\]/,
    );
    expect(() => new DDIMStepper({ sde, tMin: 1 })).toThrow(SbmArgumentError);
    x.dispose();
  });
});

describe('DDPM checkpoint path: discrete schedule, integer timesteps, ε model', () => {
  // A DDPM-style model on a discrete linear-beta schedule: the exact ε of the mixture diffused to
  // x_i = √ᾱ_i x_0 + √(1 − ᾱ_i) ε, called with integer step indices.
  const schedule = discreteSchedule(linearBetas(1000));
  const marginals = discreteMarginals(schedule);
  const epsModel = (x: tf.Tensor, t: tf.Tensor): tf.Tensor => {
    const i = t.dataSync()[0]!;
    expect(Number.isInteger(i)).toBe(true);
    const a = Math.sqrt(schedule.alphaBars[i]!);
    const s = Math.sqrt(1 - schedule.alphaBars[i]!);
    const score = mixture.perturbed(a, s).score(x.dataSync() as Float32Array);
    return tf.tensor(
      Float32Array.from(score, (v) => -s * v),
      x.shape,
    );
  };

  it('DDIM over 50 of the 1000 training steps reproduces the mixture', async () => {
    const model = wrapModel(epsModel, { sde: marginals, prediction: 'eps' });
    const { samples, nfe } = await ddimSample({
      sde: marginals,
      model,
      timesteps: discreteTimesteps(1000, 50, 'trailing'),
      shape: [2000, 2],
      seed: 4,
    });
    expect(nfe).toBe(50);
    expectMixture(samples, 'discrete DDIM');
    samples.dispose();
  });

  it("DDPM with σ² = β ('large') over all 1000 indices reproduces the mixture", async () => {
    const model = wrapModel(epsModel, { sde: marginals, prediction: 'eps' });
    const timesteps = Array.from({ length: 1000 }, (_, i) => 999 - i);
    const { samples } = await ddpmSample({
      sde: marginals,
      model,
      timesteps,
      variance: 'large',
      shape: [1000, 2],
      seed: 5,
    });
    expectMixture(samples, 'discrete DDPM large variance');
    samples.dispose();
  });
});

describe('ddimSample / ddpmSample memory', () => {
  it('leak no tensors', async () => {
    const sde = new VPSDE({ N: 30 });
    const model = (x: tf.Tensor) => tf.neg(x);
    await expectNoLeaks(() => ddimSample({ sde, model, shape: [4, 2], steps: 5, eta: 0.3, seed: 1 }));
    await expectNoLeaks(() => ddpmSample({ sde, model, shape: [4, 2], seed: 1 }));
    const stepper = new DDIMStepper({ sde, steps: 4 });
    const x = tf.ones([2, 2]);
    await expectNoLeaks(() => stepper.step(x, stepper.schedule()[1]!, x));
    x.dispose();
  });
});
