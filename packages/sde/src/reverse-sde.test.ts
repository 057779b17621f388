import {
  createRng,
  expectNoLeaks,
  expectTensorsClose,
  GaussianMixture,
  type LinearSdeSpec,
  linearSdeCoefficients,
  sampleCovariance,
  sampleMean,
  useCpuBackend,
} from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SDE } from './sde.js';
import { SubVPSDE } from './subvp-sde.js';
import { VESDE } from './ve-sde.js';
import { VPSDE } from './vp-sde.js';

beforeAll(useCpuBackend);

// A two-component mixture in 2-D with exact scores at every t (see @sbm/test-utils).
const mixture = GaussianMixture.isotropic(
  [0.3, 0.7],
  [
    [-2, 0],
    [1.5, 1],
  ],
  [0.5, 0.3],
);

const cases: { name: string; sde: SDE; spec: LinearSdeSpec; tMin: number }[] = [
  { name: 'VP', sde: new VPSDE(), spec: { kind: 'vp', betaMin: 0.1, betaMax: 20 }, tMin: 1e-3 },
  { name: 'sub-VP', sde: new SubVPSDE(), spec: { kind: 'subvp', betaMin: 0.1, betaMax: 20 }, tMin: 1e-3 },
  { name: 'VE', sde: new VESDE(), spec: { kind: 've', sigmaMin: 0.01, sigmaMax: 50 }, tMin: 1e-5 },
];

/** Fraction of samples nearer to the first component's mean than to the second's. */
function firstComponentFraction(x: Float32Array, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) {
    const d0 = (x[2 * i]! + 2) ** 2 + x[2 * i + 1]! ** 2;
    const d1 = (x[2 * i]! - 1.5) ** 2 + (x[2 * i + 1]! - 1) ** 2;
    if (d0 < d1) count++;
  }
  return count / n;
}

/** Checks samples against the mixture: weight (5 s.e.), mean (0.1), covariance entries (10% of the scale). */
function expectMixture(x: Float32Array, n: number): void {
  const truthMean = mixture.mean();
  const truthCov = mixture.covariance();
  const w = firstComponentFraction(x, n);
  expect(Math.abs(w - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / n));
  const m = sampleMean(x, n, 2);
  const c = sampleCovariance(x, n, 2);
  for (let d = 0; d < 2; d++) expect(Math.abs(m[d]! - truthMean[d]!)).toBeLessThan(0.1);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++)
      expect(Math.abs(c[i]![j]! - truthCov[i]![j]!)).toBeLessThan(0.1 * truthCov[0]![0]!);
  }
}

