// Classifier guidance on the class-conditional Gaussian mixture, where everything is exact: the unconditional
// score as the model and the Bayes posterior p_t(y | x) as the classifier give, at γ = 1, the conditional
// score ∇ log p_t(x | y) (Bayes' rule), and at any γ the closed form s + γ (s_y − s).
import { setupBackend } from '@sbm/backend';
import { ddimSample, pcSample, wrapModel } from '@sbm/samplers';
import { convertPrediction, SbmArgumentError } from '@sbm/sde';
import { createRng, expectNoLeaks, expectTensorsClose, sampleCovariance, sampleMean } from '@sbm/test-utils';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { wrapClassifier } from './classifier-adapter.js';
import { classifierGuidance } from './classifier-guidance.js';
import { type ConditionalMixtureCase, conditionalMixture2D } from './conditional-mixture.test-support.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (n) => import(n) }));

const oracle = conditionalMixture2D();
const K = oracle.numClasses;
const B = 12;
const labelValues = Int32Array.from({ length: B }, (_, i) => i % K);

/** Points spread over the perturbed mixture at time t: α m + √(α² + σ²)·1.5 z. */
function points(c: ConditionalMixtureCase, t: number, seed: number): tf.Tensor2D {
  const { alpha, sigma } = c.coefficients(t);
  const z = createRng(seed).normals(2 * B);
  const spread = 1.5 * Math.sqrt(alpha * alpha + sigma * sigma);
  return tf.tensor2d(
    Float32Array.from(z, (v) => spread * v),
    [B, 2],
  );
}

/** The guided model of the case: exact unconditional score, exact Bayes classifier. */
function guided(c: ConditionalMixtureCase, scale: number) {
  const model = wrapModel((x: tf.Tensor, t: tf.Tensor) => c.scoreUnconditional(x, t), { sde: c.sde });
  return classifierGuidance(model, (x, t) => c.logPosterior(x, t), { numClasses: K, scale });
}

/** Largest |a − b| / (1 + |b|). */
function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  const u = a.dataSync();
  const v = b.dataSync();
  let m = 0;
  for (let i = 0; i < u.length; i++) m = Math.max(m, Math.abs(u[i]! - v[i]!) / (1 + Math.abs(v[i]!)));
  return m;
}

describe('classifierGuidance with the exact Bayes classifier of the class-conditional mixture', () => {
  for (const c of oracle.cases) {
    for (const time of [0.02, 0.3, 0.9]) {
      it(`${c.name} at t = ${time}: γ = 1 gives the conditional score, γ = 0 the unconditional, γ = 2.5 s + γ (s_y − s)`, async () => {
        const x = points(c, time, 17);
        const labels = tf.tensor1d(labelValues, 'int32');
        const t = tf.fill([B], time);
        const conditional = c.scoreConditional(x, t, labels);
        const unconditional = c.scoreUnconditional(x, t);

        const one = await guided(c, 1).predict(x, time, 'score', labels);
        // float32: the gradient of a log-softmax of float32 log-likelihoods; 2e-5 relative to 1 + |s|
        expect(maxRelDiff(one, conditional)).toBeLessThan(2e-5);

        const zero = await guided(c, 0).predict(x, time, 'score', labels);
        expectTensorsClose(zero, unconditional, { rtol: 0, atol: 0 });

        const gamma = 2.5;
        const expected = tf.tidy(() =>
          tf.add(unconditional, tf.mul(tf.sub(conditional, unconditional), gamma)),
        );
        const strong = await guided(c, gamma).predict(x, time, 'score', labels);
        expect(maxRelDiff(strong, expected)).toBeLessThan(5e-5);
        tf.dispose([x, labels, t, conditional, unconditional, one, zero, expected, strong]);
      });
    }
  }

  it('a float32 labels tensor [B, 1] is read like int32 labels [B]', async () => {
    const c = oracle.case('VP');
    const x = points(c, 0.4, 5);
    const ints = tf.tensor1d(labelValues, 'int32');
    const floats = tf.tensor2d(Float32Array.from(labelValues), [B, 1]);
    const a = await guided(c, 1).predict(x, 0.4, 'score', ints);
    const b = await guided(c, 1).predict(x, 0.4, 'score', floats);
    expectTensorsClose(a, b, { rtol: 0, atol: 0 });
    tf.dispose([x, ints, floats, a, b]);
  });
});

