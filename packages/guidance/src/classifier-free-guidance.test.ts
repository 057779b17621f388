import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import {
  DDIMStepper,
  ddimSample,
  dpmSolverPlusPlusSample,
  edmSample,
  type ModelFunction,
  odeSample,
  pcSample,
  wrapModel,
} from '@sbm/samplers';
import { type Parameterization, SbmArgumentError, VPSDE } from '@sbm/sde';
import { createRng, expectNoLeaks, sampleCovariance, sampleMean } from '@sbm/test-utils';
import { createUNet, unetPreset } from '@sbm/unet';
import { fileSystemIO } from '@sbm/unet/node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { classifierFreeGuidance } from './classifier-free-guidance.js';
import { type ConditionalMixtureCase, conditionalMixture2D } from './conditional-mixture.test-support.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (n) => import(n) }));

// The model is the exact class-conditional mixture oracle: labels < K give the class's perturbed Gaussian
// score, the null label K the mixture's score, so every guided prediction has a closed form.
const oracle = conditionalMixture2D();
const K = oracle.numClasses;
const NULL = oracle.nullLabel;
const B = 12;
const points = Float32Array.from(createRng(5).normals(2 * B), (v) => 1.2 * v);
const classes = Int32Array.from({ length: B }, (_, i) => i % K);

/** The oracle as a model in `prediction`, from its exact score: ε = −σ s, x0 = (x + σ² s)/α, v = α ε − σ x0. */
function oracleModel(c: ConditionalMixtureCase, prediction: Parameterization): ModelFunction {
  return (x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) =>
    tf.tidy(() => {
      const s = c.classModel(x, t, labels);
      const { alpha, sigma } = c.coefficients(t.dataSync()[0]!);
      const eps = tf.mul(s, -sigma);
      const x0 = tf.div(tf.add(x, tf.mul(s, sigma * sigma)), alpha);
      if (prediction === 'score') return s;
      if (prediction === 'eps') return eps;
      if (prediction === 'x0') return x0;
      return tf.sub(tf.mul(eps, alpha), tf.mul(x0, sigma));
    });
}

/** Exact conditional and unconditional scores at (points, t) in float64 copies. */
function exactScores(c: ConditionalMixtureCase, t: number): { cond: Float64Array; uncond: Float64Array } {
  const x = tf.tensor2d(points, [B, 2]);
  const times = tf.fill([B], t);
  const cond = c.scoreConditional(x, times, classes);
  const uncond = c.scoreUnconditional(x, times);
  const out = { cond: Float64Array.from(cond.dataSync()), uncond: Float64Array.from(uncond.dataSync()) };
  tf.dispose([x, times, cond, uncond]);
  return out;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return m;
}

async function guidedPrediction(
  model: ReturnType<typeof classifierFreeGuidance>,
  t: number,
  to: Parameterization,
): Promise<Float32Array> {
  const x = tf.tensor2d(points, [B, 2]);
  const labels = tf.tensor1d(classes, 'int32');
  const out = await model.predict(x, t, to, labels);
  const values = out.dataSync() as Float32Array;
  tf.dispose([x, labels, out]);
  return values;
}

/** Lin et al. (2024) rescale in float64 per example of [B, 2] rows: g (φ std(c)/std(g) + 1 − φ). */
function rescaled(g: Float64Array, c: Float64Array, phi: number): Float64Array {
  const std = (v: Float64Array, i: number) => Math.abs(v[2 * i]! - v[2 * i + 1]!) / 2; // population std of 2 values
  const out = new Float64Array(g.length);
  for (let i = 0; i < B; i++) {
    const f = phi * (std(c, i) / std(g, i)) + 1 - phi;
    out[2 * i] = g[2 * i]! * f;
    out[2 * i + 1] = g[2 * i + 1]! * f;
  }
  return out;
}