describe.each(cases)('ReverseSDE ($name)', ({ sde, spec, tMin }) => {
  const scoreFn = mixture.scoreFn(spec);

  it('drift is f(t)x − g(t)² ∇log p_t(x) (SDE) and f(t)x − ½ g(t)² ∇log p_t(x) (ODE) with the exact score', () => {
    const rng = createRng(7);
    const ts = [0.05, 0.25, 0.5, 1];
    const xs = Array.from({ length: 8 }, () => 2 * rng.normal());
    const x = tf.tensor2d(xs, [4, 2]);
    const sdeOut = sde.reverse(scoreFn).sde(x, ts);
    const odeOut = sde.reverse(scoreFn, { probabilityFlow: true }).sde(x, ts);
    const expectedSde: number[] = [];
    const expectedOde: number[] = [];
    ts.forEach((t, b) => {
      const { f, g } = linearSdeCoefficients(spec, t);
      const row = xs.slice(2 * b, 2 * b + 2);
      const s = mixture.marginalAt(spec, Math.fround(t)).score([row]);
      for (let d = 0; d < 2; d++) {
        expectedSde.push(f * row[d]! - g * g * s[d]!);
        expectedOde.push(f * row[d]! - 0.5 * g * g * s[d]!);
      }
    });
    expectTensorsClose(sdeOut.drift, expectedSde, { rtol: 1e-4, atol: 1e-4 });
    expectTensorsClose(odeOut.drift, expectedOde, { rtol: 1e-4, atol: 1e-4 });
    expectTensorsClose(
      sdeOut.diffusion,
      ts.map((t) => linearSdeCoefficients(spec, t).g),
      { rtol: 1e-6 },
    );
    expectTensorsClose(odeOut.diffusion, [0, 0, 0, 0], { atol: 0 });
    tf.dispose([x, sdeOut.drift, sdeOut.diffusion, odeOut.drift, odeOut.diffusion]);
  });

  it('discretize is the forward step minus G² times the score (½ for the ODE)', () => {
    const x = tf.tensor2d([
      [0.3, -1],
      [2, 0.5],
    ]);
    const ts = [0.4, 0.8];
    const fwd = sde.discretize(x, ts);
    const score = scoreFn(x, tf.tensor1d(ts));
    for (const probabilityFlow of [false, true]) {
      const rev = sde.reverse(scoreFn, { probabilityFlow }).discretize(x, ts);
      const c = probabilityFlow ? 0.5 : 1;
      const expected = tf.tidy(() =>
        tf.sub(fwd.f, tf.mul(tf.reshape(tf.mul(tf.square(fwd.G), c), [2, 1]), score)),
      );
      expectTensorsClose(rev.f, expected, { rtol: 1e-5, atol: 1e-6 });
      expectTensorsClose(rev.G, probabilityFlow ? [0, 0] : fwd.G, { atol: 0 });
      tf.dispose([rev.f, rev.G, expected]);
    }
    tf.dispose([x, fwd.f, fwd.G, score]);
  });

  it('reverse-diffusion sampling from the prior with the exact score recovers the mixture', () => {
    // Song et al. 2021's reverse-diffusion predictor, x ← x − f_rev + G_rev z, over N = 1000 steps
    // from t = 1 to tMin; 3000 samples.
    const n = 3000;
    const rng = createRng(11);
    const reverse = sde.reverse(scoreFn);
    let x = tf.mul(tf.tensor2d(Float32Array.from(rng.normals(2 * n)), [n, 2]), sde.priorStd) as tf.Tensor;
    const N = sde.N;
    for (let i = 0; i < N; i++) {
      const t = 1 + (i / (N - 1)) * (tMin - 1);
      const next = tf.tidy(() => {
        const { f, G } = reverse.discretize(x, t);
        const z = tf.tensor2d(Float32Array.from(rng.normals(2 * n)), [n, 2]);
        return tf.add(tf.sub(x, f), tf.mul(tf.reshape(G, [n, 1]), z));
      });
      x.dispose();
      x = next;
    }
    expectMixture(x.dataSync() as Float32Array, n);
    x.dispose();
  });

  it('Euler integration of the probability-flow ODE from the prior recovers the mixture', () => {
    const n = 3000;
    const steps = 500;
    const rng = createRng(12);
    const ode = sde.reverse(scoreFn, { probabilityFlow: true });
    let x = tf.mul(tf.tensor2d(Float32Array.from(rng.normals(2 * n)), [n, 2]), sde.priorStd) as tf.Tensor;
    // Uniform in t (for VE this is also uniform in log σ(t)).
    const grid = Array.from({ length: steps + 1 }, (_, i) => 1 + (i / steps) * (tMin - 1));
    for (let i = 0; i < steps; i++) {
      const t = grid[i]!;
      const dt = grid[i + 1]! - t;
      const next = tf.tidy(() => tf.add(x, tf.mul(ode.sde(x, t).drift, dt)));
      x.dispose();
      x = next;
    }
    expectMixture(x.dataSync() as Float32Array, n);
    x.dispose();
  });

  it('does not leak tensors', async () => {
    const x = tf.ones([3, 2]);
    const t = tf.tensor1d([0.1, 0.5, 0.9]);
    const score = tf.ones([3, 2]);
    for (const probabilityFlow of [false, true]) {
      const rev = sde.reverse(scoreFn, { probabilityFlow });
      await expectNoLeaks(() => rev.sde(x, t));
      await expectNoLeaks(() => rev.sde(x, 0.5));
      await expectNoLeaks(() => rev.discretize(x, t));
      await expectNoLeaks(() => rev.sdeWithScore(x, t, score));
      await expectNoLeaks(() => rev.discretizeWithScore(x, [0.2, 0.3, 0.4], score));
    }
    tf.dispose([x, t, score]);
  });
});

describe('ReverseSDE argument checks', () => {
  const sde = new VPSDE();
  it('names scoreFn when it is not a function or returns the wrong shape', () => {
    expect(() => sde.reverse(42 as unknown as () => tf.Tensor)).toThrow(/^scoreFn: expected a function/);
    const bad = sde.reverse((x) => tf.zeros([x.shape[0]!, 5]));
    const x = tf.zeros([2, 3]);
    expect(() => bad.sde(x, 0.5)).toThrow(
      /^scoreFn: expected a score of the shape of x \[2,3\], got a tensor of shape \[2,5\]/,
    );
    expect(() => sde.reverse(() => x).discretizeWithScore(x, 0.5, tf.zeros([3]))).toThrow(
      /^score: expected a score/,
    );
    x.dispose();
  });
});
