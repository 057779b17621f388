import { cosineBetas, discreteSchedule, geometricSigmas, linearBetas } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddpmLoss, smldLoss } from './discrete-losses.js';
import type { DiffusionModel, ModelFn } from './model.js';
import {
  diagonalGaussianSample,
  expectWithinStdErr,
  irreducibleEpsError,
  monteCarlo,
} from './test-helpers.js';

beforeAll(useCpuBackend);

// Data x_0 ~ N(μ, diag(s²)), D = 2.
const MEAN = [0.5, -1];
const STD = [0.3, 1.5];
const data = (k: number) => diagonalGaussianSample(1000, MEAN, STD, 300 + k);

/**
 * The exact prediction at level i for x_i = α_i x_0 + σ_i ε, written from the Gaussian directly:
 * E[ε | x_i] = σ_i (x_i − α_i μ)/(α_i² s² + σ_i²) per dimension (so the score is −E[ε | x_i]/σ_i).
 * The model reads the level index from its time input.
 */
function exactEps(alphas: readonly number[], sigmas: readonly number[]): DiffusionModel {
  const predict: ModelFn = (x, t) => {
    const idx = t.dataSync();
    const xs = x.dataSync();
    const out = new Float32Array(xs.length);
    for (let b = 0; b < idx.length; b++) {
      const i = idx[b]!;
      expect(Number.isInteger(i)).toBe(true);
      const a = alphas[i]!;
      const s = sigmas[i]!;
      for (let j = 0; j < MEAN.length; j++) {
        const v = a * a * STD[j]! ** 2 + s * s;
        out[b * MEAN.length + j] = (s * (xs[b * MEAN.length + j]! - a * MEAN[j]!)) / v;
      }
    }
    return tf.tensor(out, x.shape);
  };
  return { predict, parameterization: 'eps' };
}

/** `(1/n) Σ_i (1/D) Σ_j α_i² s_j² / (α_i² s_j² + σ_i²)`: E‖ε̂* − ε‖²/D at the exact prediction (see DSM tests). */
function exactLoss(alphas: readonly number[], sigmas: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < alphas.length; i++) {
    for (const s of STD) total += irreducibleEpsError(alphas[i]!, sigmas[i]!, s) / STD.length;
  }
  return total / alphas.length;
}

describe('ddpmLoss', () => {
  it.each([
    ['linear', discreteSchedule(linearBetas(1000))],
    ['cosine', discreteSchedule(cosineBetas(200))],
  ])(
    'at the exact ε prediction equals the closed form (%s betas; 24 batches of 1000, 4 SE)',
    (name, schedule) => {
      const alphas = schedule.alphaBars.map(Math.sqrt);
      const sigmas = schedule.alphaBars.map((a) => Math.sqrt(1 - a));
      const mc = monteCarlo(ddpmLoss({ schedule }), exactEps(alphas, sigmas), data, 24);
      expectWithinStdErr(mc, exactLoss(alphas, sigmas), 4, `DDPM ${name}`);
    },
  );

  it('defaults to the linear schedule of Ho et al. (1000 steps, indices 0..999)', () => {
    const seen = new Set<number>();
    const spy: ModelFn = (x, t) => {
      for (const i of t.dataSync()) seen.add(i);
      return tf.zerosLike(x);
    };
    const x = tf.zeros([5000, 1]);
    ddpmLoss()(spy, x, 1).dispose();
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBe(999);
    expect(seen.size).toBeGreaterThan(990);
    x.dispose();
  });

  it('leaks no tensors and rejects a bad schedule', async () => {
    const x = tf.randomNormal([4, 3]);
    const loss = ddpmLoss({ reduction: 'sum' });
    await expectNoLeaks(() => loss({ predict: (v) => tf.neg(v), parameterization: 'x0' }, x, 2));
    expect(() => ddpmLoss({ schedule: [] as never })).toThrow(
      /^options\.schedule: expected a DiscreteSchedule/,
    );
    x.dispose();
  });
});

describe('smldLoss', () => {
  const sigmas = geometricSigmas(10, 0.01, 5).reverse(); // NCSN order: largest first

  it('at the exact score equals the closed form (10 geometric levels; 24 batches of 1000, 4 SE)', () => {
    const ones = sigmas.map(() => 1);
    const eps = exactEps(ones, sigmas);
    const score: DiffusionModel = {
      parameterization: 'score',
      predict: (x, t) =>
        tf.tidy(() => {
          const s = t.dataSync();
          const e = eps.predict(x, t);
          return tf.div(
            tf.neg(e),
            tf.tensor2d(
              Array.from(s, (i) => sigmas[i]!),
              [s.length, 1],
            ),
          );
        }),
    };
    const mc = monteCarlo(smldLoss({ sigmas }), score, data, 24);
    expectWithinStdErr(mc, exactLoss(ones, sigmas), 4, 'SMLD');
  });

  it('rejects bad noise levels and leaks no tensors', async () => {
    expect(() => smldLoss({ sigmas: [] })).toThrow(/^options\.sigmas: expected a non-empty array/);
    expect(() => smldLoss({ sigmas: [1, 0] })).toThrow(/^options\.sigmas: .* at index 1/);
    const x = tf.randomNormal([4, 3]);
    await expectNoLeaks(() => smldLoss({ sigmas })((v) => tf.neg(v), x, 2));
    x.dispose();
  });
});