describe('classifierFreeGuidance: the guided prediction against the exact mixture', () => {
  for (const c of oracle.cases) {
    it(`${c.name}: w = 0 → p_t(x), w = 1 → p_t(x | y), w = 0.5, 2, 3.5 → u + w (c − u)`, async () => {
      for (const t of [0.05, 0.4, 0.9]) {
        const { cond, uncond } = exactScores(c, t);
        for (const w of [0, 0.5, 1, 2, 3.5]) {
          const guided = classifierFreeGuidance(oracleModel(c, 'score'), {
            scale: w,
            numClasses: K,
            adapter: { sde: c.sde },
          });
          const got = await guidedPrediction(guided, t, 'score');
          const expected = cond.map((v, i) => uncond[i]! + w * (v - uncond[i]!));
          expect(maxRelDiff(got, expected), `${c.name} t=${t} w=${w}`).toBeLessThan(2e-5);
        }
      }
    });
  }

  it('the combination is the same in every parameterization (ε, x0, v, score); the rescale is not', async () => {
    const c = oracle.case('VP');
    const t = 0.3;
    const { alpha, sigma } = c.coefficients(t);
    const { cond, uncond } = exactScores(c, t);
    const w = 2.5;
    const guidedScore = cond.map((v, i) => uncond[i]! + w * (v - uncond[i]!));
    const plain: Record<string, Float32Array> = {};
    const withRescale: Record<string, Float32Array> = {};
    for (const prediction of ['score', 'eps', 'x0', 'v'] as const) {
      const inner = wrapModel(oracleModel(c, prediction), { sde: c.sde, prediction });
      const guided = classifierFreeGuidance(inner, { scale: w, nullLabel: NULL });
      expect(guided.prediction).toBe(prediction);
      plain[prediction] = await guidedPrediction(guided, t, 'score');
      expect(maxRelDiff(plain[prediction], guidedScore), prediction).toBeLessThan(2e-5);
      const rescaledModel = classifierFreeGuidance(inner, { scale: w, nullLabel: NULL, rescale: 0.7 });
      withRescale[prediction] = await guidedPrediction(rescaledModel, t, 'score');
    }
    // Rescale in the model's parameterization, in float64 from the exact scores:
    // ε = −σ s (linear: same std ratio as the score), x0 = (x + σ² s)/α (affine in s: a different ratio).
    const toX0 = (s: Float64Array) => s.map((v, i) => (points[i]! + sigma * sigma * v) / alpha);
    const fromX0 = (x0: Float64Array) => x0.map((v, i) => (alpha * v - points[i]!) / (sigma * sigma));
    const inScore = rescaled(guidedScore, cond, 0.7);
    const inX0 = fromX0(rescaled(toX0(guidedScore), toX0(cond), 0.7));
    expect(maxRelDiff(withRescale.score!, inScore)).toBeLessThan(2e-5);
    expect(maxRelDiff(withRescale.eps!, inScore)).toBeLessThan(2e-5);
    expect(maxRelDiff(withRescale.x0!, inX0)).toBeLessThan(1e-4);
    // ... and it really changes the prediction, differently per parameterization
    expect(maxRelDiff(withRescale.score!, plain.score!)).toBeGreaterThan(0.05);
    expect(maxRelDiff(withRescale.x0!, withRescale.score!)).toBeGreaterThan(0.05);
    expect(maxRelDiff(withRescale.v!, withRescale.score!)).toBeGreaterThan(0.05);
  });

  it('vector conditions: a given null vector or zeros; one call on [x; x] with [labels; null]', async () => {
    const c = oracle.case('VE');
    const t = 0.5;
    const { cond, uncond } = exactScores(c, t);
    for (const nullVector of ['zeros', 'tensor'] as const) {
      const nullLabel = nullVector === 'zeros' ? 'zeros' : tf.fill([K], -1);
      const seen: { batch: number; labels: number[] }[] = [];
      // A vector-conditional model: labels [B, K] one-hot → class score; the null vector → unconditional.
      const vectorModel = (x: tf.Tensor, time: tf.Tensor, labels?: tf.Tensor) => {
        const rows = labels!.arraySync() as number[][];
        seen.push({ batch: x.shape[0]!, labels: rows.flat() });
        const ids = rows.map((r) =>
          r.every((v) => v === (nullVector === 'zeros' ? 0 : -1)) ? NULL : r.indexOf(1),
        );
        return tf.tidy(() => c.classModel(x, time, tf.tensor1d(ids, 'int32')));
      };
      const guided = classifierFreeGuidance(vectorModel, { scale: 3, nullLabel, adapter: { sde: c.sde } });
      const x = tf.tensor2d(points, [B, 2]);
      const labels = tf.cast(tf.oneHot(tf.tensor1d(classes, 'int32'), K), 'float32');
      const out = await guided.predict(x, t, 'score', labels);
      const expected = cond.map((v, i) => uncond[i]! + 3 * (v - uncond[i]!));
      expect(maxRelDiff(out.dataSync(), expected)).toBeLessThan(2e-5);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.batch).toBe(2 * B);
      const nullRow = nullVector === 'zeros' ? [0, 0, 0] : [-1, -1, -1];
      expect(seen[0]!.labels).toEqual([
        ...(labels.arraySync() as number[][]).flat(),
        ...Array(B).fill(nullRow).flat(),
      ]);
      tf.dispose([x, labels, out]);
      if (nullLabel instanceof tf.Tensor) nullLabel.dispose();
    }
  });
});

