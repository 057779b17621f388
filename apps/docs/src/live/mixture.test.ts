import { VPSDE } from '@sbm/sde';
import {
  createRng,
  expectNoLeaks,
  GaussianMixture,
  sampleCovariance,
  sampleMean,
  useCpuBackend,
} from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type IsotropicMixture,
  LIVE_MIXTURE,
  mixtureLogDensity,
  mixtureScore,
  sampleMixture,
} from './mixture.js';
import { createLiveRng } from './rng.js';

beforeAll(useCpuBackend);

const VP = { kind: 'vp', betaMin: 0.1, betaMax: 20 } as const;

/** The float64 oracle of @sbm/test-utils for an isotropic mixture. */
function oracle(m: IsotropicMixture): GaussianMixture {
  return GaussianMixture.isotropic(
    [...m.weights],
    m.means.map((mu) => [...mu]),
    [...m.stds],
  );
}

// A 3-D mixture with unequal weights and widths, besides the page's ring.
const UNEVEN: IsotropicMixture = {
  weights: [0.5, 0.3, 0.2],
  means: [
    [1, -0.5, 0.25],
    [-1.5, 0.75, 0],
    [0, 2, -1],
  ],
  stds: [0.1, 0.4, 0.25],
};

describe('mixtureScore', () => {
  for (const [name, mixture] of [
    ['the page mixture (2-D ring)', LIVE_MIXTURE],
    ['an uneven 3-D mixture', UNEVEN],
  ] as const) {
    it(`matches the float64 score of ${name} under the VP SDE at every time`, () => {
      const sde = new VPSDE();
      const reference = oracle(mixture);
      const score = mixtureScore(mixture, sde);
      const exact = reference.scoreFn(VP);
      const rng = createRng(3);
      for (const t of [1e-3, 0.01, 0.1, 0.3, 0.6, 1]) {
        // Points of p_t, and a few far out in the tails (where the responsibilities saturate).
        const marginal = reference.marginalAt(VP, t);
        const { x } = marginal.sample(200, rng);
        const D = reference.dim;
        const far = Float64Array.from({ length: 5 * D }, (_, i) => (i % 2 === 0 ? 8 : -6) + i);
        const all = Float32Array.from([...x, ...far]);
        const B = all.length / D;
        const xs = tf.tensor2d(all, [B, D]);
        const ts = tf.fill([B], t);
        const ours = score(xs, ts).dataSync();
        const want = exact(xs, ts as tf.Tensor1D).dataSync();
        // Float32 arithmetic: each row within 1e-5 of its own norm (plus 1e-5 absolute for rows near a zero score).
        for (let b = 0; b < B; b++) {
          let norm = 0;
          for (let d = 0; d < D; d++) norm += want[b * D + d]! ** 2;
          for (let d = 0; d < D; d++) {
            const i = b * D + d;
            expect(Math.abs(ours[i]! - want[i]!)).toBeLessThanOrEqual(1e-5 * (Math.sqrt(norm) + 1));
          }
        }
        tf.dispose([xs, ts]);
      }
    });
  }

  it('takes one time for the whole batch', () => {
    const score = mixtureScore(LIVE_MIXTURE, new VPSDE());
    const x = tf.tensor2d([0.3, -1, 2, 0.5, -1.5, -1.5], [3, 2]);
    const one = score(x, tf.tensor1d([0.25]));
    const each = score(x, tf.tensor1d([0.25, 0.25, 0.25]));
    expect(Array.from(one.dataSync())).toEqual(Array.from(each.dataSync()));
    tf.dispose([x, one, each]);
  });

  it('leaks no tensors and disposes none of its inputs', async () => {
    const score = mixtureScore(LIVE_MIXTURE, new VPSDE());
    const x = tf.randomNormal([64, 2], 0, 1, 'float32', 1);
    const t = tf.fill([64], 0.4);
    await expectNoLeaks(() => score(x, t));
    expect(x.isDisposed || t.isDisposed).toBe(false);
    tf.dispose([x, t]);
  });

  it('names the argument it refuses', () => {
    const score = mixtureScore(LIVE_MIXTURE, new VPSDE());
    const x = tf.zeros([4, 3]);
    expect(() => score(x, tf.zeros([4]))).toThrow(/^x: expected \[B, 2\]/);
    const y = tf.zeros([4, 2]);
    expect(() => score(y, tf.zeros([3]))).toThrow(/^t: expected 4 times or one/);
    expect(() => mixtureScore({ weights: [0.5, 0.6], means: [[0], [1]], stds: [1, 1] }, new VPSDE())).toThrow(
      /^mixture\.weights:/,
    );
    expect(() => mixtureScore({ weights: [1], means: [[0]], stds: [0] }, new VPSDE())).toThrow(
      /^mixture\.stds:/,
    );
    tf.dispose([x, y]);
  });
});

describe('mixtureLogDensity', () => {
  it('matches the float64 log density of the perturbed mixture', () => {
    for (const mixture of [LIVE_MIXTURE, UNEVEN]) {
      const reference = oracle(mixture);
      for (const [alpha, sigma] of [
        [1, 0],
        [0.9, 0.3],
        [0.05, 0.99],
      ] as const) {
        const { x } = reference.perturbed(alpha, sigma).sample(50, createRng(5));
        const ours = mixtureLogDensity(mixture, alpha, sigma, x);
        const want = reference.perturbed(alpha, sigma).logProb(x);
        for (let i = 0; i < want.length; i++) expect(ours[i]).toBeCloseTo(want[i]!, 10);
      }
    }
  });
});

describe('sampleMixture', () => {
  it('draws the mixture: mean and covariance within 4 standard errors', () => {
    const n = 20000;
    const reference = oracle(UNEVEN);
    const x = sampleMixture(UNEVEN, n, createLiveRng(11));
    const mean = sampleMean(x, n, 3);
    const cov = sampleCovariance(x, n, 3);
    const wantMean = reference.mean();
    const wantCov = reference.covariance();
    for (let a = 0; a < 3; a++) {
      expect(Math.abs(mean[a]! - wantMean[a]!)).toBeLessThan(4 * Math.sqrt(wantCov[a]![a]! / n));
      for (let b = 0; b < 3; b++) {
        // Standard error of a covariance entry: the standard deviation of (x_a − m_a)(x_b − m_b) over √n, estimated
        // from the sample itself.
        let s1 = 0;
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          const p = (x[i * 3 + a]! - mean[a]!) * (x[i * 3 + b]! - mean[b]!);
          s1 += p;
          s2 += p * p;
        }
        const se = Math.sqrt((s2 / n - (s1 / n) ** 2) / n);
        expect(Math.abs(cov[a]![b]! - wantCov[a]![b]!)).toBeLessThan(4 * se);
      }
    }
  });
});
