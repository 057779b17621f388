import { VPSDE } from '@sbm/sde';
import {
  createRng,
  expectNoLeaks,
  GaussianMixture,
  inverseSpd,
  type Matrix,
  matMul,
  matVec,
  transpose,
  useCpuBackend,
} from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { implicitScoreMatchingLoss } from './implicit-score-matching.js';
import type { DiffusionModel, ModelFn } from './model.js';
import { slicedScoreMatchingLoss } from './sliced-score-matching.js';
import { expectWithinStdErr, meanAndStdErr, monteCarlo, tinyMlp } from './test-helpers.js';

beforeAll(useCpuBackend);

// Data N(μ, Σ) in D = 3 and the linear score model s(x) = A x + b (Jacobian A, not symmetric).
const MU = [0.5, -1, 0.25];
const SIGMA: Matrix = [
  [1, 0.3, -0.2],
  [0.3, 0.5, 0.1],
  [-0.2, 0.1, 2],
];
const A: Matrix = [
  [-0.8, 0.4, 0.1],
  [-0.2, -1.5, 0.3],
  [0.5, 0, -0.4],
];
const B_VEC = [0.3, -0.6, 0.2];
const D = 3;
const gaussian = new GaussianMixture({ weights: [1], means: [MU], covs: [SIGMA] });
const data = (k: number) => gaussian.sampleTensor(1000, createRng(500 + k));

const trace = (M: Matrix) => M.reduce((acc, row, i) => acc + row[i]!, 0);
const sqNorm = (v: number[]) => v.reduce((acc, x) => acc + x * x, 0);
const add = (u: number[], v: number[]) => u.map((x, i) => x + v[i]!);

/** E[½ ‖M x + c‖²] for x ~ N(μ, Σ): ½ (tr(M Σ Mᵀ) + ‖M μ + c‖²). */
const halfMeanSquare = (M: Matrix, c: number[]) =>
  0.5 * (trace(matMul(matMul(M, SIGMA), transpose(M))) + sqNorm(add(matVec(M, MU), c)));
/** Implicit SM objective E[tr ∇s + ½ ‖s‖²] = tr A + ½ E‖A x + b‖². */
const ISM = trace(A) + halfMeanSquare(A, B_VEC);
/** Explicit SM objective ½ E‖s − ∇log p‖² with ∇log p(x) = −Σ⁻¹(x − μ): ½ E‖(A + Σ⁻¹) x + b − Σ⁻¹μ‖². */
const SIGMA_INV = inverseSpd(SIGMA);
const ESM = halfMeanSquare(
  A.map((row, i) => row.map((a, j) => a + SIGMA_INV[i]![j]!)),
  B_VEC.map((b, i) => b - matVec(SIGMA_INV, MU)[i]!),
);
/** The constant: ½ E‖∇log p‖² = ½ tr(Σ⁻¹). */
const HALF_FISHER = 0.5 * trace(SIGMA_INV);

const linear: ModelFn = (x) =>
  tf.tidy(() => tf.add(tf.matMul(x as tf.Tensor2D, tf.tensor2d(A), false, true), tf.tensor1d(B_VEC)));