/** The oracle score model, recording every call's batch, time and labels. */
function countingModel(c: ConditionalMixtureCase) {
  const calls: { batch: number; t: number; labels: number[] }[] = [];
  const fn = (x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) => {
    calls.push({ batch: x.shape[0]!, t: t.dataSync()[0]!, labels: Array.from(labels!.dataSync()) });
    return c.classModel(x, t, labels);
  };
  return { fn, calls };
}

describe('classifierFreeGuidance: one model call per evaluation in every sampler', () => {
  const n = 4;
  const labelValues = [0, 2, 1, 2];
  const doubled = [...labelValues, NULL, NULL, NULL, NULL];
  const c = oracle.case('VP');
  const runs: [
    string,
    (
      model: ReturnType<typeof classifierFreeGuidance>,
      labels: tf.Tensor,
    ) => Promise<{ samples: tf.Tensor; nfe: number }>,
  ][] = [
    [
      'ddimSample',
      (model, labels) => ddimSample({ sde: c.sde, model, shape: [n, 2], steps: 6, seed: 1, labels }),
    ],
    [
      'dpmSolverPlusPlusSample',
      (model, labels) =>
        dpmSolverPlusPlusSample({
          sde: c.sde as VPSDE,
          model,
          shape: [n, 2],
          steps: 7,
          order: 2,
          seed: 1,
          labels,
        }),
    ],
    [
      'pcSample',
      (model, labels) => pcSample({ sde: c.sde, model, shape: [n, 2], steps: 5, seed: 1, labels }),
    ],
    [
      'odeSample',
      (model, labels) =>
        odeSample({ sde: c.sde, model, shape: [n, 2], seed: 1, labels, rtol: 1e-3, atol: 1e-3 }),
    ],
    [
      'edmSample',
      (model, labels) => edmSample({ sde: c.sde, model, shape: [n, 2], steps: 4, seed: 1, labels }),
    ],
  ];
  for (const [name, run] of runs) {
    it(`${name}: calls = NFE, each on a batch of 2B with labels [y; null]`, async () => {
      const { fn, calls } = countingModel(c);
      const guided = classifierFreeGuidance(fn, { scale: 2, numClasses: K, adapter: { sde: c.sde } });
      const labels = tf.tensor1d(labelValues, 'int32');
      const { samples, nfe } = await run(guided, labels);
      expect(nfe).toBeGreaterThan(2);
      expect(calls).toHaveLength(nfe);
      for (const call of calls) {
        expect(call.batch).toBe(2 * n);
        expect(call.labels).toEqual(doubled);
      }
      expect(samples.shape).toEqual([n, 2]);
      tf.dispose([samples, labels]);
    });
  }

  it('guidance interval: doubled calls inside [tLow, tHigh], single conditional calls outside', async () => {
    const { fn, calls } = countingModel(c);
    const [tLow, tHigh] = [0.25, 0.7];
    const guided = classifierFreeGuidance(fn, {
      scale: 2,
      numClasses: K,
      interval: [tLow, tHigh],
      adapter: { sde: c.sde },
    });
    const labels = tf.tensor1d(labelValues, 'int32');
    const { samples, nfe } = await ddimSample({
      sde: c.sde,
      model: guided,
      shape: [n, 2],
      steps: 10,
      labels,
    });
    expect(calls).toHaveLength(nfe);
    const inside = calls.filter((call) => call.t >= tLow && call.t <= tHigh);
    // the uniform grid of 10 times from 1 to 1e-3 (steps of 0.111) has 0.667, 0.556, 0.445, 0.334 in [0.25, 0.7]
    expect(inside.map((call) => call.t.toFixed(3))).toEqual(['0.667', '0.556', '0.445', '0.334']);
    for (const call of calls) {
      const guidedCall = call.t >= tLow && call.t <= tHigh;
      expect(call.batch).toBe(guidedCall ? 2 * n : n);
      expect(call.labels).toEqual(guidedCall ? doubled : labelValues);
    }
    // the sum of batch sizes: 2B inside, B outside
    expect(calls.reduce((s, call) => s + call.batch, 0)).toBe(n * (nfe + inside.length));
    tf.dispose([samples, labels]);
  });

  it('scales 1 and 0 need one call with batch B (labels y, resp. null)', async () => {
    for (const [scale, expectedLabels] of [
      [1, labelValues],
      [0, [NULL, NULL, NULL, NULL]],
    ] as const) {
      const { fn, calls } = countingModel(c);
      const guided = classifierFreeGuidance(fn, { scale, numClasses: K, adapter: { sde: c.sde } });
      const labels = tf.tensor1d(labelValues, 'int32');
      const { samples, nfe } = await ddimSample({
        sde: c.sde,
        model: guided,
        shape: [n, 2],
        steps: 3,
        labels,
      });
      expect(calls).toHaveLength(nfe);
      for (const call of calls) expect([call.batch, call.labels]).toEqual([n, expectedLabels]);
      tf.dispose([samples, labels]);
    }
  });

  it('does not leak tensors through a sampler run, with and without interval and rescale', async () => {
    const labels = tf.tensor1d(labelValues, 'int32');
    for (const options of [{}, { interval: [0.2, 0.6] as const, rescale: 0.5 }, { scale: 0 }, { scale: 1 }]) {
      const guided = classifierFreeGuidance(oracleModel(c, 'eps'), {
        scale: 2,
        numClasses: K,
        adapter: { sde: c.sde, prediction: 'eps' },
        ...options,
      });
      await expectNoLeaks(() =>
        ddimSample({ sde: c.sde, model: guided, shape: [n, 2], steps: 4, seed: 2, labels }),
      );
    }
    const nullVector = tf.zeros([K]);
    const vector = classifierFreeGuidance((x: tf.Tensor, t: tf.Tensor) => c.scoreUnconditional(x, t), {
      scale: 2,
      nullLabel: nullVector,
      adapter: { sde: c.sde },
    });
    const oneHot = tf.cast(tf.oneHot(labels, K), 'float32');
    await expectNoLeaks(() =>
      ddimSample({ sde: c.sde, model: vector, shape: [n, 2], steps: 3, labels: oneHot }),
    );
    tf.dispose([labels, nullVector, oneHot]);
  });
});