describe('the ε view (Dhariwal & Nichol 2021, Eq. 14) and the other parameterizations', () => {
  for (const name of ['VP', 'sub-VP', 'VE'] as const) {
    it(`${name}: an ε-model guided in ε, score, x0 and v agrees with ε − γ σ ∇log p(y|x) and its conversions`, async () => {
      const c = oracle.case(name);
      const time = 0.35;
      const gamma = 1.7;
      const { sigma } = c.coefficients(time);
      // the base model predicts ε = −σ s (a noise-prediction network)
      const epsModel = wrapModel(
        (x: tf.Tensor, t: tf.Tensor) => tf.tidy(() => tf.mul(c.scoreUnconditional(x, t), -c.sde.sigma(time))),
        { sde: c.sde, prediction: 'eps' },
      );
      const model = classifierGuidance(epsModel, (x, t) => c.logPosterior(x, t), {
        numClasses: K,
        scale: gamma,
      });
      expect(model.prediction).toBe('eps');
      const x = points(c, time, 23);
      const labels = tf.tensor1d(labelValues, 'int32');
      const t = tf.fill([B], time);
      // ∇ log p_t(y | x) = s_y − s exactly (Bayes' rule)
      const classGradient = tf.tidy(() =>
        tf.sub(c.scoreConditional(x, t, labels), c.scoreUnconditional(x, t)),
      );
      const epsExpected = tf.tidy(() =>
        tf.sub(tf.mul(c.scoreUnconditional(x, t), -sigma), tf.mul(classGradient, gamma * sigma)),
      );
      const eps = await model.predict(x, time, 'eps', labels);
      expect(maxRelDiff(eps, epsExpected)).toBeLessThan(5e-5);

      // the score view: s̃ = −ε̃ / σ, and x0, v are the exact conversions of the guided score
      const score = await model.predict(x, time, 'score', labels);
      const scoreFromEps = tf.tidy(() => tf.div(eps, -sigma));
      expect(maxRelDiff(score, scoreFromEps)).toBeLessThan(5e-5);
      for (const to of ['x0', 'v'] as const) {
        const direct = await model.predict(x, time, to, labels);
        const converted = convertPrediction({ sde: c.sde, x, t: time, value: score, from: 'score', to });
        expect(maxRelDiff(direct, converted)).toBeLessThan(5e-5);
        tf.dispose([direct, converted]);
      }
      tf.dispose([x, labels, t, classGradient, epsExpected, eps, score, scoreFromEps]);
    });
  }
});

describe('sampling with classifier guidance at γ = 1', () => {
  it('ddimSample draws each class from its Gaussian N(m_y, c_y² I) (VP; moments within stated errors)', async () => {
    const c = oracle.case('VP');
    const n = 1200; // per class
    const classes = [0, 2];
    const labels = tf.tensor1d(
      Int32Array.from({ length: n * classes.length }, (_, i) => classes[Math.floor(i / n)]!),
      'int32',
    );
    const model = guided(c, 1);
    const { samples, nfe } = await ddimSample({
      sde: c.sde,
      model,
      labels,
      shape: [n * classes.length, 2],
      steps: 100,
      seed: 41,
    });
    expect(nfe).toBe(100);
    // the same sampler with the exact conditional score follows the same trajectories
    const exact = wrapModel((x: tf.Tensor, t: tf.Tensor, y?: tf.Tensor) => c.scoreConditional(x, t, y!), {
      sde: c.sde,
    });
    const reference = await ddimSample({
      sde: c.sde,
      model: exact,
      labels,
      shape: [n * classes.length, 2],
      steps: 100,
      seed: 41,
    });
    expectTensorsClose(samples, reference.samples, { rtol: 1e-3, atol: 1e-3 });

    const values = samples.dataSync();
    classes.forEach((y, j) => {
      const rows = values.subarray(j * n * 2, (j + 1) * n * 2);
      const mean = sampleMean(rows, n, 2);
      const cov = sampleCovariance(rows, n, 2);
      const std = oracle.stds[y]!;
      // mean: standard error std/√n ≈ 0.017–0.020; allow 4 SE plus 0.01 for the 100-step discretization
      for (let d = 0; d < 2; d++) {
        expect(Math.abs(mean[d]! - oracle.means[y]![d]!)).toBeLessThan((4 * std) / Math.sqrt(n) + 0.01);
      }
      // variance: standard error std²·√(2/n) ≈ 4% relative; allow 4 SE plus 2% for the discretization
      for (let d = 0; d < 2; d++) {
        expect(Math.abs(cov[d]![d]! / (std * std) - 1)).toBeLessThan(4 * Math.sqrt(2 / n) + 0.02);
      }
      // covariance: standard error std²/√n; isotropic classes have none
      expect(Math.abs(cov[0]![1]!) / (std * std)).toBeLessThan(4 / Math.sqrt(n));
    });
    tf.dispose([labels, samples, reference.samples]);
  });

  it('pcSample (reverse diffusion, no corrector) takes the guided model unchanged (VE, one class)', async () => {
    const c = oracle.case('VE');
    const n = 1000;
    const y = 1;
    const labels = tf.fill([n], y, 'int32');
    const { samples } = await pcSample({
      sde: c.sde,
      model: guided(c, 1),
      labels,
      shape: [n, 2],
      steps: 200,
      corrector: 'none',
      seed: 8,
    });
    const values = samples.dataSync();
    const mean = sampleMean(values, n, 2);
    const cov = sampleCovariance(values, n, 2);
    const std = oracle.stds[y]!;
    // ancestral sampling with 200 steps: allow 4 SE plus 0.02 (mean) and 4 SE plus 4% (variance)
    for (let d = 0; d < 2; d++) {
      expect(Math.abs(mean[d]! - oracle.means[y]![d]!)).toBeLessThan((4 * std) / Math.sqrt(n) + 0.02);
      expect(Math.abs(cov[d]![d]! / (std * std) - 1)).toBeLessThan(4 * Math.sqrt(2 / n) + 0.04);
    }
    tf.dispose([labels, samples]);
  });

  it('leaks no tensors over a guided ddimSample run and a guided predict', async () => {
    const c = oracle.case('sub-VP');
    const model = guided(c, 2);
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    const x = tf.tensor2d([0.1, -0.3, 1.2, 0.4, -0.8, 0.9, 0.0, 0.0], [4, 2]);
    await expectNoLeaks(() =>
      ddimSample({ sde: c.sde, model, labels, shape: [4, 2], steps: 4, seed: 1 }).then((r) => r.samples),
    );
    for (const to of ['score', 'eps', 'x0', 'v'] as const) {
      await expectNoLeaks(() => model.predict(x, 0.5, to, labels));
    }
    await expectNoLeaks(() => guided(c, 0).predict(x, 0.5, 'eps', labels));
    tf.dispose([labels, x]);
  });
});

