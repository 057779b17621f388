import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { edmDenoiser, edmLoss, edmPreconditioning } from './edm.js';
import type { DiffusionModel, ModelFn } from './model.js';
import {
  diagonalGaussianSample,
  expectWithinStdErr,
  meanAndStdErr,
  monteCarlo,
  simpson,
} from './test-helpers.js';

beforeAll(useCpuBackend);

const MEAN = [0.2, -0.3];

/**
 * The exact denoiser for y ~ N(μ, s² I), x = y + σ n: D*(x; σ) = μ + s²/(s² + σ²) (x − μ); it reads σ from the
 * model's time input.
 */
function exactDenoiser(std: number): DiffusionModel {
  const predict: ModelFn = (x, sigma) =>
    tf.tidy(() => {
      const s2 = tf.square(tf.reshape(sigma, [-1, 1]));
      const shrink = tf.div(std * std, tf.add(std * std, s2));
      const mu = tf.tensor1d(MEAN);
      return tf.add(mu, tf.mul(shrink, tf.sub(x, mu)));
    });
  return { predict, parameterization: 'x0' };
}

/**
 * Closed form: D* − y = (−σ² (y − μ) + s² σ n)/(s² + σ²), so E‖D* − y‖² = σ² s²/(s² + σ²) per dimension and
 * the loss per dimension is λ(σ) σ² s²/(s² + σ²) = s² (σ² + σ_d²) / (σ_d² (σ² + s²)) — exactly 1 when
 * s = σ_d, for every σ. Averaged over ln σ ~ N(P_mean, P_std²) by Simpson's rule on ±12 standard deviations.
 */
function exactEdmLoss(std: number, sigmaData: number, pMean: number, pStd: number): number {
  const s2 = std * std;
  const d2 = sigmaData * sigmaData;
  const f = (z: number) => {
    const sigma2 = Math.exp(2 * (pMean + pStd * z));
    return (Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI)) * ((s2 * (sigma2 + d2)) / (d2 * (sigma2 + s2)));
  };
  return simpson(f, -12, 12);
}

describe('edmPreconditioning', () => {
  it('matches Karras et al. Table 1 at σ = σ_d and in the limits σ → 0, σ → ∞', () => {
    const d = 0.5;
    const c = edmPreconditioning(d, d);
    expect(c.cSkip).toBeCloseTo(0.5, 15);
    expect(c.cOut).toBeCloseTo(d / Math.SQRT2, 15);
    expect(c.cIn).toBeCloseTo(1 / (d * Math.SQRT2), 15);
    expect(c.cNoise).toBeCloseTo(0.25 * Math.log(d), 15);
    expect(c.weight).toBeCloseTo(2 / (d * d), 12);
    const small = edmPreconditioning(1e-6, d);
    expect(small.cSkip).toBeCloseTo(1, 10);
    expect(small.cOut).toBeCloseTo(1e-6, 10);
    const large = edmPreconditioning(1e6, d);
    expect(large.cSkip).toBeCloseTo(0, 10);
    expect(large.cOut).toBeCloseTo(d, 6);
    expect(large.cIn * 1e6).toBeCloseTo(1, 6); // unit-variance network input
  });

  it('rejects non-positive σ or σ_d', () => {
    expect(() => edmPreconditioning(0)).toThrow(/^sigma: expected a number in \(0, Infinity\)/);
    expect(() => edmPreconditioning(1, -1)).toThrow(/^sigmaData: /);
  });
});