describe('classifierFreeGuidance: guided samples concentrate on their class', () => {
  it('VP, DPM-Solver++(2M), 20 steps, class 0: w = 1 is the class Gaussian; the Bayes posterior rises with w', async () => {
    const c = oracle.case('VP');
    const y = 0;
    const n = 1500;
    const labels = tf.fill([n], y, 'int32');
    const xT = tf.tensor2d(Float32Array.from(createRng(21).normals(2 * n)), [n, 2]);
    const meanLogPosterior: number[] = [];
    const confident: number[] = [];
    for (const w of [1, 1.5, 2, 3]) {
      const guided = classifierFreeGuidance(c.classModel, {
        scale: w,
        numClasses: K,
        adapter: { sde: c.sde },
      });
      const { samples } = await dpmSolverPlusPlusSample({
        sde: c.sde as VPSDE,
        model: guided,
        xT,
        steps: 20,
        labels,
      });
      const postTensor = tf.tidy(() => tf.slice(c.logPosterior(samples, tf.zeros([1])), [0, y], [n, 1]));
      const post = Array.from(postTensor.dataSync());
      postTensor.dispose();
      meanLogPosterior.push(post.reduce((s, v) => s + v, 0) / n);
      confident.push(post.filter((v) => v > Math.log(0.99)).length / n);
      if (w === 1) {
        // the class's Gaussian N(m_0, c_0² I): mean within 4 standard errors, variances within 4 SE
        // (√(2/n) c²) plus 0.01 for the discretization
        const data = samples.dataSync();
        const m = sampleMean(data, n, 2);
        const cov = sampleCovariance(data, n, 2);
        const c2 = oracle.stds[y]! ** 2;
        for (let d = 0; d < 2; d++) {
          expect(Math.abs(m[d]! - oracle.means[y]![d]!), `mean[${d}]`).toBeLessThan(
            4 * Math.sqrt(c2 / n) + 0.01,
          );
          expect(Math.abs(cov[d]![d]! - c2), `var[${d}]`).toBeLessThan(4 * c2 * Math.sqrt(2 / n) + 0.01);
        }
        expect(Math.abs(cov[0]![1]!), 'cov[0][1]').toBeLessThan(4 * c2 * Math.sqrt(1 / n) + 0.01);
      }
      samples.dispose();
    }
    // Exact values for w = 1 (E over N(m_0, c_0² I) of log p(0 | x)): independent Monte Carlo in float64
    const truth = oracle.classDistribution(y).sample(20000, createRng(99)).x;
    const logJoint = oracle.weights.map((wk, k) =>
      oracle
        .classDistribution(k)
        .logProb(truth)
        .map((l) => Math.log(wk) + l),
    );
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const l = logJoint.map((row) => row[i]!);
      const max = Math.max(...l);
      sum += l[y]! - (max + Math.log(l.reduce((s, v) => s + Math.exp(v - max), 0)));
    }
    const exactW1 = sum / 20000;
    // log-posteriors are bounded below by about −6 here: 4 standard errors of the n-sample mean ≲ 0.1
    expect(
      Math.abs(meanLogPosterior[0]! - exactW1),
      `w = 1: ${meanLogPosterior[0]} vs ${exactW1}`,
    ).toBeLessThan(0.1);
    for (let i = 1; i < meanLogPosterior.length; i++) {
      expect(meanLogPosterior[i]!, `mean log-posterior ${meanLogPosterior}`).toBeGreaterThan(
        meanLogPosterior[i - 1]!,
      );
      expect(confident[i]!, `share with p(y|x) > 0.99: ${confident}`).toBeGreaterThan(confident[i - 1]!);
    }
    // Measured (wasm): mean log p(0 | x) −0.253, −0.052, −0.020, −0.007 and share above 0.99 of 0.29, 0.44,
    // 0.59, 0.80 for w = 1, 1.5, 2, 3 (exact at w = 1: −0.254).
    tf.dispose([labels, xT]);
  });
});

