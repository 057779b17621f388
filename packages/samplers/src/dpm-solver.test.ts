import { timeSteps, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddimSample } from './ddim.js';
import { dpmSolverSample } from './dpm-solver.js';
import {
  cases,
  exactScore,
  expectMixture,
  latents,
  meanAbsDiff,
  referenceDenoise,
  referenceOde,
} from './oracle.test-support.js';

beforeAll(useCpuBackend);

describe.each(cases)('DPM-Solver on the $name mixture oracle', ({ name, sde, spec }) => {
  it.each([
    [1, 50],
    [2, 20],
    [3, 10],
  ] as const)('order %i (%i steps) reproduces the mixture', async (order, steps) => {
    // order 3 at its default 10 steps; the lower orders with the NFE they need
    const { samples, nfe } = await dpmSolverSample({
      sde,
      model: exactScore(spec),
      shape: [2000, 2],
      seed: 1,
      order,
      steps: order === 3 ? undefined : steps,
    });
    expect(nfe).toBe(order * steps);
    expectMixture(samples, `${name} DPM-Solver-${order}`);
    samples.dispose();
  });
});

describe('DPM-Solver convergence against the float64 RK4 solution of the PF-ODE (VP, fixed latents)', () => {
  const { sde, spec } = cases[0]!;
  const n = 32;
  const z = latents(n, 1, 21);
  const tMin = 1e-3;
  const reference = referenceOde(spec, z, 1, tMin);
  const error = async (order: 1 | 2 | 3, steps: number) => {
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const { samples } = await dpmSolverSample({ sde, model: exactScore(spec), xT, order, steps, tMin });
    const e = meanAbsDiff(samples.dataSync(), reference);
    tf.dispose([xT, samples]);
    return e;
  };

  it('the error falls by ~2^order when the steps double, and higher orders are more accurate', async () => {
    const e1 = [await error(1, 16), await error(1, 32)];
    const e2 = [await error(2, 8), await error(2, 16)];
    const e3 = [await error(3, 8), await error(3, 16)];
    expect(e1[0]! / e1[1]!).toBeGreaterThan(1.6);
    expect(e2[0]! / e2[1]!).toBeGreaterThan(3);
    expect(e3[0]! / e3[1]!).toBeGreaterThan(5);
    expect(e3[1]).toBeLessThan(e2[1]!);
    expect(e2[1]).toBeLessThan(e1[1]!);
  });

  it('order 1 is DDIM (η = 0) on the same times', async () => {
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const a = await dpmSolverSample({ sde, model: exactScore(spec), xT, order: 1, steps: 10, tMin });
    const times = (await import('@sbm/sde')).timeSteps(10, { tMin, spacing: 'logSNR', sde });
    // DDIM over the same 11 times, stopping at tMin: its last step (to clean data) is replaced by reading the
    // state at tMin through onStep.
    let atMin: Float32Array | undefined;
    const b = await ddimSample({
      sde,
      model: exactScore(spec),
      xT,
      timesteps: times,
      onStep: ({ index, x }) => {
        if (index === 9) atMin = x.dataSync() as Float32Array;
      },
    });
    expect(meanAbsDiff(a.samples.dataSync(), atMin!)).toBeLessThan(1e-4);
    tf.dispose([xT, a.samples, b.samples]);
  });
});

describe('dpmSolverSample time grids (VP, fixed latents, float64 RK4 reference)', () => {
  const { sde, spec } = cases[0]!;
  const n = 32;
  const z = latents(n, 1, 23);
  const tMin = 1e-3;
  const reference = referenceOde(spec, z, 1, tMin);
  const run = async (options: Record<string, unknown>) => {
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const out = await dpmSolverSample({ sde, model: exactScore(spec), xT, tMin, ...options });
    const v = Float64Array.from(out.samples.dataSync());
    tf.dispose([xT, out.samples]);
    return { v, nfe: out.nfe };
  };

  it("'karras' spacing: order 3 converges at third order, and explicit timesteps are used as given", async () => {
    const e8 = meanAbsDiff((await run({ order: 3, steps: 8, spacing: 'karras' })).v, reference);
    const e16 = meanAbsDiff((await run({ order: 3, steps: 16, spacing: 'karras' })).v, reference);
    // measured 0.038 → 0.0038 (ratio 10 ≥ 2³)
    expect(e8 / e16).toBeGreaterThan(6);
    expect(e16).toBeLessThan(0.01);
    // the same Karras grid (ρ = 3) given as explicit times equals the spacing option
    const times = timeSteps(6, { tMin, spacing: 'karras', rho: 3, sde });
    const a = await run({ order: 2, steps: 6, spacing: 'karras', rho: 3 });
    const b = await run({ order: 2, timesteps: times, steps: 99, spacing: 'uniform' });
    expect(meanAbsDiff(a.v, b.v)).toBe(0);
    expect(b.nfe).toBe(12);
  });

  it.each([1, 2, 3] as const)(
    "finalStep 'clean' (order %i): the last step returns x̂_0 of the state at tMin (Tweedie), one evaluation",
    async (order) => {
      // 'clean' with 6 steps evaluates the 6 times of the 5-step 'tMin' grid, then steps to σ = 0
      const a = await run({ order, steps: 5 });
      const b = await run({ order, steps: 6, finalStep: 'clean' });
      expect(b.nfe).toBe(order * 5 + 1);
      expectTensorsClose(b.v, referenceDenoise(spec, a.v, tMin), { rtol: 1e-4, atol: 1e-4 });
    },
  );
});

describe('dpmSolverSample bookkeeping', () => {
  it('checks its options and leaks no tensors', async () => {
    const sde = new VPSDE({ N: 30 });
    const model = (x: tf.Tensor) => tf.neg(x);
    await expect(dpmSolverSample({ sde, model, shape: [2, 2], order: 4 as never })).rejects.toThrow(
      /^options\.order: /,
    );
    await expect(dpmSolverSample({ sde, model, shape: [2, 2], steps: 0 })).rejects.toThrow(
      /^options\.steps: /,
    );
    await expect(dpmSolverSample({ sde, model, shape: [2, 2], timesteps: [1] })).rejects.toThrow(
      /^options\.timesteps: /,
    );
    await expect(dpmSolverSample({ sde, model, shape: [2, 2], finalStep: 'zero' as never })).rejects.toThrow(
      /^options\.finalStep: /,
    );
    await expect(dpmSolverSample({ sde, model, shape: [2, 2], spacing: 'karras', rho: -1 })).rejects.toThrow(
      /^options\.rho: /,
    );
    for (const order of [1, 2, 3] as const) {
      for (const finalStep of ['tMin', 'clean'] as const) {
        await expectNoLeaks(() =>
          dpmSolverSample({
            sde,
            model,
            shape: [3, 2],
            steps: 3,
            order,
            finalStep,
            seed: 1,
            onStep: () => {},
          }),
        );
      }
    }
  });
});
