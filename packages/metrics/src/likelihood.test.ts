// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { SbmArgumentError, type ScoreFn, type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, type LinearSdeSpec, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  diagonalGaussianLogDensity,
  diagonalGaussianScore,
  diagonalVariances,
  isotropicMixture,
  mixtureScore,
} from './gaussian-oracle.test-support.js';
import { bitsPerDim, likelihood, likelihoodOde } from './likelihood.js';

beforeAll(useCpuBackend);

/** Three well-separated isotropic components in 2-D (data scale ~2). */
const mixture = isotropicMixture(
  [0.2, 0.5, 0.3],
  [
    [-2, -1.5],
    [1.5, -1],
    [0, 2],
  ],
  [0.35, 0.5, 0.3],
);

/** Points near each mode, between modes and in a tail. */
const points = [
  [-2, -1.5],
  [1.2, -0.8],
  [0, 2.3],
  [-0.5, 0.5],
  [3, 3],
];

const cases: { name: string; sde: SDE; spec: LinearSdeSpec }[] = [
  { name: 'VP', sde: new VPSDE(), spec: { kind: 'vp', betaMin: 0.1, betaMax: 20 } },
  { name: 'sub-VP', sde: new SubVPSDE(), spec: { kind: 'subvp', betaMin: 0.1, betaMax: 20 } },
  { name: 'VE', sde: new VESDE(), spec: { kind: 've', sigmaMin: 0.01, sigmaMax: 50 } },
];

/** log N(z; 0, s² I) per row (float64). */
function priorLogDensity(z: ArrayLike<number>, D: number, s: number): Float64Array {
  return diagonalGaussianLogDensity(z, new Array<number>(D).fill(s * s));
}

// Tolerances. With the exact score the probability-flow ODE carries p_tMin exactly onto the true marginal p_T,
// so log p_tMin(x) = log p_T(z) + Δlogp holds to the solver's accuracy: rtol = atol = 1e-5 per step on the state
// (|Δlogp| ≲ 10) over ~20–30 steps gives ~1e-3 nats (observed 0.6–1.3e-3 for the three SDEs); the float32
// score adds ~1e-6 relative per evaluation. 3e-3 leaves a margin of ~2×.
// The returned logLikelihood uses the prior N(0, priorStd² I) in place of p_T; that mismatch is
// log π(z) − log p_T(z), analytic at the returned z. Its size: VP/sub-VP at T = 1 keep a mean factor
// α(1) = exp(−¼·19.9 − ½·0.1) = 6.6e-3, so component means sit at |α m_k| ≤ 0.017 and variances at
// 1 − α²(1 − c²) (VP) or (1 − α²)² + α² c² (sub-VP), i.e. ≈ 1 − 4e-5 and 1 − 9e-5: log-density differences of
// |z·α m_k| + O(α²) ≲ 0.05 nats for |z| ≲ 3. VE keeps the means (|m| ≤ 2.5) under σmax = 50: variances
// c² + 2500 vs 2500, differences |z·m|/2500 + |m|²/5000 ≲ 0.1 nats for |z| ≲ 100.
const SOLVER_TOLERANCE = 3e-3;