describe('score matching objectives agree for s(x) = A x + b on Gaussian data', () => {
  it('the closed forms satisfy ESM = ISM + ½ E‖∇log p‖² (Hyvärinen 2005)', () => {
    expect(ESM).toBeCloseTo(ISM + HALF_FISHER, 12);
  });

  it('exact ISM is tr A + ½ mean ‖A x + b‖² on every batch, and its MC mean is the closed form', () => {
    const x = data(0);
    const xs = x.arraySync() as number[][];
    const direct =
      trace(A) + xs.reduce((acc, r) => acc + 0.5 * sqNorm(add(matVec(A, r), B_VEC)), 0) / xs.length;
    const value = implicitScoreMatchingLoss({ reduction: 'sum' })(linear, x);
    expect(value.dataSync()[0]).toBeCloseTo(direct, 4);
    tf.dispose([x, value]);
    const mc = monteCarlo(implicitScoreMatchingLoss({ reduction: 'sum' }), linear, data, 24);
    expectWithinStdErr(mc, ISM, 4, 'ISM');
  });

  it('explicit SM (MC on the same data, exact ∇log p) equals its closed form and ISM + ½ E‖∇log p‖²', () => {
    const values: number[] = [];
    for (let k = 0; k < 24; k++) {
      const x = data(k);
      const xs = x.arraySync() as number[][];
      x.dispose();
      let total = 0;
      for (const r of xs) {
        const trueScore = matVec(
          SIGMA_INV,
          r.map((v, i) => MU[i]! - v),
        );
        total += 0.5 * sqNorm(add(matVec(A, r), B_VEC).map((s, i) => s - trueScore[i]!));
      }
      values.push(total / xs.length);
    }
    const esm = meanAndStdErr(values);
    expectWithinStdErr(esm, ESM, 4, 'ESM');
    expectWithinStdErr(esm, ISM + HALF_FISHER, 4, 'ESM vs ISM + const');
  });

  it.each([
    ['ssm', 'gaussian'],
    ['ssm', 'rademacher'],
    ['ssm-vr', 'gaussian'],
    ['ssm-vr', 'rademacher'],
  ] as const)('sliced SM (%s, %s projections) has the ISM closed form as its mean', (variant, projection) => {
    const loss = slicedScoreMatchingLoss({ variant, projection, numProjections: 2, reduction: 'sum' });
    expectWithinStdErr(monteCarlo(loss, linear, data, 24), ISM, 4, `SSM ${variant} ${projection}`);
  });

  it("'mean' reduction divides by D", () => {
    const x = data(1);
    const sum = implicitScoreMatchingLoss({ reduction: 'sum' })(linear, x);
    const mean = implicitScoreMatchingLoss()(linear, x);
    expect(mean.dataSync()[0]).toBeCloseTo(sum.dataSync()[0]! / D, 5);
    const s1 = slicedScoreMatchingLoss({ reduction: 'sum' })(linear, x, 3);
    const m1 = slicedScoreMatchingLoss()(linear, x, 3);
    expect(m1.dataSync()[0]).toBeCloseTo(s1.dataSync()[0]! / D, 5);
    tf.dispose([x, sum, mean, s1, m1]);
  });
});

describe('score matching on a nonlinear model', () => {
  const mlp = tinyMlp(D, 8, (t) => tf.reshape(t, [-1, 1]) as tf.Tensor2D, 1, 21);
  const model: ModelFn = (x, t) => mlp.predict(x, t);

  it('exact ISM equals tr ∇s + ½‖s‖² with the trace from first-order autodiff (tf.grad per output)', () => {
    const x = tf.tidy(() => tf.slice(data(2), [0, 0], [16, D]));
    const t = tf.zeros([16]) as tf.Tensor1D;
    const expected = tf.tidy(() => {
      let trace: tf.Tensor = tf.scalar(0);
      for (let j = 0; j < D; j++) {
        const mask = tf.oneHot(tf.fill([16], j, 'int32') as tf.Tensor1D, D);
        const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(mask, model(xx, t))))(x);
        trace = tf.add(trace, tf.sum(tf.mul(mask, g)));
      }
      const s = model(x, t);
      return tf.div(tf.add(trace, tf.mul(0.5, tf.sum(tf.square(s)))), 16).dataSync()[0]!;
    });
    const value = implicitScoreMatchingLoss({ reduction: 'sum' })(model, x);
    if (process.env['LOSSES_FIGURES'])
      console.log(`FIG ISM trace: loss ${value.dataSync()[0]}, autodiff ${expected}`);
    // The loss differentiates by fourth-order central differences (h = 1e-2): O(h⁴) + float32 rounding / h.
    expect(Math.abs(value.dataSync()[0]! - expected)).toBeLessThan(2e-5);
    tf.dispose([x, t, value]);
  });

  it('sliced SM with many projections converges to exact ISM on the same batch', () => {
    const x = tf.tidy(() => tf.slice(data(3), [0, 0], [8, D]));
    const ism = implicitScoreMatchingLoss({ reduction: 'sum' })(model, x).dataSync()[0]!;
    // 1000 projections per example; each value is itself an average, so its spread over seeds gives the SE.
    const loss = slicedScoreMatchingLoss({
      variant: 'ssm',
      projection: 'rademacher',
      numProjections: 1000,
      reduction: 'sum',
    });
    const mc = monteCarlo(loss, model, () => tf.clone(x), 4, 40);
    expectWithinStdErr(mc, ism, 4, 'SSM vs ISM (MLP)');
    expect(mc.stdErr).toBeLessThan(0.05 * Math.abs(ism) + 0.01);
    x.dispose();
  });
});