describe('classifierFreeGuidance: errors', () => {
  const c = oracle.case('VP');
  const adapter = { sde: c.sde };
  const fn = c.classModel;
  const options = { scale: 2, numClasses: K, adapter };
  const expectError = (f: () => unknown, argument: string, message: RegExp) => {
    try {
      f();
    } catch (error) {
      expect(error).toBeInstanceOf(SbmArgumentError);
      expect((error as SbmArgumentError).argument).toBe(argument);
      expect((error as Error).message).toMatch(message);
      return;
    }
    throw new Error(`expected an SbmArgumentError for ${argument}`);
  };

  it('refuses bad options', () => {
    expectError(() => classifierFreeGuidance(fn, { ...options, scale: Number.NaN }), 'options.scale', />= 0/);
    expectError(() => classifierFreeGuidance(fn, { ...options, scale: -1 }), 'options.scale', />= 0/);
    expectError(
      () => classifierFreeGuidance(fn, { ...options, scale: '2' as unknown as number }),
      'options.scale',
      /string/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { ...options, rescale: 1.5 }),
      'options.rescale',
      /\[0, 1\]/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { ...options, rescale: -0.1 }),
      'options.rescale',
      /\[0, 1\]/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { ...options, interval: [0.6, 0.2] }),
      'options.interval',
      /tLow <= tHigh/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { ...options, interval: [0, 2] }),
      'options.interval',
      /T = 1/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { ...options, interval: [0.5] as unknown as [number, number] }),
      'options.interval',
      /\[tLow, tHigh\]/,
    );
    expectError(() => classifierFreeGuidance(fn, { scale: 2, adapter }), 'options.nullLabel', /numClasses/);
    expectError(
      () => classifierFreeGuidance(fn, { scale: 2, nullLabel: 1.5, adapter }),
      'options.nullLabel',
      /integer/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { ...options, numClasses: 0 }),
      'options.numClasses',
      /integer >= 1/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { ...options, nullLabel: 'zeros' }),
      'options.numClasses',
      /vector/,
    );
    expectError(
      () => classifierFreeGuidance(fn, { scale: 2, numClasses: K }),
      'options.adapter',
      /wrapModel options/,
    );
    expectError(
      () => classifierFreeGuidance(wrapModel(fn, adapter), options),
      'options.adapter',
      /already a ModelAdapter/,
    );
  });

  it('refuses missing, mis-sized, non-integer, out-of-range and null labels when evaluated', async () => {
    const guided = classifierFreeGuidance(fn, options);
    const x = tf.tensor2d(points.subarray(0, 8), [4, 2]);
    const cases: [tf.Tensor | undefined, RegExp][] = [
      [undefined, /expected class labels \[4\]/],
      [tf.tensor1d([0, 1, 2], 'int32'), /expected 4 labels/],
      [tf.tensor1d([0, 1.5, 2, 0]), /integers >= 0\), got 1.5 at index 1/],
      [tf.tensor1d([0, -1, 2, 0], 'int32'), /got -1 at index 1/],
      [tf.tensor1d([0, 1, 4, 0], 'int32'), /in \[0, 3\), got 4 at index 2/],
      [tf.tensor1d([0, 1, 2, 3], 'int32'), /in \[0, 3\), got 3 at index 3/],
      [tf.tensor2d([0, 1, 2, 0], [4, 1], 'int32'), /shape \[4\]/],
    ];
    for (const [labels, message] of cases) {
      const error = await guided.predict(x, 0.5, 'score', labels).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, String(message)).toBeInstanceOf(SbmArgumentError);
      expect((error as SbmArgumentError).argument).toBe('labels');
      expect((error as Error).message).toMatch(message);
      labels?.dispose();
    }
    // without numClasses only the null label itself is refused
    const open = classifierFreeGuidance(fn, { scale: 2, nullLabel: NULL, adapter });
    const error = await open
      .predict(x, 0.5, 'score', tf.tensor1d([0, 1, 3, 0], 'int32'))
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/label 3 at index 2 is the null/);
    // a sampler without labels
    await expect(ddimSample({ sde: c.sde, model: guided, shape: [4, 2], steps: 2 })).rejects.toThrow(
      /labels: expected class labels/,
    );
    // vector conditions: the null vector must have the shape and dtype of one condition
    const nullVector = tf.zeros([2]);
    const vector = classifierFreeGuidance(fn, { scale: 2, nullLabel: nullVector, adapter });
    const wrong = tf.zeros([4, 3]);
    await expect(vector.predict(x, 0.5, 'score', wrong)).rejects.toThrow(
      /options.nullLabel: expected the shape of one condition \[3\]/,
    );
    const flat = tf.zeros([4]);
    await expect(vector.predict(x, 0.5, 'score', flat)).rejects.toThrow(
      /labels: expected condition vectors \[4, \.\.\.d\]/,
    );
    tf.dispose([x, nullVector, wrong, flat]);
  });
});