describe.each(cases)(
  'likelihood of a 2-D Gaussian mixture under $name with the exact score',
  ({ name, sde, spec }) => {
    const tMin = 1e-5;
    const x = () => tf.tensor2d(points);

    it('equals log p_tMin(x) with the exact divergence, up to the prior mismatch', async () => {
      const data = x();
      const result = await likelihood({
        sde,
        model: mixtureScore(mixture, spec),
        x: data,
        divergence: 'exact',
      });
      const z = result.latent.dataSync() as Float32Array;
      const truth = mixture.exact.marginalAt(spec, tMin).logProb(points);
      const atT = mixture.exact.marginalAt(spec, sde.T).logProb(z);
      const prior = priorLogDensity(z, 2, sde.priorStd);
      let mismatch = 0;
      let flowError = 0;
      for (let b = 0; b < points.length; b++) {
        flowError = Math.max(flowError, Math.abs(atT[b]! + result.deltaLogp[b]! - truth[b]!));
        // The flow identity itself, with the true marginal at T.
        expect(Math.abs(atT[b]! + result.deltaLogp[b]! - truth[b]!), `${name} point ${b}`).toBeLessThan(
          SOLVER_TOLERANCE,
        );
        // (the latent is returned in float32; the prior was taken from the float64 state)
        expect(Math.abs(result.priorLogp[b]! - prior[b]!)).toBeLessThan(1e-5);
        // What the user gets: off by the prior mismatch at z, bounded above.
        const gap = Math.abs(prior[b]! - atT[b]!);
        mismatch = Math.max(mismatch, gap);
        expect(Math.abs(result.logLikelihood[b]! - truth[b]!)).toBeLessThan(gap + SOLVER_TOLERANCE);
        expect(result.bitsPerDim[b]).toBeCloseTo(-result.logLikelihood[b]! / (2 * Math.LN2) + 8, 12);
      }
      console.log(
        `${name}: nfe ${result.nfe}, flow-identity error ${flowError.toExponential(2)}, prior mismatch ≤ ${mismatch.toExponential(2)}`,
      );
      expect(mismatch).toBeLessThan(name === 'VE' ? 0.1 : 0.05);
      expect(result.nfe).toBe(2 + 6 * (result.steps + result.rejected));
      expect(result.seed).toBeUndefined();
      tf.dispose([data, result.latent]);
    });

    it.each(['hutchinson-rademacher', 'hutchinson-gaussian'] as const)(
      'averages to log p_tMin(x) with the %s estimator (Monte-Carlo tolerance)',
      async (divergence) => {
        // Each point repeated R times: every row gets its own probe (per-sample streams) and the same trajectory.
        const R = 64;
        const rows = points.slice(0, 3).flatMap((p) => new Array<number[]>(R).fill(p));
        const data = tf.tensor2d(rows);
        const result = await likelihood({
          sde,
          model: mixtureScore(mixture, spec),
          x: data,
          divergence,
          seed: 3,
        });
        const z = result.latent.dataSync() as Float32Array;
        const atT = mixture.exact.marginalAt(spec, sde.T).logProb(z);
        const truth = mixture.exact.marginalAt(spec, tMin).logProb(points.slice(0, 3));
        for (let p = 0; p < 3; p++) {
          const estimates = Array.from(
            { length: R },
            (_, r) => atT[p * R + r]! + result.deltaLogp[p * R + r]!,
          );
          const mean = estimates.reduce((a, v) => a + v, 0) / R;
          const sd = Math.sqrt(estimates.reduce((a, v) => a + (v - mean) ** 2, 0) / (R - 1));
          // The estimate εᵀ(∫J dt)ε is unbiased; its mean over R probes lies within 4 standard errors (plus the
          // solver tolerance) with probability > 0.9999. A single probe is off by ~sd (0.1–1 nats here).
          expect(Math.abs(mean - truth[p]!), `${name} ${divergence} point ${p}: sd ${sd}`).toBeLessThan(
            (4 * sd) / Math.sqrt(R) + SOLVER_TOLERANCE,
          );
          expect(sd).toBeGreaterThan(0);
        }
        tf.dispose([data, result.latent]);
      },
    );
  },
);

describe('likelihood of a diagonal Gaussian in x [B, 2, 2, 3]', () => {
  // D = 12 with per-dimension scales; the exact divergence in passes of 5 directions (5 + 5 + 2).
  const stds = [0.2, 0.5, 1, 2, 0.3, 0.7, 1.5, 0.1, 0.4, 0.9, 1.2, 0.6];
  const spec: LinearSdeSpec = { kind: 'vp', betaMin: 0.1, betaMax: 20 };
  const sde = new VPSDE();

  it('equals the analytic log-density, and Gaussian probes agree on average', async () => {
    const values = [stds.map((c) => 0.8 * c), stds.map((c, d) => (d % 2 ? -1.5 : 0.3) * c)];
    const data = tf.tensor4d(values.flat(), [2, 2, 2, 3]);
    const result = await likelihood({
      sde,
      model: diagonalGaussianScore(stds, spec),
      x: data,
      divergence: 'exact',
      directionsPerPass: 5,
      tMin: 1e-3,
    });
    const truth = diagonalGaussianLogDensity(values.flat(), diagonalVariances(stds, spec, 1e-3));
    const atT = diagonalGaussianLogDensity(result.latent.dataSync(), diagonalVariances(stds, spec, 1));
    for (let b = 0; b < 2; b++) {
      expect(Math.abs(atT[b]! + result.deltaLogp[b]! - truth[b]!)).toBeLessThan(SOLVER_TOLERANCE);
    }
    expect(result.latent.shape).toEqual([2, 2, 2, 3]);
    tf.dispose([data, result.latent]);
  });
});

