import { VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DPMSolverPlusPlusState,
  DPMSolverPlusPlusStepper,
  dpmSolverPlusPlusSample,
} from './dpm-solver-pp.js';
import {
  cases,
  exactScore,
  expectMixture,
  latents,
  meanAbsDiff,
  referenceOde,
} from './oracle.test-support.js';

beforeAll(useCpuBackend);

describe.each(cases)('DPM-Solver++(2M) on the $name mixture oracle', ({ name, sde, spec }) => {
  it('25 steps (25 NFE, the default) reproduces the mixture', async () => {
    const { samples, nfe } = await dpmSolverPlusPlusSample({
      sde,
      model: exactScore(spec),
      shape: [2000, 2],
      seed: 1,
    });
    expect(nfe).toBe(25);
    expectMixture(samples, `${name} DPM-Solver++(2M)`);
    samples.dispose();
  });
});

describe('DPM-Solver++(2M) as an ODE solver (VP, fixed latents)', () => {
  const { sde, spec } = cases[0]!;
  const n = 32;
  const z = latents(n, 1, 31);
  const tMin = 1e-3;
  const reference = referenceOde(spec, z, 1, tMin);

  it('is second order: doubling the steps divides the error by ~4', async () => {
    const error = async (steps: number) => {
      const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
      const { samples } = await dpmSolverPlusPlusSample({
        sde,
        model: exactScore(spec),
        xT,
        steps,
        tMin,
        lowerOrderFinal: false,
      });
      const e = meanAbsDiff(samples.dataSync(), reference);
      tf.dispose([xT, samples]);
      return e;
    };
    const e = [await error(10), await error(20), await error(40)];
    expect(e[0]! / e[1]!).toBeGreaterThan(2.8);
    expect(e[1]! / e[2]!).toBeGreaterThan(2.8);
    expect(e[2]).toBeLessThan(0.01);
  });

  it('the stateless stepper driven by hand equals the sampler, and its state holds one tensor', async () => {
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const { samples } = await dpmSolverPlusPlusSample({ sde, model: exactScore(spec), xT, steps: 12 });
    const stepper = new DPMSolverPlusPlusStepper({ sde, steps: 12, prediction: 'score' });
    const score = exactScore(spec);
    let x: tf.Tensor = tf.clone(xT);
    let state: DPMSolverPlusPlusState | undefined;
    const live: number[] = [];
    for (const info of stepper.schedule()) {
      const tt = tf.fill([n], info.t) as tf.Tensor1D;
      const out = score(x, tt);
      tt.dispose();
      const step = stepper.step(out, info, x, state);
      tf.dispose([out, step.denoised, x]);
      x = step.prevSample;
      state = step.state;
      live.push(tf.memory().numTensors);
    }
    expect(new Set(live.slice(1)).size).toBe(1); // history stays O(1): only the previous x̂_0
    expectTensorsClose(x, samples, { rtol: 1e-5, atol: 1e-5 });
    tf.dispose([x, samples, xT, state!.previousDenoised]);
  });

  it('checks its inputs and leaks no tensors', async () => {
    const small = new VPSDE({ N: 30 });
    const model = (x: tf.Tensor) => tf.neg(x);
    expect(() => new DPMSolverPlusPlusStepper({ sde: small, steps: 0 })).toThrow(/^options\.steps: /);
    expect(() => new DPMSolverPlusPlusStepper({ sde: {} as never })).toThrow(/^options\.sde: /);
    const stepper = new DPMSolverPlusPlusStepper({ sde: small, steps: 3 });
    const x = tf.ones([2, 2]);
    expect(() => stepper.step(x, { index: 0, t: 0.5, tNext: 0.7 }, x)).toThrow(/^info: /);
    x.dispose();
    await expectNoLeaks(() =>
      dpmSolverPlusPlusSample({ sde: small, model, shape: [3, 2], steps: 5, seed: 1, onStep: () => {} }),
    );
  });
});
