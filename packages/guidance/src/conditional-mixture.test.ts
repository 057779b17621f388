import { setupBackend } from '@sbm/backend';
import { createRng, expectNoLeaks, sampleCovariance, sampleMean } from '@sbm/test-utils';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { conditionalMixture2D } from './conditional-mixture.test-support.js';

// The guidance oracle is itself checked against @sbm/test-utils' float64 GaussianMixture (Cholesky-based,
// written independently): scores and log densities of the diffused mixture and of each class.

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (n) => import(n) }));

const oracle = conditionalMixture2D();
const K = oracle.numClasses;
const N = 24;
const points = Float32Array.from(createRng(3).normals(2 * N), (v) => 1.5 * v);
const labels = Int32Array.from({ length: N }, (_, i) => i % K);

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

describe('conditionalMixture2D oracle', () => {
  for (const c of oracle.cases) {
    for (const time of [0.02, 0.3, 0.8]) {
      it(`${c.name} at t = ${time}: scores, log density and posterior match float64 GaussianMixture`, () => {
        const x = tf.tensor2d(points, [N, 2]);
        const t = tf.fill([N], time);
        const marginal = oracle.exact.marginalAt(c.spec, time);
        const classes = Array.from({ length: K }, (_, y) =>
          oracle.classDistribution(y).marginalAt(c.spec, time),
        );
        const rows = Float64Array.from(points);

        const uncond = c.scoreUnconditional(x, t);
        expect(maxRelDiff(uncond.dataSync(), marginal.score(rows))).toBeLessThan(1e-5);
        const logp = c.logDensity(x, t);
        expect(maxRelDiff(logp.dataSync(), marginal.logProb(rows))).toBeLessThan(1e-5);

        const cond = c.scoreConditional(x, t, tf.tensor1d(labels, 'int32'));
        const expected = new Float64Array(2 * N);
        for (let i = 0; i < N; i++) {
          expected.set(classes[labels[i]!]!.score(rows.subarray(2 * i, 2 * i + 2)), 2 * i);
        }
        expect(maxRelDiff(cond.dataSync(), expected)).toBeLessThan(1e-5);

        // Bayes: log p(y | x) = log w_y + log N_y(x) − log p(x), all in float64.
        const post = c.logPosterior(x, t);
        const logMarginal = marginal.logProb(rows);
        const expectedPost = new Float64Array(N * K);
        for (let y = 0; y < K; y++) {
          const ly = classes[y]!.logProb(rows);
          for (let i = 0; i < N; i++)
            expectedPost[i * K + y] = Math.log(oracle.weights[y]!) + ly[i]! - logMarginal[i]!;
        }
        expect(maxRelDiff(post.dataSync(), expectedPost)).toBeLessThan(1e-5);
        tf.dispose([x, t, uncond, logp, cond, post]);
      });
    }
  }

  it('is differentiable: ∇ log p_t = unconditional score, ∇ log p_t(y|x) = conditional − unconditional', () => {
    const c = oracle.case('VP');
    const x = tf.tensor2d(points, [N, 2]);
    const t = tf.fill([N], 0.25);
    const gradLogP = tf.grad((v: tf.Tensor) => tf.sum(c.logDensity(v, t)))(x);
    const score = c.scoreUnconditional(x, t);
    expect(maxRelDiff(gradLogP.dataSync(), score.dataSync())).toBeLessThan(1e-4);
    const y = tf.tensor1d(labels, 'int32');
    const gradPost = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(c.logPosterior(v, t), tf.oneHot(y, K))))(x);
    const diff = tf.sub(c.scoreConditional(x, t, y), score);
    expect(maxRelDiff(gradPost.dataSync(), diff.dataSync())).toBeLessThan(1e-4);
    tf.dispose([x, t, gradLogP, score, y, gradPost, diff]);
  });

  it('classModel gives the class score for labels < K and the unconditional score for the null label', () => {
    const c = oracle.case('VE');
    const x = tf.tensor2d(points, [N, 2]);
    const t = tf.tensor1d([0.4]);
    const withNull = Int32Array.from(labels, (y, i) => (i % 4 === 0 ? oracle.nullLabel : y));
    const out = c.classModel(x, t, tf.tensor1d(withNull, 'int32')).dataSync();
    const cond = c.scoreConditional(x, t, labels).dataSync();
    const uncond = c.scoreUnconditional(x, t).dataSync();
    for (let i = 0; i < N; i++) {
      const ref = withNull[i] === oracle.nullLabel ? uncond : cond;
      expect([out[2 * i], out[2 * i + 1]]).toEqual([ref[2 * i], ref[2 * i + 1]]);
    }
    tf.dispose(x);
    tf.dispose(t);
  });

  it('samples each class from its Gaussian (mean within 4 standard errors, variance within 4 SE)', () => {
    const n = 4000;
    for (let y = 0; y < K; y++) {
      const { x, labels: ys } = oracle.sample(n, 10 + y, y);
      expect(ys.every((v) => v === y)).toBe(true);
      const data = x.dataSync();
      const m = sampleMean(data, n, 2);
      const cov = sampleCovariance(data, n, 2);
      const c2 = oracle.stds[y]! ** 2;
      for (let d = 0; d < 2; d++) {
        expect(Math.abs(m[d]! - oracle.means[y]![d]!)).toBeLessThan(4 * Math.sqrt(c2 / n));
        expect(Math.abs(cov[d]![d]! - c2)).toBeLessThan(4 * c2 * Math.sqrt(2 / n));
      }
      x.dispose();
    }
  });

  it('does not leak tensors', async () => {
    const c = oracle.case('sub-VP');
    const x = tf.tensor2d(points, [N, 2]);
    const t = tf.fill([N], 0.5);
    const y = tf.tensor1d(labels, 'int32');
    await expectNoLeaks(() => [
      c.logPosterior(x, t),
      c.logDensity(x, t),
      c.scoreConditional(x, t, y),
      c.scoreUnconditional(x, t),
      c.classModel(x, t, y),
    ]);
    tf.dispose([x, t, y]);
  });
});