describe('bits/dim', () => {
  it('is 8 for uniform 8-bit data in [0, 1] and in [−1, 1] (the entropy of uniform bytes)', () => {
    // Uniform density on [0, 1]^D: log p = 0; on [−1, 1]^D: log p = −D ln 2. Either way 8 bits per value.
    const D = 3072;
    expect(bitsPerDim([0], D)[0]).toBeCloseTo(8, 12);
    expect(bitsPerDim([-D * Math.LN2], D, { dataRange: [-1, 1] })[0]).toBeCloseTo(8, 12);
    // 16-bit data in [0, 1]: 16 bits per value.
    expect(bitsPerDim([0], D, { levels: 65536 })[0]).toBeCloseTo(16, 12);
  });

  it('is the same for data in [0, 1] and the same data centered to [−1, 1] (change of variables, log 2 per dim)', async () => {
    // p on [0, 1]² and its push-forward under x ↦ 2x − 1: log p_c(2x − 1) = log p(x) − 2 ln 2.
    const unit = isotropicMixture(
      [0.6, 0.4],
      [
        [0.3, 0.6],
        [0.7, 0.35],
      ],
      [0.06, 0.08],
    );
    const centered = isotropicMixture(
      [0.6, 0.4],
      unit.means.map((m) => m.map((v) => 2 * v - 1)),
      unit.stds.map((c) => 2 * c),
    );
    const spec: LinearSdeSpec = { kind: 'vp', betaMin: 0.1, betaMax: 20 };
    const sde = new VPSDE();
    const xs = [
      [0.31, 0.58],
      [0.66, 0.4],
      [0.5, 0.5],
    ];
    const a = tf.tensor2d(xs);
    const b = tf.tensor2d(xs.map((p) => p.map((v) => 2 * v - 1)));
    const common = { sde, divergence: 'exact' as const, tMin: 1e-4 };
    const r01 = await likelihood({ ...common, model: mixtureScore(unit, spec), x: a });
    const rc = await likelihood({ ...common, model: mixtureScore(centered, spec), x: b, dataRange: [-1, 1] });
    for (let i = 0; i < xs.length; i++) {
      // Each run is off by its own prior mismatch (< 0.02 nats here) plus the solver tolerance; at tMin = 1e-4
      // the noise σ² ≈ 1e-5 added in either space changes log p by < 2e-3 relative to the exact push-forward.
      const tolerance = 0.02 + 2 * SOLVER_TOLERANCE;
      expect(Math.abs(r01.logLikelihood[i]! - 2 * Math.LN2 - rc.logLikelihood[i]!)).toBeLessThan(tolerance);
      expect(Math.abs(r01.bitsPerDim[i]! - rc.bitsPerDim[i]!)).toBeLessThan(tolerance / (2 * Math.LN2));
    }
    tf.dispose([a, b, r01.latent, rc.latent]);
  });
});