describe('edmLoss', () => {
  // 24 batches of 1000; MC tolerance 4 standard errors.
  it('at the exact denoiser equals the closed form (s = σ_d: exactly 1; s ≠ σ_d: quadrature over ln σ)', () => {
    const matched = monteCarlo(
      edmLoss(),
      exactDenoiser(0.5),
      (k) => diagonalGaussianSample(1000, MEAN, [0.5, 0.5], k),
      24,
    );
    expectWithinStdErr(matched, 1, 4, 'EDM s = σ_d');
    const options = { sigmaData: 0.5, pMean: -1.2, pStd: 1.2 };
    const exact = exactEdmLoss(1.5, 0.5, -1.2, 1.2);
    const data = (k: number) => diagonalGaussianSample(1000, MEAN, [1.5, 1.5], 50 + k);
    expectWithinStdErr(monteCarlo(edmLoss(options), exactDenoiser(1.5), data, 24), exact, 4, 'EDM s = 1.5');
    const other = { sigmaData: 1, pMean: 0.5, pStd: 0.6 };
    const exactOther = exactEdmLoss(0.3, 1, 0.5, 0.6);
    const dataOther = (k: number) => diagonalGaussianSample(1000, MEAN, [0.3, 0.3], 90 + k);
    expectWithinStdErr(
      monteCarlo(edmLoss(other), exactDenoiser(0.3), dataOther, 24),
      exactOther,
      4,
      'EDM s = 0.3',
    );
  });

  it('with edmDenoiser around the exact raw network F* = (D* − c_skip x)/c_out gives the same loss', () => {
    const std = 1.5;
    const sigmaData = 0.5;
    const exact = exactDenoiser(std);
    // F*(x_in, c_noise) with σ = e^{4 c_noise}, x = x_in/c_in, from Karras et al. Table 1 written out here.
    const network: ModelFn = (xIn, cNoise) =>
      tf.tidy(() => {
        const sigma = tf.exp(tf.mul(4, cNoise));
        const col = (v: tf.Tensor) => tf.reshape(v, [-1, 1]);
        const norm = tf.sqrt(tf.add(tf.square(sigma), sigmaData ** 2));
        const x = tf.mul(xIn, col(norm));
        const cSkip = col(tf.div(sigmaData ** 2, tf.square(norm)));
        const cOut = col(tf.div(tf.mul(sigma, sigmaData), norm));
        return tf.div(tf.sub(exact.predict(x, sigma as tf.Tensor1D), tf.mul(cSkip, x)), cOut);
      });
    const y = diagonalGaussianSample(500, MEAN, [std, std], 8);
    const loss = edmLoss({ sigmaData });
    const a = loss(exact, y, 3);
    const b = loss(edmDenoiser(network, { sigmaData }), y, 3);
    expectTensorsClose(b, a, { rtol: 1e-4 });
    tf.dispose([y, a, b]);
  });

  it('gives the model ln σ ~ N(P_mean, P_std²) as σ', () => {
    const seen: number[] = [];
    const spy: ModelFn = (x, sigma) => {
      seen.push(...Array.from(sigma.dataSync(), Math.log));
      return tf.zerosLike(x);
    };
    const x = tf.zeros([4000, 1]);
    edmLoss({ pMean: -1, pStd: 0.5 })(spy, x, 4).dispose();
    const { mean, stdErr } = meanAndStdErr(seen);
    expect(Math.abs(mean + 1)).toBeLessThan(4 * stdErr);
    const sd = Math.sqrt(seen.reduce((acc, v) => acc + (v - mean) ** 2, 0) / (seen.length - 1));
    expect(Math.abs(sd - 0.5)).toBeLessThan(4 * 0.5 * Math.sqrt(1 / (2 * seen.length))); // SE of a std
    x.dispose();
  });

  it('leaks no tensors; rejects bad options, network output shapes and σ inputs', async () => {
    const x = tf.randomNormal([6, 2]);
    const net: ModelFn = (v, c) => tf.mul(v, tf.reshape(c, [-1, 1]));
    const model = edmDenoiser(net);
    await expectNoLeaks(() => edmLoss()(model, x, 1));
    const sigma = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    await expectNoLeaks(() => model.predict(x, sigma));
    expect(() => edmLoss({ sigmaData: 0 })).toThrow(/^options\.sigmaData: /);
    expect(() => edmLoss({ pStd: -1 })).toThrow(/^options\.pStd: /);
    expect(() => edmDenoiser('net' as unknown as ModelFn)).toThrow(/^network: /);
    expect(() =>
      edmLoss()(
        edmDenoiser(() => tf.zeros([1])),
        x,
        1,
      ),
    ).toThrow(/^network: expected an output of the shape/);
    expect(() => model.predict(x, tf.ones([3]) as tf.Tensor1D)).toThrow(/^sigma: expected a \[6\] tensor/);
    tf.dispose([x, sigma]);
  });
});
