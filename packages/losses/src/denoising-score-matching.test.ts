import { convertPrediction, type Parameterization, type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, GaussianMixture, type LinearSdeSpec, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { denoisingScoreMatchingLoss } from './denoising-score-matching.js';
import type { DiffusionModel, ModelFn } from './model.js';
import {
  diagonalGaussianSample,
  expectWithinStdErr,
  integrateLogTime,
  irreducibleEpsError,
  monteCarlo,
} from './test-helpers.js';

beforeAll(useCpuBackend);

// Data: x_0 ~ N(μ, diag(s²)) in D = 3, so p_t = N(α μ, diag(α² s² + σ²)) has an exact score.
const MEAN = [1, -0.5, 0.25];
const STD = [0.5, 1, 2];
const D = MEAN.length;
const gaussian = new GaussianMixture({
  weights: [1],
  means: [MEAN],
  covs: [STD.map((s, i) => STD.map((_, j) => (i === j ? s * s : 0)))],
});

const cases: [string, SDE, LinearSdeSpec][] = [
  ['VP', new VPSDE(), { kind: 'vp', betaMin: 0.1, betaMax: 20 }],
  ['sub-VP', new SubVPSDE(), { kind: 'subvp', betaMin: 0.1, betaMax: 20 }],
  ['VE', new VESDE({ sigmaMin: 0.01, sigmaMax: 50 }), { kind: 've', sigmaMin: 0.01, sigmaMax: 50 }],
];

/**
 * Closed form of the DSM loss at the exact score, reduction 'mean':
 * with x_0 − μ = s u and x_t = α x_0 + σ ε, the exact score is s*(x_t) = −(x_t − α μ)/v, v = α² s² + σ², so
 *   σ s* + ε = (α s / v) (−σ u + α s ε)  and  E‖σ s* + ε‖² = (α² s²/v²)(σ² + α² s²) = α² s²/v per dimension.
 * The loss with weighting λ is E_t[(λ(t)/σ(t)²) · (1/D) Σ_j α² s_j²/v_j], t ~ U(tMin, T):
 * λ = σ² gives the first, λ = g² the second expression below (integrated in ln t in float64).
 */
function exactLoss(sde: SDE, tMin: number, weighting: 'sigma2' | 'likelihood'): number {
  const integrand = (t: number) => {
    const a = sde.alpha(t);
    const s = sde.sigma(t);
    const w = weighting === 'sigma2' ? 1 : sde.diffusionCoefficient(t) ** 2 / (s * s);
    return (w * STD.reduce((acc, sd) => acc + irreducibleEpsError(a, s, sd), 0)) / D;
  };
  return integrateLogTime(integrand, tMin, sde.T) / (sde.T - tMin);
}

describe.each(cases)('denoisingScoreMatchingLoss (%s) at the exact score', (name, sde, spec) => {
  const exactScore: ModelFn = gaussian.scoreFn(spec);
  // 24 independent batches of 1000 (fresh x_0, t, ε each); MC tolerance: 4 standard errors.
  const x0 = (k: number) => diagonalGaussianSample(1000, MEAN, STD, 1000 + k);
  it('σ²-weighted loss equals the closed form (t ~ U(1e-5, 1))', () => {
    const loss = denoisingScoreMatchingLoss({ sde });
    const mc = monteCarlo(loss, exactScore, x0, 24);
    const exact = exactLoss(sde, 1e-5, 'sigma2');
    expectWithinStdErr(mc, exact, 4, `${name} σ²`);
    expect(mc.stdErr / exact).toBeLessThan(0.05); // the test has power
  });

  it('likelihood-weighted loss equals the closed form, with uniform t and with importance sampling', () => {
    const tMin = 1e-3; // uniform t has a 1/t-heavy integrand; keep its variance finite-looking
    const exact = exactLoss(sde, tMin, 'likelihood');
    const uniform = monteCarlo(
      denoisingScoreMatchingLoss({ sde, tMin, weighting: 'likelihood' }),
      exactScore,
      x0,
      24,
    );
    expectWithinStdErr(uniform, exact, 4, `${name} g² uniform`);
    const loss = denoisingScoreMatchingLoss({ sde, tMin, weighting: 'likelihood', importanceSampling: true });
    const is = monteCarlo(loss, exactScore, x0, 24, 100);
    expectWithinStdErr(is, exact, 4, `${name} g² importance-sampled`);
    // With tMin = 1e-5 as in training only importance sampling is usable.
    const exactSmall = exactLoss(sde, 1e-5, 'likelihood');
    const lossSmall = denoisingScoreMatchingLoss({ sde, weighting: 'likelihood', importanceSampling: true });
    expectWithinStdErr(monteCarlo(lossSmall, exactScore, x0, 24, 200), exactSmall, 4, `${name} g² IS 1e-5`);
  });
});

describe('denoisingScoreMatchingLoss for every parameterization', () => {
  const sde = new VPSDE();
  const spec: LinearSdeSpec = { kind: 'vp', betaMin: 0.1, betaMax: 20 };
  const exactScore = gaussian.scoreFn(spec);
  const as = (to: Parameterization): DiffusionModel => ({
    parameterization: to,
    predict: (x, t) =>
      tf.tidy(() => convertPrediction({ sde, x, t, value: exactScore(x, t), from: 'score', to })),
  });

  it('gives the same value for the same function predicted as score, ε, x̂0 or v', () => {
    const x0 = diagonalGaussianSample(256, MEAN, STD, 5);
    for (const weighting of ['sigma2', 'likelihood'] as const) {
      const loss = denoisingScoreMatchingLoss({ sde, weighting, tMin: 1e-3 });
      const reference = loss(exactScore, x0, 7);
      for (const p of ['eps', 'x0', 'v', 'score'] as const) {
        const value = loss(as(p), x0, 7);
        expect(value.dataSync()[0]).toBeCloseTo(reference.dataSync()[0]!, 3);
        value.dispose();
      }
      reference.dispose();
    }
    x0.dispose();
  });

  it("'sum' is D times 'mean', the same seed gives the same value and another seed another", () => {
    const x0 = diagonalGaussianSample(64, MEAN, STD, 6);
    const mean = denoisingScoreMatchingLoss({ sde })(exactScore, x0, 3).dataSync()[0]!;
    const sum = denoisingScoreMatchingLoss({ sde, reduction: 'sum' })(exactScore, x0, 3).dataSync()[0]!;
    expect(sum).toBeCloseTo(D * mean, 4);
    const again = denoisingScoreMatchingLoss({ sde })(exactScore, x0, 3).dataSync()[0]!;
    const other = denoisingScoreMatchingLoss({ sde })(exactScore, x0, 4).dataSync()[0]!;
    expect(again).toBe(mean);
    expect(other).not.toBe(mean);
    x0.dispose();
  });

  it('passes the sampled times to the model, uniformly in [tMin, T]', () => {
    const seen: number[] = [];
    const spy: ModelFn = (x, t) => {
      seen.push(...t.dataSync());
      return tf.zerosLike(x);
    };
    const x0 = tf.zeros([2000, 2]);
    denoisingScoreMatchingLoss({ sde, tMin: 0.2 })(spy, x0, 1).dispose();
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(0.2);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1);
    const mean = seen.reduce((a, b) => a + b, 0) / seen.length;
    expect(Math.abs(mean - 0.6)).toBeLessThan(4 * (0.8 / Math.sqrt(12 * 2000))); // 4 SE of U(0.2, 1)
    x0.dispose();
  });
});

