import { VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cases, exactScore, expectMixture } from './oracle.test-support.js';
import { pcSample } from './pc-sampler.js';
import { SbmSamplingError } from './sampling-error.js';

beforeAll(useCpuBackend);

describe.each(cases)(
  'predictor–corrector on the $name mixture oracle (N = 1000 levels)',
  ({ name, sde, spec }) => {
    it('default: reverse diffusion + Langevin (snr 0.16) reproduces the mixture', async () => {
      const { samples, nfe } = await pcSample({ sde, model: exactScore(spec), shape: [1000, 2], seed: 1 });
      expect(nfe).toBe(2000);
      expectMixture(samples, `${name} PC reverse diffusion + Langevin`);
      samples.dispose();
    });

    it('Euler–Maruyama, no corrector, reproduces the mixture', async () => {
      const { samples, nfe } = await pcSample({
        sde,
        model: exactScore(spec),
        shape: [1000, 2],
        seed: 2,
        predictor: 'eulerMaruyama',
        corrector: 'none',
      });
      expect(nfe).toBe(1000);
      expectMixture(samples, `${name} PC Euler–Maruyama`);
      samples.dispose();
    });

    it('ancestral sampling, no corrector, reproduces the mixture', async () => {
      const { samples } = await pcSample({
        sde,
        model: exactScore(spec),
        shape: [1000, 2],
        seed: 3,
        predictor: 'ancestral',
        corrector: 'none',
      });
      expectMixture(samples, `${name} PC ancestral`);
      samples.dispose();
    });
  },
);

describe('annealed Langevin dynamics (NCSN) on the VE mixture oracle', () => {
  it('corrector only (predictor none), 1000 levels, reproduces the mixture', async () => {
    const { sde, spec } = cases[2]!;
    const { samples, nfe } = await pcSample({
      sde,
      model: exactScore(spec),
      shape: [1000, 2],
      seed: 4,
      predictor: 'none',
      corrector: 'annealedLangevin',
    });
    expect(nfe).toBe(1000);
    expectMixture(samples, 'VE annealed Langevin');
    samples.dispose();
  });
});

describe('reverse-diffusion predictor', () => {
  // Song et al.'s reverse diffusion on the discretization grid t_i = i/(N−1): x ← x − f_rev + G z. On the
  // VE grid the general exact-transition form is identical; for VP, score_sde's β_i = β(t_i)/N differs
  // from the exact 1 − α(t_i)²/α(t_{i−1})² by O(β/N²), i.e. ~1e-4 relative at N = 1000.
  it.each([
    ['VP', new VPSDE({ N: 1000 }), 1e-3],
    ['VE', new VESDE({ N: 50 }), 1e-5],
  ] as const)(
    '%s: one step on the SDE’s own grid equals sde.reverse(score).discretize (Eq. 46–47)',
    async (_, sde, atol) => {
      const score = (x: tf.Tensor) => tf.mul(x, -0.7);
      const x = tf.tensor2d([
        [0.4, -1],
        [2, 0.1],
      ]);
      const N = sde.N;
      const t = (N - 1) / (N - 1);
      const s = (N - 2) / (N - 1); // the next level of the grid
      const { samples } = await pcSample({
        sde,
        model: score,
        xT: x,
        steps: 1,
        tMin: s,
        corrector: 'none',
        denoise: true, // no noise on the last (only) step
      });
      const { f, G } = sde.reverse(score).discretize(x, t);
      const expected = tf.sub(x, f);
      expectTensorsClose(samples, expected, { rtol: 1e-4, atol });
      tf.dispose([x, samples, f, G, expected]);
    },
  );
});

describe('pcSample bookkeeping', () => {
  const { sde, spec } = cases[0]!;

  it('a 1000-step run keeps tf.memory().numTensors constant from step to step', async () => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const { samples } = await pcSample({
      sde,
      model: (x: tf.Tensor) => tf.neg(x),
      shape: [8, 2],
      seed: 1,
      predictor: 'eulerMaruyama',
      onStep: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    expect(counts).toHaveLength(1000);
    expect(new Set(counts).size).toBe(1); // the same number of live tensors after every step
    samples.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("Langevin with per-sample norms ('sample') makes each sample independent of the batch", async () => {
    const run = async (B: number) => {
      const { samples } = await pcSample({
        sde,
        model: exactScore(spec),
        shape: [B, 2],
        seed: 9,
        steps: 40,
        langevinNorm: 'sample',
      });
      const out = samples.arraySync() as number[][];
      samples.dispose();
      return out;
    };
    const small = await run(3);
    const large = await run(7);
    expectTensorsClose(small.flat(), large.slice(0, 3).flat(), { rtol: 1e-6, atol: 1e-6 });
  });

  it('stops with an error naming the step and t when NaN appears', async () => {
    let calls = 0;
    const model = (x: tf.Tensor) => (++calls === 5 ? tf.fill(x.shape, Number.NaN) : tf.neg(x));
    const before = tf.memory().numTensors;
    const error = await pcSample({ sde, model, shape: [4, 2], steps: 10, corrector: 'none', seed: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SbmSamplingError);
    expect((error as SbmSamplingError).step).toBe(4);
    expect((error as Error).message).toMatch(
      /^pcSample: the state contains NaN or Infinity after step 4 of 10 \(t = 0\.5005\)/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options with errors naming them', async () => {
    const model = exactScore(spec);
    await expect(pcSample({ sde, model, shape: [2, 2], steps: 0 })).rejects.toThrow(
      /^options\.steps: expected an integer >= 1, got 0/,
    );
    await expect(pcSample({ sde, model, shape: [2, 2], steps: -3 })).rejects.toThrow(/^options\.steps: /);
    await expect(pcSample({ sde, model, shape: [2, 2], tMin: 1.5 })).rejects.toThrow(
      /^options\.tMin: expected a time in \[0, T = 1\)/,
    );
    await expect(pcSample({ sde, model, shape: [2, 2], predictor: 'heun' as never })).rejects.toThrow(
      /^options\.predictor: /,
    );
    await expect(pcSample({ sde, model, shape: [2, 2], corrector: 'x' as never })).rejects.toThrow(
      /^options\.corrector: /,
    );
    await expect(pcSample({ sde, model, shape: [2, 2], snr: 0 })).rejects.toThrow(/^options\.snr: /);
    await expect(pcSample({ sde, model, shape: [0, 2] })).rejects.toThrow(/^options\.shape: /);
    const labels = tf.tensor1d([1, 2, 3], 'int32');
    await expect(pcSample({ sde, model, shape: [2, 2], labels })).rejects.toThrow(
      /^options\.labels: expected one label per sample \(batch 2\)/,
    );
    labels.dispose();
  });

  it('leaks no tensors', async () => {
    const small = new VPSDE({ N: 30 });
    const model = (x: tf.Tensor) => tf.neg(x);
    for (const predictor of ['eulerMaruyama', 'reverseDiffusion', 'ancestral', 'none'] as const) {
      for (const corrector of ['langevin', 'annealedLangevin', 'none'] as const) {
        await expectNoLeaks(() =>
          pcSample({
            sde: small,
            model,
            shape: [3, 2],
            seed: 1,
            steps: 6,
            predictor,
            corrector,
            onStep: () => {},
          }),
        );
      }
    }
  });
});
