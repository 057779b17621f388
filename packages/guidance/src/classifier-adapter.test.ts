// wrapClassifier on real tfjs-layers classifiers with a known function, logits = W x + b τ (τ the classifier's
// time input), whose log-softmax gradient is W_y − Σ_k p_k W_k with p = softmax(W x + b τ), computed here in
// float64 JavaScript; the time conversions ('index' with N = 1000, 'sigma') against their closed forms.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import { wrapModel } from '@sbm/samplers';
import { VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose } from '@sbm/test-utils';
// (the converter-format graph writer of @sbm/samplers' GraphModel tests)
import { GraphBuilder, loadGraphFixture } from '@sbm/test-utils/graph-model-fixtures';
import { fileSystemIO } from '@sbm/unet/node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { wrapClassifier } from './classifier-adapter.js';
import { classifierGuidance } from './classifier-guidance.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (n) => import(n) }));

const D = 3;
const K = 4;
const W = [
  [0.9, -0.4, 0.3],
  [-0.2, 0.7, 0.5],
  [0.4, 0.1, -0.8],
  [-0.6, -0.3, 0.2],
];
const xRows = [
  [0.3, -1.2, 0.8],
  [1.1, 0.4, -0.5],
  [-0.7, 0.9, 0.2],
];
const labelRows = [2, 0, 3];

/**
 * A functional LayersModel with inputs in the order [t [B], x [B, D]] (named 't' and 'x') computing
 * logits = x Wᵀ + t bᵀ with two bias-free Dense layers.
 */
function linearClassifier(b: number[]): tfl.LayersModel {
  const tIn = tfl.input({ shape: [], name: 't' });
  const xIn = tfl.input({ shape: [D], name: 'x' });
  const wDense = tfl.layers.dense({ units: K, useBias: false });
  const bDense = tfl.layers.dense({ units: K, useBias: false });
  const wx = wDense.apply(xIn) as tfl.SymbolicTensor;
  const column = tfl.layers.reshape({ targetShape: [1] }).apply(tIn) as tfl.SymbolicTensor;
  const bt = bDense.apply(column) as tfl.SymbolicTensor;
  const logits = tfl.layers.add().apply([wx, bt]) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: [tIn, xIn], outputs: logits });
  const kernel = tf.tensor2d(
    Array.from({ length: D }, (_, d) => W.map((row) => row[d]!)),
    [D, K],
  );
  const bias = tf.tensor2d([b], [1, K]);
  wDense.setWeights([kernel]);
  bDense.setWeights([bias]);
  tf.dispose([kernel, bias]);
  return model;
}

/** logits W x + b τ and ∇_x log softmax(logits)[y] = W_y − Σ_k p_k W_k, in float64. */
function reference(b: number[], tau: number): { logits: number[][]; gradient: number[][] } {
  const logits = xRows.map((x) => W.map((w, k) => w.reduce((s, v, d) => s + v * x[d]!, 0) + b[k]! * tau));
  const gradient = logits.map((row, i) => {
    const max = Math.max(...row);
    const e = row.map((v) => Math.exp(v - max));
    const z = e.reduce((s, v) => s + v, 0);
    const p = e.map((v) => v / z);
    const y = labelRows[i]!;
    return Array.from({ length: D }, (_, d) => W[y]![d]! - p.reduce((s, pk, k) => s + pk * W[k]![d]!, 0));
  });
  return { logits, gradient };
}