describe('score matching for other parameterizations, input checks, memory', () => {
  const sde = new VPSDE();
  const t = 0.4;
  const sigma = sde.sigma(t);
  const alpha = sde.alpha(t);
  // The linear score model written as an ε-predictor (ε = −σ s) and an x̂0-predictor ((x + σ² s)/α) at time t.
  const asEps: DiffusionModel = {
    parameterization: 'eps',
    predict: (x, tt) => tf.tidy(() => tf.mul(-sigma, linear(x, tt))),
  };
  const asX0: DiffusionModel = {
    parameterization: 'x0',
    predict: (x, tt) => tf.tidy(() => tf.div(tf.add(x, tf.mul(sigma * sigma, linear(x, tt))), alpha)),
  };

  it('gives the same ISM and SSM for the same score predicted as ε or x̂0 (converted with the SDE at t)', () => {
    const x = data(4);
    for (const loss of [
      implicitScoreMatchingLoss({ sde, t }),
      slicedScoreMatchingLoss({ sde, t, variant: 'ssm' }),
      slicedScoreMatchingLoss({ sde, t, projection: 'rademacher' }),
    ]) {
      const ref = loss(linear, x, 9).dataSync()[0]!;
      expect(loss(asEps, x, 9).dataSync()[0]).toBeCloseTo(ref, 4);
      expect(loss(asX0, x, 9).dataSync()[0]).toBeCloseTo(ref, 3);
    }
    x.dispose();
  });

  it('rejects bad options and a non-score model without an SDE', () => {
    const x = data(5);
    expect(() => implicitScoreMatchingLoss()(asEps, x)).toThrow(
      /^options\.sde: is needed to turn a 'eps' prediction/,
    );
    expect(() => slicedScoreMatchingLoss({ numProjections: 0 })).toThrow(
      /^options\.numProjections: expected an integer >= 1/,
    );
    expect(() => slicedScoreMatchingLoss({ variant: 'dsm' as 'ssm' })).toThrow(
      /^options\.variant: expected one of ssm, ssm-vr/,
    );
    expect(() => slicedScoreMatchingLoss({ projection: 'sphere' as 'gaussian' })).toThrow(
      /^options\.projection: /,
    );
    expect(() => implicitScoreMatchingLoss({ sde, t: 2 })).toThrow(
      /^options\.t: expected a number in \[0, 1\]/,
    );
    expect(() => implicitScoreMatchingLoss()((v) => tf.zeros([v.shape[0]!, 1]), x)).toThrow(
      /^model: expected an output/,
    );
    x.dispose();
  });

  it('leaks no tensors (with labels and label dropout too)', async () => {
    const x = tf.randomNormal([5, D]);
    const labels = tf.tensor1d([0, 1, 0, 1, 1], 'int32');
    const labelled: ModelFn = (v, tt, l) =>
      tf.tidy(() => tf.add(linear(v, tt), tf.reshape(tf.cast(l!, 'float32'), [-1, 1])));
    const dropout = { prob: 0.5, nullLabel: 2 };
    await expectNoLeaks(() =>
      implicitScoreMatchingLoss({ sde, t, labelDropout: dropout })(asX0, { x, labels }, 1),
    );
    await expectNoLeaks(() => implicitScoreMatchingLoss()(labelled, { x, labels }));
    await expectNoLeaks(() =>
      slicedScoreMatchingLoss({ numProjections: 3, labelDropout: dropout })(labelled, { x, labels }, 2),
    );
    await expectNoLeaks(() => slicedScoreMatchingLoss({ variant: 'ssm', sde, t })(asEps, x));
    tf.dispose([x, labels]);
  });
});