describe('classifierGuidance errors', () => {
  const c = oracle.case('VP');
  const x = () => tf.tensor2d([0.1, -0.3, 1.2, 0.4], [2, 2]);
  const model = wrapModel((xi: tf.Tensor, t: tf.Tensor) => c.scoreUnconditional(xi, t), { sde: c.sde });
  const bayes = (xi: tf.Tensor, t: tf.Tensor) => c.logPosterior(xi, t);

  it('refuses a bad scale, a missing class count and a classifier whose output does not match it', async () => {
    for (const scale of [-1, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
      expect(() => classifierGuidance(model, bayes, { numClasses: K, scale })).toThrow(
        /options\.scale: expected a finite guidance scale/,
      );
    }
    expect(() => classifierGuidance(model, bayes, {} as never)).toThrow(/options\.numClasses/);
    const xs = x();
    const labels = tf.tensor1d([0, 1], 'int32');
    const fourClasses = classifierGuidance(model, bayes, { numClasses: 4 });
    await expect(fourClasses.predict(xs, 0.5, 'score', labels)).rejects.toThrow(
      /a classifier whose output does not match the class count: expected logits \[B, K\] = \[2, 4\].*got logits of shape \[2,3\]/,
    );
    const flat = classifierGuidance(
      model,
      (xi: tf.Tensor, t: tf.Tensor) => tf.sum(c.logPosterior(xi, t), 1),
      {
        numClasses: K,
      },
    );
    await expect(flat.predict(xs, 0.5, 'score', labels)).rejects.toThrow(/got logits of shape \[2\]/);
    // the errors leave no tensors behind
    await expectNoLeaks(() => flat.predict(xs, 0.5, 'score', labels).catch(() => undefined));
    tf.dispose([xs, labels]);
  });

  it('refuses missing, mismatched and out-of-range labels', async () => {
    const xs = x();
    const guidedModel = classifierGuidance(model, bayes, { numClasses: K });
    await expect(guidedModel.predict(xs, 0.5, 'score')).rejects.toThrow(/labels: .*needs the class y/);
    await expect(ddimSample({ sde: c.sde, model: guidedModel, shape: [2, 2], steps: 2 })).rejects.toThrow(
      SbmArgumentError,
    );
    const cases: [tf.Tensor, RegExp][] = [
      [tf.tensor1d([0, 1, 2], 'int32'), /labels: expected class labels \[2\].*got shape \[3\]/],
      [tf.tensor1d([0, 3], 'int32'), /got 3 at index 1 \(3 is the null class/],
      [tf.tensor1d([-1, 0], 'int32'), /got -1 at index 0/],
      [tf.tensor1d([0.5, 1]), /got 0\.5 at index 0/],
      [tf.tensor1d([true, false], 'bool'), /got dtype bool/],
    ];
    for (const [labels, message] of cases) {
      await expect(guidedModel.predict(xs, 0.5, 'score', labels)).rejects.toThrow(message);
      // also at γ = 0, where the classifier is not evaluated
      await expect(
        classifierGuidance(model, bayes, { numClasses: K, scale: 0 }).predict(xs, 0.5, 'score', labels),
      ).rejects.toThrow(message);
      labels.dispose();
    }
    tf.dispose(xs);
  });

  it('explains a classifier that cannot be differentiated with respect to x', async () => {
    const xs = x();
    const labels = tf.tensor1d([0, 1], 'int32');
    // logits rebuilt from values read with dataSync: no tape connects them to x
    const detached = (xi: tf.Tensor, t: tf.Tensor) => {
      const logp = c.logPosterior(xi, t);
      const copy = tf.tensor2d(logp.dataSync(), [2, K]);
      logp.dispose();
      return copy;
    };
    await expect(
      classifierGuidance(model, detached, { numClasses: K }).predict(xs, 0.5, 'score', labels),
    ).rejects.toThrow(/gradient of the log-probability with respect to x is null/);
    // TopK has no registered gradient
    const sorted = (xi: tf.Tensor, t: tf.Tensor) => tf.topk(c.logPosterior(xi, t), K).values;
    await expect(
      classifierGuidance(model, sorted, { numClasses: K }).predict(xs, 0.5, 'score', labels),
    ).rejects.toThrow(
      /cannot differentiate the classifier .*gradient function not found for TopK.*tfjs-layers/,
    );
    const asynchronous = async (xi: tf.Tensor, t: tf.Tensor) => c.logPosterior(xi, t);
    await expect(
      classifierGuidance(model, asynchronous as never, { numClasses: K }).predict(xs, 0.5, 'score', labels),
    ).rejects.toThrow(/got a Promise \(the classifier must be synchronous/);
    tf.dispose([xs, labels]);
  });

  it('refuses classifier options for a ClassifierAdapter, a raw model without sde, and toScoreFn', () => {
    const adapter = wrapClassifier(bayes, { sde: c.sde, numClasses: K });
    expect(() => classifierGuidance(model, adapter, { timeInput: 'index' })).toThrow(
      /options\.timeInput: the classifier is already a ClassifierAdapter/,
    );
    expect(() => classifierGuidance(model, adapter, { numClasses: 5 })).toThrow(/options\.numClasses/);
    expect(classifierGuidance(model, adapter, { numClasses: K }).classifier).toBe(adapter);
    expect(() =>
      classifierGuidance((xi: tf.Tensor, t: tf.Tensor) => c.scoreUnconditional(xi, t), adapter, {}),
    ).toThrow(/options\.sde/);
    expect(() => classifierGuidance(model, adapter, { conditionalModel: 'yes' as never })).toThrow(
      /options\.conditionalModel/,
    );
    expect(() => classifierGuidance(model, adapter, {}).toScoreFn()).toThrow(/needs labels/);
  });
});

describe('a class-conditional model with classifier guidance (conditionalModel: true)', () => {
  it('passes the labels to the model: conditional score + γ ∇log p(y|x)', async () => {
    const c = oracle.case('VE');
    const model = wrapModel((x: tf.Tensor, t: tf.Tensor, y?: tf.Tensor) => c.classModel(x, t, y), {
      sde: c.sde,
    });
    const guidedModel = classifierGuidance(model, (x, t) => c.logPosterior(x, t), {
      numClasses: K,
      scale: 0.5,
      conditionalModel: true,
    });
    const time = 0.25;
    const x = points(c, time, 2);
    const labels = tf.tensor1d(labelValues, 'int32');
    const t = tf.fill([B], time);
    const expected = tf.tidy(() => {
      const sy = c.scoreConditional(x, t, labels);
      return tf.add(sy, tf.mul(tf.sub(sy, c.scoreUnconditional(x, t)), 0.5));
    });
    const out = await guidedModel.predict(x, time, 'score', labels);
    expect(maxRelDiff(out, expected)).toBeLessThan(5e-5);
    tf.dispose([x, labels, t, expected, out]);
  });
});