describe('classifierFreeGuidance on a class-conditional @sbm/unet network', () => {
  it('ddimSample and the DDIMStepper run it (one doubled call per step); a saved and reloaded copy agrees', async () => {
    const sde = new VPSDE();
    const net = createUNet(unetPreset('tiny/ddpm', { numClasses: 3, imageSize: 8 }));
    const n = 2;
    const labels = tf.tensor1d([2, 0], 'int32');
    const adapter = { sde, prediction: 'eps' as const, timeInput: 'index' as const };
    const guided = classifierFreeGuidance(net.model, { scale: 2.5, numClasses: 3, adapter });
    // record every call of the network (batch and labels), then run it unchanged
    const original = net.model.apply.bind(net.model);
    const seen: { batch: number; labels: number[] }[] = [];
    const apply = vi.spyOn(net.model, 'apply').mockImplementation((inputs, kwargs) => {
      const xs = inputs as tf.Tensor[];
      seen.push({ batch: xs[0]!.shape[0]!, labels: Array.from(xs[2]!.dataSync()) });
      return original(inputs, kwargs);
    });

    // the guided ε equals u + w (c − u) with c, u from the network called directly
    const x = tf.randomNormal([n, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const eps = await guided.predict(x, 0.6, 'eps', labels);
    expect(apply).toHaveBeenCalledTimes(1);
    expect(seen[0]).toEqual({ batch: 2 * n, labels: [2, 0, 3, 3] }); // the null class is numClasses
    const steps = tf.fill([n], 0.6 * 999) as tf.Tensor1D;
    const c = net.predict(x, steps, { labels: labels as tf.Tensor1D });
    const u = net.predict(x, steps, { labels: tf.fill([n], 3, 'int32') as tf.Tensor1D });
    const expected = tf.tidy(() => tf.add(u, tf.mul(tf.sub(c, u), 2.5)));
    expect(maxRelDiff(eps.dataSync(), expected.dataSync())).toBeLessThan(1e-4);

    // ddimSample: one call per step, each doubled
    apply.mockClear();
    seen.length = 0;
    const xT = tf.randomNormal([n, 8, 8, 3], 0, 1, 'float32', 8);
    const sampled = await ddimSample({ sde, model: guided, xT, steps: 3, labels });
    expect(sampled.nfe).toBe(3);
    expect(apply).toHaveBeenCalledTimes(3);
    for (const call of seen) expect(call).toEqual({ batch: 2 * n, labels: [2, 0, 3, 3] });

    // the stepping API with the same guided model reproduces it
    const stepper = new DDIMStepper({ sde, steps: 3 });
    let state: tf.Tensor = xT.clone();
    for (const info of stepper.schedule()) {
      const out = await guided.predict(state, info.t, 'eps', labels);
      const { prevSample, denoised } = stepper.step(out, info, state);
      tf.dispose([out, denoised, state]);
      state = prevSample;
    }
    expect(apply).toHaveBeenCalledTimes(6);
    expect(maxRelDiff(state.dataSync(), sampled.samples.dataSync())).toBeLessThan(1e-5);

    // a real artifact: the network saved to disk and reloaded by tfjs-layers
    const dir = await mkdtemp(join(tmpdir(), 'sbm-cfg-unet-'));
    let reloaded: tfl.LayersModel;
    try {
      await net.model.save(fileSystemIO(dir));
      reloaded = await tfl.loadLayersModel(fileSystemIO(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const fromDisk = classifierFreeGuidance(reloaded, { scale: 2.5, numClasses: 3, adapter });
    const reloadedSample = await ddimSample({ sde, model: fromDisk, xT, steps: 3, labels });
    expect(reloadedSample.nfe).toBe(3);
    expect(maxRelDiff(reloadedSample.samples.dataSync(), sampled.samples.dataSync())).toBeLessThan(1e-4);
    await expectNoLeaks(() => ddimSample({ sde, model: fromDisk, xT, steps: 2, labels }));

    apply.mockRestore();
    tf.dispose([labels, x, eps, steps, c, u, expected, xT, sampled.samples, state, reloadedSample.samples]);
    reloaded.dispose();
    net.dispose();
  });
});