describe('denoisingScoreMatchingLoss input checks and memory', () => {
  const sde = new VPSDE();
  const zero: ModelFn = (x) => tf.zerosLike(x);

  it('rejects tMin outside (0, T), an unknown weighting or reduction, misplaced importance sampling', () => {
    for (const tMin of [0, -1, 1, 1.5, Number.NaN]) {
      expect(() => denoisingScoreMatchingLoss({ sde, tMin })).toThrow(
        /^options\.tMin: expected a number in \(0, T = 1\)/,
      );
    }
    expect(() => denoisingScoreMatchingLoss({ sde, weighting: 'uniform' as 'sigma2' })).toThrow(
      /^options\.weighting: expected one of sigma2, likelihood, got 'uniform'/,
    );
    expect(() => denoisingScoreMatchingLoss({ sde, reduction: 'max' as 'sum' })).toThrow(
      /^options\.reduction: /,
    );
    expect(() => denoisingScoreMatchingLoss({ sde, importanceSampling: true })).toThrow(
      /^options\.importanceSampling: .*likelihood/,
    );
    expect(() => denoisingScoreMatchingLoss({ sde: {} as SDE })).toThrow(/^options\.sde: /);
  });

  it('rejects wrong batch, label and model output shapes, and unknown parameterizations', () => {
    const loss = denoisingScoreMatchingLoss({ sde, labelDropout: { prob: 0.1, nullLabel: 10 } });
    const x = tf.zeros([4, 2]);
    const labels = tf.tensor1d([1, 2, 3, 4], 'int32');
    expect(() => loss(zero, { x: tf.zeros([4]) }, 1)).toThrow(
      /^batch\.x: expected a non-empty float32 tensor/,
    );
    expect(() => loss(zero, { x, labels: tf.tensor1d([1, 2], 'int32') }, 1)).toThrow(
      /^batch\.labels: expected a \[4\]/,
    );
    expect(() => loss(zero, x, 1)).toThrow(/^batch\.labels: expected class labels/);
    expect(() => loss((v) => tf.zeros([v.shape[0]!, 3]), { x, labels }, 1)).toThrow(
      /^model: expected an output of the shape of its input x \[4,2\], got a float32 tensor of shape \[4,3\]/,
    );
    expect(() => loss({ predict: zero, parameterization: 'noise' as 'eps' }, { x, labels }, 1)).toThrow(
      /^model\.parameterization: expected one of score, eps, x0, v/,
    );
    expect(() => loss(zero, { x, labels }, Number.NaN)).toThrow(/^seed: /);
    expect(() => denoisingScoreMatchingLoss({ sde, labelDropout: { prob: 2, nullLabel: 0 } })).toThrow(
      /^options\.labelDropout\.prob: expected a number in \[0, 1\]/,
    );
    tf.dispose([x, labels]);
  });

  it('leaks no tensors, for every weighting and parameterization', async () => {
    const x = tf.randomNormal([8, 2, 2]);
    const labels = tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32');
    const model: DiffusionModel = { predict: (v) => tf.mul(v, 0.5), parameterization: 'v' };
    for (const options of [
      { sde },
      { sde, weighting: 'likelihood' as const },
      {
        sde,
        weighting: 'likelihood' as const,
        importanceSampling: true,
        labelDropout: { prob: 0.5, nullLabel: 9 },
      },
    ]) {
      const loss = denoisingScoreMatchingLoss(options);
      await expectNoLeaks(() => loss(model, { x, labels }, 1));
      await expectNoLeaks(() => loss(zero, { x, labels }));
    }
    tf.dispose([x, labels]);
  });
});
