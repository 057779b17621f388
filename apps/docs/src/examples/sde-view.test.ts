// Runs the examples of guides/sde-view.md: coefficients against the paper's formulas, and the reverse SDE and
// probability-flow ODE with the exact score of Gaussian data against that data's law.
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianScore } from './scores.js';
import { forwardQuantities, paperSdes, sampleReverseSde, solveProbabilityFlow } from './sde-view.js';

beforeAll(useCpuBackend);

const { vp, subvp, ve } = paperSdes();

/** Song et al. 2021: β(t) = 0.1 + 19.9 t, ∫₀ᵗ β = 0.1 t + 9.95 t² (VP, sub-VP); σ(t) = 0.01 · 5000^t (VE). */
const beta = (t: number) => 0.1 + 19.9 * t;
const betaIntegral = (t: number) => 0.1 * t + 9.95 * t * t;
const veSigma = (t: number) => 0.01 * 5000 ** t;

describe('guides/sde-view examples', () => {
  it('drift, diffusion and marginal of VP (Eq. 11, 29), sub-VP (Eq. 12) and VE (Eq. 9) are the paper formulas', () => {
    const x0 = tf.tensor2d([1, -2, 0.5, 3], [2, 2]);
    const t = 0.3;
    const expected = {
      vp: { f: -0.5 * beta(t), g: Math.sqrt(beta(t)), a: Math.exp(-0.5 * betaIntegral(t)) },
      subvp: {
        f: -0.5 * beta(t),
        g: Math.sqrt(beta(t) * (1 - Math.exp(-2 * betaIntegral(t)))),
        a: Math.exp(-0.5 * betaIntegral(t)),
      },
      ve: { f: 0, g: veSigma(t) * Math.sqrt(2 * Math.log(5000)), a: 1 },
    };
    const stds = {
      vp: Math.sqrt(1 - Math.exp(-betaIntegral(t))),
      subvp: 1 - Math.exp(-betaIntegral(t)),
      ve: veSigma(t),
    };
    for (const [name, sde] of [
      ['vp', vp],
      ['subvp', subvp],
      ['ve', ve],
    ] as const) {
      const q = forwardQuantities(sde, x0, t, 1);
      const e = expected[name];
      const values = [1, -2, 0.5, 3];
      expectTensorsClose(
        q.drift,
        values.map((v) => e.f * v),
        { rtol: 1e-5, message: `${name} drift` },
      );
      expectTensorsClose(q.diffusion, [e.g, e.g], { rtol: 1e-5, message: `${name} diffusion` });
      expectTensorsClose(
        q.mean,
        values.map((v) => e.a * v),
        { rtol: 1e-5, message: `${name} mean` },
      );
      expectTensorsClose(q.std, [stds[name], stds[name]], { rtol: 1e-5, message: `${name} std` });
      tf.dispose(Object.values(q));
    }
    x0.dispose();
  });

  it('the reverse SDE with the exact score turns the prior into the data law N(0, 4) (VP and VE)', () => {
    // 8000 one-dimensional samples, 500 Euler–Maruyama steps. Standard errors: mean 2/√8000 = 0.022, variance
    // 4·√(2/7999) = 0.063; tolerance 4 standard errors plus 0.05 for the discretization.
    for (const sde of [vp, ve]) {
      const x = sampleReverseSde(sde, gaussianScore(sde, 2), [8000, 1], 500, 3);
      const { mean, variance } = tf.moments(x);
      const target = (sde.alpha(1e-3) * 2) ** 2 + sde.sigma(1e-3) ** 2; // the law at tMin = 1e-3
      expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(4 * 0.022 + 0.05);
      expect(Math.abs(variance.dataSync()[0]! - target)).toBeLessThan(4 * 0.063 + 0.05);
      tf.dispose([x, mean, variance]);
    }
  });

  it('the probability-flow ODE maps each latent deterministically to the exact transport of N(0, 1) to N(0, 4)', () => {
    // For Gaussian data the VP flow is linear: x(tMin) = x(T) · √(v(tMin) / v(T)), v(t) = α(t)² · 4 + σ(t)².
    const xT = tf.tensor2d([-2, -0.5, 0.1, 1.3, 2.7], [5, 1]);
    const x = solveProbabilityFlow(vp, gaussianScore(vp, 2), xT, 1000);
    const v = (t: number) => (vp.alpha(t) * 2) ** 2 + vp.sigma(t) ** 2;
    const scale = Math.sqrt(v(1e-3) / v(1));
    expectTensorsClose(
      x,
      [-2, -0.5, 0.1, 1.3, 2.7].map((z) => z * scale),
      { rtol: 5e-3, atol: 1e-3 },
    );
    const again = solveProbabilityFlow(vp, gaussianScore(vp, 2), xT, 1000);
    expectTensorsClose(again, x, { rtol: 0, atol: 0 });
    tf.dispose([xT, x, again]);
  });

  it('leaks no tensors', async () => {
    const x0 = tf.ones([2, 2]);
    await expectNoLeaks(() => forwardQuantities(vp, x0, 0.5, 0));
    await expectNoLeaks(() => sampleReverseSde(vp, gaussianScore(vp, 2), [4, 2], 5, 0));
    await expectNoLeaks(() => solveProbabilityFlow(ve, gaussianScore(ve, 2), x0, 5));
    x0.dispose();
  });
});