describe('likelihood bookkeeping', () => {
  const spec: LinearSdeSpec = { kind: 'vp', betaMin: 0.1, betaMax: 20 };
  const sde = new VPSDE();
  const model = mixtureScore(mixture, spec);

  it('is reproducible for a seed, and a sample does not depend on its batch', async () => {
    const data = tf.tensor2d(points);
    const first = tf.tensor2d(points.slice(0, 1));
    const a = await likelihood({ sde, model, x: data, seed: 9, rtol: 1e-3, atol: 1e-3 });
    const b = await likelihood({ sde, model, x: data, seed: 9, rtol: 1e-3, atol: 1e-3 });
    const c = await likelihood({ sde, model, x: first, seed: 9, rtol: 1e-7, atol: 1e-7 });
    const d = await likelihood({ sde, model, x: data, seed: 9, rtol: 1e-7, atol: 1e-7 });
    expect([...a.logLikelihood]).toEqual([...b.logLikelihood]);
    expect(a.seed).toBe(9);
    // Same probe for sample 0 alone or in a batch; the adaptive steps differ, so they agree to the tolerance.
    expect(Math.abs(c.logLikelihood[0]! - d.logLikelihood[0]!)).toBeLessThan(1e-4);
    tf.dispose([data, first, a.latent, b.latent, c.latent, d.latent]);
  });

  it('does not leak tensors (Hutchinson and exact)', async () => {
    const data = tf.tensor2d(points.slice(0, 2));
    for (const divergence of ['hutchinson-rademacher', 'exact'] as const) {
      await expectNoLeaks(() =>
        likelihood({ sde, model, x: data, divergence, seed: 1, rtol: 1e-3, atol: 1e-3 }),
      );
    }
    const probe = tf.onesLike(data);
    await expectNoLeaks(() => likelihood({ sde, model, x: data, probe, rtol: 1e-3, atol: 1e-3 }));
    expect(probe.isDisposed).toBe(false);
    const state = Float64Array.of(...points[0]!, ...points[1]!, 0, 0);
    for (const estimator of [{ probe }, { exact: true as const }]) {
      const rhs = likelihoodOde({ sde, scoreFn: model as ScoreFn, shape: [2, 2], estimator });
      await expectNoLeaks(() => rhs(0.5, state));
    }
    tf.dispose([data, probe]);
  });

  it('rejects bad input with errors naming the option', async () => {
    const data = tf.tensor2d(points);
    const run = (extra: Record<string, unknown>) =>
      likelihood({ sde, model, x: data, rtol: 1e-3, atol: 1e-3, ...extra } as Parameters<
        typeof likelihood
      >[0]);
    const rejects = async (extra: Record<string, unknown>, pattern: RegExp) => {
      const error = await run(extra).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SbmArgumentError);
      expect((error as Error).message).toMatch(pattern);
    };
    const vector = tf.tensor1d([1, 2]);
    const withNaN = tf.tensor2d([
      [0, Number.NaN],
      [1, 1],
    ]);
    const ints = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    const big = tf.zeros([1, 65]);
    const wrongProbe = tf.ones([5, 3]);
    await rejects({ sde: {} }, /^options\.sde: expected an SDE/);
    await rejects({ x: vector }, /^options\.x: expected a non-empty tensor \[B, \.\.\.\] of rank >= 2/);
    await rejects({ x: ints }, /^options\.x: expected float32 values, got int32/);
    await rejects({ x: withNaN }, /^options\.x: x has a non-finite value \(NaN\) at flat index 1/);
    await rejects({ tMin: 0 }, /^options\.tMin: expected a time in \(0, T = 1\), got 0/);
    await rejects({ tMin: 1 }, /^options\.tMin: expected a time in \(0, T = 1\), got 1/);
    await rejects({ rtol: -1 }, /^options\.rtol: expected a number > 0/);
    await rejects(
      { divergence: 'hutchinson' },
      /^options\.divergence: expected one of hutchinson-rademacher/,
    );
    await rejects(
      { x: big, divergence: 'exact', model: (v: tf.Tensor) => tf.neg(v) },
      /^options\.divergence: 'exact' takes D = 65 vector-Jacobian products .* above options\.maxExactDim = 64/,
    );
    await rejects(
      { probe: wrongProbe },
      /^options\.probe: expected a float32 tensor of the shape of x \[5,2\]/,
    );
    await rejects(
      { probe: data, divergence: 'exact' },
      /^options\.probe: a probe is only used by the Hutchinson/,
    );
    await rejects({ seed: 1.5 }, /^options\.seed: expected a safe integer/);
    await rejects({ dataRange: [1, 0] }, /^options\.dataRange: expected \[lo, hi\] with finite lo < hi/);
    await rejects({ levels: 1 }, /^options\.levels: expected an integer >= 2/);
    await rejects(
      { model: async (v: tf.Tensor) => tf.neg(v) },
      /^options\.model: model is asynchronous; the likelihood differentiates the score with tf\.grad/,
    );
    tf.dispose([data, vector, withNaN, ints, big, wrongProbe]);
  });
});