describe('a LayersModel classifier with a known function', () => {
  it("'index' (N = 1000): time input t·999, logits W x + b τ and gradient W_y − Σ p_k W_k", async () => {
    const sde = new VPSDE();
    const b = [0.004, -0.003, 0.001, 0.002];
    const net = linearClassifier(b);
    const classifier = wrapClassifier(net, { sde, numClasses: K, timeInput: 'index', numTrainSteps: 1000 });
    const t = 0.37;
    const tau = t * 999;
    expect(classifier.timeValue(t)).toBeCloseTo(tau, 12);
    const { logits, gradient } = reference(b, tau);
    const x = tf.tensor2d(xRows);
    const labels = tf.tensor1d(labelRows, 'int32');
    const out = classifier.logits(x, t);
    expectTensorsClose(out, logits.flat(), { rtol: 1e-5, atol: 1e-5 });
    const g = classifier.gradient(x, t, labels);
    expect(g.shape).toEqual([3, D]);
    expectTensorsClose(g, gradient.flat(), { rtol: 1e-5, atol: 1e-6 });
    await expectNoLeaks(() => classifier.logits(x, t));
    await expectNoLeaks(() => classifier.gradient(x, t, labels));
    tf.dispose([x, labels, out, g]);
    net.dispose();
  });

  it("'sigma' (VE): time input σ(t) = σ_min (σ_max/σ_min)^t", () => {
    const sde = new VESDE(); // σ_min = 0.01, σ_max = 50
    const b = [0.8, -0.5, 0.3, -0.1];
    const net = linearClassifier(b);
    const classifier = wrapClassifier(net, { sde, numClasses: K, timeInput: 'sigma' });
    const t = 0.6;
    const sigma = 0.01 * (50 / 0.01) ** t;
    expect(classifier.timeValue(t)).toBeCloseTo(sigma, 10);
    const { logits, gradient } = reference(b, sigma);
    const x = tf.tensor2d(xRows);
    const labels = tf.tensor1d(labelRows, 'int32');
    const out = classifier.logits(x, t);
    expectTensorsClose(out, logits.flat(), { rtol: 1e-5, atol: 1e-5 });
    const g = classifier.gradient(x, t, labels);
    expectTensorsClose(g, gradient.flat(), { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([x, labels, out, g]);
    net.dispose();
  });

  it('guides a score model: s + γ (W_y − Σ p_k W_k)', async () => {
    const sde = new VPSDE();
    const b = [0.004, -0.003, 0.001, 0.002];
    const net = linearClassifier(b);
    const model = wrapModel((x: tf.Tensor) => tf.mul(x, -1), { sde }); // s(x) = −x
    const guided = classifierGuidance(model, net, {
      numClasses: K,
      timeInput: 'index',
      numTrainSteps: 1000,
      scale: 3,
    });
    const t = 0.52;
    const { gradient } = reference(b, t * 999);
    const x = tf.tensor2d(xRows);
    const labels = tf.tensor1d(labelRows, 'int32');
    const out = await guided.predict(x, t, 'score', labels);
    const expected = xRows.flatMap((row, i) => row.map((v, d) => -v + 3 * gradient[i]![d]!));
    expectTensorsClose(out, expected, { rtol: 1e-5, atol: 1e-5 });
    tf.dispose([x, labels, out]);
    net.dispose();
  });

  it('saved and reloaded through tfjs (fileSystemIO) gives the same logits and gradient', async () => {
    const sde = new VPSDE();
    const b = [0.004, -0.003, 0.001, 0.002];
    const net = linearClassifier(b);
    const dir = await mkdtemp(join(tmpdir(), 'sbm-classifier-'));
    let reloaded: tfl.LayersModel;
    try {
      await net.save(fileSystemIO(dir));
      reloaded = await tfl.loadLayersModel(fileSystemIO(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    expect(reloaded.inputNames).toEqual(['t', 'x']);
    const options = { sde, numClasses: K, timeInput: 'index' as const };
    const before = wrapClassifier(net, options);
    const after = wrapClassifier(reloaded, options);
    const t = 0.8;
    const { gradient } = reference(b, t * 999);
    const x = tf.tensor2d(xRows);
    const labels = tf.tensor1d(labelRows, 'int32');
    const g0 = before.gradient(x, t, labels);
    const g1 = after.gradient(x, t, labels);
    expectTensorsClose(g1, g0, { rtol: 1e-6, atol: 1e-7 });
    expectTensorsClose(g1, gradient.flat(), { rtol: 1e-5, atol: 1e-6 });
    await expectNoLeaks(() => after.gradient(x, t, labels));
    tf.dispose([x, labels, g0, g1]);
    net.dispose();
    reloaded.dispose();
  });

  it('finds x and t by position when the names are not recognized, or by options.inputNames', () => {
    const sde = new VPSDE();
    // inputs [features [B, D], noise_cond [B, 1]]: names not recognized, so positional [x, t]
    const xIn = tfl.input({ shape: [D], name: 'features' });
    const tIn = tfl.input({ shape: [1], name: 'noise_cond' });
    const dense = tfl.layers.dense({ units: K, useBias: false, kernelInitializer: 'ones' });
    const out = tfl.layers
      .add()
      .apply([
        dense.apply(xIn) as tfl.SymbolicTensor,
        tfl.layers
          .dense({ units: K, useBias: false, kernelInitializer: 'ones' })
          .apply(tIn) as tfl.SymbolicTensor,
      ]) as tfl.SymbolicTensor;
    const net = tfl.model({ inputs: [xIn, tIn], outputs: out });
    // logits_k = Σ_d x_d + τ for every k; a [B, 1] time input is fed as a column
    const classifier = wrapClassifier(net, { sde, numClasses: K, timeInput: (t) => 10 * t });
    const x = tf.tensor2d(xRows);
    const l = classifier.logits(x, 0.25);
    expectTensorsClose(
      l,
      xRows.flatMap((row) => Array<number>(K).fill(row.reduce((s, v) => s + v, 0) + 2.5)),
      { rtol: 1e-6, atol: 1e-6 },
    );
    const named = wrapClassifier(net, {
      sde,
      numClasses: K,
      timeInput: (t) => 10 * t,
      inputNames: { x: 'features', t: 'noise_cond' },
    });
    const l2 = named.logits(x, 0.25);
    expectTensorsClose(l2, l, { rtol: 0, atol: 0 });
    expect(() => wrapClassifier(net, { sde, numClasses: K, inputNames: { t: 'time' } })).toThrow(
      /options\.inputNames\.t: 'time' is not among the inputs/,
    );
    tf.dispose([x, l, l2]);
    net.dispose();
  });
});

describe('a GraphModel classifier (converter-format model.json loaded with loadGraphModel)', () => {
  it("executes [x, t] by name and differentiates: logits x Wᵀ + t bᵀ with 'index' time", async () => {
    const b = [0.004, -0.003, 0.001, 0.002];
    const g = new GraphBuilder();
    g.placeholder('t', 'float32', [-1]);
    g.placeholder('x', 'float32', [-1, D]);
    g.constant('Wt', Array.from({ length: D }, (_, d) => W.map((row) => row[d]!)).flat(), [D, K]);
    g.constant('b', b, [K]);
    g.reshape('t_column', 't', [-1, 1]);
    g.op('wx', 'MatMul', ['x', 'Wt'], { transpose_a: { b: false }, transpose_b: { b: false } });
    g.op('bt', 'Mul', ['t_column', 'b']);
    g.op('logits', 'AddV2', ['wx', 'bt']);
    const graph = await loadGraphFixture(g);
    const classifier = wrapClassifier(graph, { sde: new VPSDE(), numClasses: K, timeInput: 'index' });
    const t = 0.45;
    const { logits, gradient } = reference(b, t * 999);
    const x = tf.tensor2d(xRows);
    const labels = tf.tensor1d(labelRows, 'int32');
    const out = classifier.logits(x, t);
    expectTensorsClose(out, logits.flat(), { rtol: 1e-5, atol: 1e-5 });
    const grad = classifier.gradient(x, t, labels);
    expectTensorsClose(grad, gradient.flat(), { rtol: 1e-5, atol: 1e-6 });
    await expectNoLeaks(() => classifier.gradient(x, t, labels));
    tf.dispose([x, labels, out, grad]);
    graph.dispose();
  });
});

describe('the time input of a classifier function', () => {
  it("int32 'index' rounds t·(N − 1); 'scalar' and 'column' shapes", () => {
    const sde = new VPSDE();
    const seen: { dtype: string; shape: number[]; values: number[] }[] = [];
    const fn = (x: tf.Tensor, t: tf.Tensor) => {
      seen.push({ dtype: t.dtype, shape: t.shape.slice(), values: Array.from(t.dataSync()) });
      return tf.tidy(() => tf.matMul(x, tf.ones([D, K])));
    };
    const x = tf.tensor2d(xRows);
    const cases = [
      {
        options: { timeInput: 'index' as const, timeDtype: 'int32' as const },
        dtype: 'int32',
        shape: [3],
        value: 370,
      },
      {
        options: { timeInput: 'index' as const, numTrainSteps: 100 },
        dtype: 'float32',
        shape: [3],
        value: 0.37 * 99,
      },
      { options: { timeShape: 'scalar' as const }, dtype: 'float32', shape: [], value: 0.37 },
      {
        options: { timeInput: 'sigma' as const, timeShape: 'column' as const },
        dtype: 'float32',
        shape: [3, 1],
      },
    ];
    for (const c of cases) {
      const classifier = wrapClassifier(fn, { sde, numClasses: K, ...c.options });
      tf.dispose(classifier.logits(x, 0.37));
      const got = seen.pop()!;
      expect(got.dtype).toBe(c.dtype);
      expect(got.shape).toEqual(c.shape);
      // VP: σ(t)² = 1 − exp(−(β_min t + ½ (β_max − β_min) t²)), β ∈ [0.1, 20]
      const value = c.value ?? Math.sqrt(1 - Math.exp(-(0.1 * 0.37 + 0.5 * 19.9 * 0.37 * 0.37)));
      for (const v of got.values) expect(v).toBeCloseTo(value, 5);
    }
    x.dispose();
  });
});

describe('wrapClassifier errors', () => {
  const sde = new VPSDE();
  const fn = (x: tf.Tensor) => tf.tidy(() => tf.matMul(x, tf.ones([D, K])));

  it('refuses bad options', () => {
    expect(() => wrapClassifier(fn, { sde, numClasses: 1 })).toThrow(/options\.numClasses: .*integer >= 2/);
    expect(() => wrapClassifier(fn, { numClasses: K } as never)).toThrow(/options\.sde/);
    expect(() => wrapClassifier(fn, { sde, numClasses: K, timeInput: 'steps' as never })).toThrow(
      /options\.timeInput: expected 'continuous', 'index', 'sigma' or a function/,
    );
    expect(() => wrapClassifier(fn, { sde, numClasses: K, timeInput: 'index', numTrainSteps: 1.5 })).toThrow(
      /options\.numTrainSteps/,
    );
    expect(() => wrapClassifier(fn, { sde, numClasses: K, timeInput: 'sigma', timeDtype: 'int32' })).toThrow(
      /options\.timeInput: 'sigma' gives noise levels/,
    );
    expect(() => wrapClassifier(fn, { sde, numClasses: K, timeShape: 'row' as never })).toThrow(
      /options\.timeShape/,
    );
    expect(() => wrapClassifier(fn, { sde, numClasses: K, inputNames: { x: 'x' } })).toThrow(
      /options\.inputNames/,
    );
    expect(() => wrapClassifier({} as never, { sde, numClasses: K })).toThrow(
      /classifier: expected a function/,
    );
  });

  it('refuses a model with other than two inputs, and a time dtype that contradicts the declared one', () => {
    const a = tfl.input({ shape: [D], name: 'x' });
    const b = tfl.input({ shape: [D], name: 'y' });
    const c = tfl.input({ shape: [], name: 't' });
    const out = tfl.layers.dense({ units: K }).apply(tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor);
    const three = tfl.model({ inputs: [a, b, c], outputs: out as tfl.SymbolicTensor });
    expect(() => wrapClassifier(three, { sde, numClasses: K })).toThrow(/has 3 inputs .*expected two/);
    const net = linearClassifier([0, 0, 0, 0]); // float32 time input
    expect(() => wrapClassifier(net, { sde, numClasses: K, timeDtype: 'int32' })).toThrow(
      /options\.timeDtype: the time input .* is declared float32/,
    );
    three.dispose();
    net.dispose();
  });

  it('refuses a time outside [0, T] and a LayersModel whose output does not match the class count', () => {
    const net = linearClassifier([0, 0, 0, 0]);
    const classifier = wrapClassifier(net, { sde, numClasses: 5 });
    const x = tf.tensor2d(xRows);
    expect(() => classifier.logits(x, 1.5)).toThrow(/t: expected a time in \[0, 1\]/);
    expect(() => classifier.logits(x, 0.5)).toThrow(
      /classifier: a classifier whose output does not match the class count: expected logits \[B, K\] = \[3, 5\]/,
    );
    x.dispose();
    net.dispose();
  });
});
