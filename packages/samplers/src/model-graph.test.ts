// wrapModel on real GraphModels: converter-format model.json files written here (GraphDef JSON + binary
// weights), served from 127.0.0.1 and loaded with tfjs-converter's loadGraphModel. Every model is checked
// against the same computation written in plain JavaScript (float64).
import { discreteMarginals, discreteSchedule, discreteTimesteps, linearBetas, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import { GraphBuilder, loadGraphFixture } from '@sbm/test-utils/graph-model-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ddimSample } from './ddim.js';
import { wrapModel } from './model-adapter.js';

beforeAll(useCpuBackend);
afterEach(() => {
  vi.restoreAllMocks();
});

const discrete = discreteMarginals(discreteSchedule(linearBetas(1000)));

/** Row-major [B, D] values of a JS reference as a tensor of `shape`. */
const fromRows = (values: number[], shape: readonly number[]) => tf.tensor(values, [...shape], 'float32');

// ε-model of the issue: x float32 [B, 2], t int32 [B]; ε = tanh(x W + 0.001 t v).
const W = [
  [0.8, -0.3],
  [0.2, 0.9],
];
const v = [1.5, -2];
function epsGraph(): GraphBuilder {
  const g = new GraphBuilder();
  g.placeholder('x', 'float32', [-1, 2]);
  g.placeholder('t', 'int32', [-1]);
  g.constant('W', W.flat(), [2, 2]);
  g.constant('v', v, [2]);
  g.constant('scale', [0.001], []);
  g.cast('t_float', 't', 'int32', 'float32');
  g.op('t_scaled', 'Mul', ['t_float', 'scale']);
  g.reshape('t_column', 't_scaled', [-1, 1]);
  g.op('h', 'MatMul', ['x', 'W'], { transpose_a: { b: false }, transpose_b: { b: false } });
  g.op('tv', 'Mul', ['t_column', 'v']);
  g.op('pre', 'AddV2', ['h', 'tv']);
  g.op('th', 'Tanh', ['pre']);
  g.op('eps', 'Identity', ['th']);
  return g;
}
/** The ε-model in JavaScript, at integer steps `steps[b]`. */
function epsReference(x: ArrayLike<number>, steps: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let b = 0; b < steps.length; b++) {
    for (let j = 0; j < 2; j++) {
      out.push(Math.tanh(x[2 * b]! * W[0]![j]! + x[2 * b + 1]! * W[1]![j]! + 0.001 * steps[b]! * v[j]!));
    }
  }
  return out;
}
/** The same model as a JS function for wrapModel: rounds t to the nearest step, as integer-step pipelines do. */
const epsFunction = (x: tf.Tensor, t: tf.Tensor) => {
  const steps = Array.from(t.dataSync(), (s) => Math.round(s));
  return fromRows(epsReference(x.dataSync(), steps), x.shape);
};

describe('GraphModel with an int32 timestep (the issue)', () => {
  it('samples with ddimSample on discrete marginals exactly as the same model written in JavaScript', async () => {
    const graph = await loadGraphFixture(epsGraph());
    expect(graph.inputs.map((i) => [i.name, i.dtype])).toEqual([
      ['x', 'float32'],
      ['t', 'int32'],
    ]);
    const warn = vi.spyOn(console, 'warn');
    const model = wrapModel(graph, { sde: discrete, prediction: 'eps' });
    const reference = wrapModel(epsFunction, { sde: discrete, prediction: 'eps' });
    for (const timesteps of [undefined, discreteTimesteps(1000, 10, 'trailing')]) {
      const a = await ddimSample({ sde: discrete, model, shape: [6, 2], steps: 10, timesteps, seed: 11 });
      const b = await ddimSample({
        sde: discrete,
        model: reference,
        shape: [6, 2],
        steps: 10,
        timesteps,
        seed: 11,
      });
      expect(a.nfe).toBe(10);
      expectTensorsClose(a.samples, b.samples, { rtol: 1e-4, atol: 1e-5 });
      tf.dispose([a.samples, b.samples]);
    }
    // a graph without control flow runs with execute: no "use model.execute() instead" warning
    expect(warn).not.toHaveBeenCalled();
    graph.dispose();
  });

  it('rounds the time to the nearest step and is synchronous (toScoreFn), without leaks', async () => {
    const graph = await loadGraphFixture(epsGraph());
    const model = wrapModel(graph, { sde: discrete, prediction: 'eps' });
    const xs = [0.3, -1.2, 2.5, 0.01];
    const x = tf.tensor2d(xs, [2, 2]);
    for (const [t, step] of [
      [500.4, 500],
      [500.5, 501],
      [500.6, 501],
      [999, 999],
    ] as const) {
      const eps = await model.predict(x, t, 'eps');
      expectTensorsClose(eps, epsReference(xs, [step, step]), {
        rtol: 1e-5,
        atol: 1e-6,
        message: `t = ${t}`,
      });
      eps.dispose();
    }
    // the ε at step 500 differs from ε at the unrounded 500.4 by more than the tolerance above allows
    const rounded = epsReference(xs, [500, 500]);
    const unrounded = epsReference(xs, [500.4, 500.4]);
    expect(Math.max(...rounded.map((e, i) => Math.abs(e - unrounded[i]!)))).toBeGreaterThan(3e-5);
    const scoreFn = model.toScoreFn();
    const times = tf.fill([2], 250) as tf.Tensor1D;
    const score = scoreFn(x, times);
    const sigma = discrete.sigma(250);
    expectTensorsClose(
      score,
      epsReference(xs, [250, 250]).map((e) => -e / sigma),
      { rtol: 1e-5 },
    );
    await expectNoLeaks(() => model.predict(x, 123.3, 'x0'));
    await expectNoLeaks(() => scoreFn(x, times));
    tf.dispose([x, times, score]);
    graph.dispose();
  });

  it('a continuous-time SDE needs timeInput index for integer steps; σ cannot be an int32 input', async () => {
    const graph = await loadGraphFixture(epsGraph());
    const vp = new VPSDE();
    expect(() => wrapModel(graph, { sde: vp, prediction: 'eps' })).toThrow(
      /^options\.timeInput: the time input 't' of GraphModel is int32 \(integer steps\), but 'continuous' maps \[0, T\] to \[0, 1\]/,
    );
    expect(() => wrapModel(graph, { sde: vp, prediction: 'eps', timeInput: 'sigma' })).toThrow(
      /^options\.timeInput: 'sigma' gives noise levels/,
    );
    expect(() => wrapModel(graph, { sde: vp, prediction: 'eps', timeDtype: 'float32' })).toThrow(
      /^options\.timeDtype: the time input 't' of GraphModel is declared int32, got 'float32'/,
    );
    const model = wrapModel(graph, { sde: vp, prediction: 'eps', timeInput: 'index' });
    const x = tf.tensor2d([1, -1], [1, 2]);
    const eps = await model.predict(x, 0.5, 'eps');
    expectTensorsClose(eps, epsReference([1, -1], [Math.round(0.5 * 999)]), { rtol: 1e-5 }); // step 500
    tf.dispose([x, eps]);
    graph.dispose();
  });
});

describe('GraphModel with control flow (Switch/Merge) runs with executeAsync', () => {
  // out = 2x if t < 0.5 else −x: a TF1 cond, which tfjs' execute refuses
  function condGraph(): GraphBuilder {
    const g = new GraphBuilder();
    g.placeholder('x', 'float32', [-1, 2]);
    g.placeholder('t', 'float32', [-1]);
    g.constant('half', [0.5], []);
    g.constant('two', [2], []);
    g.constant('first', [0], [1], 'int32');
    g.op('t0', 'GatherV2', ['t', 'first', 'axis'], {
      Tindices: { type: 'DT_INT32' },
      Taxis: { type: 'DT_INT32' },
    });
    g.constant('axis', [0], [], 'int32');
    g.op('pred_vec', 'Less', ['t0', 'half']);
    g.reshape('pred', 'pred_vec', []);
    g.op('switch', 'Switch', ['x', 'pred']);
    g.op('neg', 'Neg', ['switch']); // output 0: pred false
    g.op('double', 'Mul', ['switch:1', 'two']); // output 1: pred true
    g.op('merge', 'Merge', ['neg', 'double'], { N: { i: '2' } });
    g.op('out', 'Identity', ['merge']);
    return g;
  }

  it('evaluates both branches correctly, refuses toScoreFn and leaks nothing', async () => {
    const graph = await loadGraphFixture(condGraph());
    const warn = vi.spyOn(console, 'warn');
    const model = wrapModel(graph, { sde: new VPSDE(), prediction: 'score' });
    const xs = [0.3, -1.2, 2.5, 0.01];
    const x = tf.tensor2d(xs, [2, 2]);
    const early = await model.predict(x, 0.3, 'score');
    const late = await model.predict(x, 0.7, 'score');
    expectTensorsClose(
      early,
      xs.map((v) => 2 * v),
      { rtol: 1e-6 },
    );
    expectTensorsClose(
      late,
      xs.map((v) => -v),
      { rtol: 1e-6 },
    );
    expect(warn).not.toHaveBeenCalled();
    const times = tf.fill([2], 0.3) as tf.Tensor1D;
    expect(() => model.toScoreFn()(x, times)).toThrow(/toScoreFn needs a synchronous model/);
    await expectNoLeaks(() => model.predict(x, 0.6, 'eps'));
    await expectNoLeaks(() => model.predict(x, 0.2, 'eps'));
    tf.dispose([x, times, early, late]);
    graph.dispose();
  });
});

describe('GraphModel with named SavedModel inputs in their own order', () => {
  // Signature inputs timestep, sample, class_labels (placeholders serving_default_*, as the converter names
  // them); out = 0.5 x (1 + y) + 0.001 t.
  function namedGraph(): { graph: GraphBuilder; signature: Parameters<typeof loadGraphFixture>[1] } {
    const g = new GraphBuilder();
    g.placeholder('serving_default_timestep', 'int32', [-1]);
    g.placeholder('serving_default_sample', 'float32', [-1, 2]);
    g.placeholder('serving_default_class_labels', 'int32', [-1]);
    g.constant('milli', [0.001], []);
    g.constant('one', [1], []);
    g.constant('half', [0.5], []);
    g.cast('t_float', 'serving_default_timestep', 'int32', 'float32');
    g.reshape('t_column', g.op('t_scaled', 'Mul', ['t_float', 'milli']), [-1, 1]);
    g.cast('y_float', 'serving_default_class_labels', 'int32', 'float32');
    g.reshape('y_column', g.op('y_plus', 'AddV2', ['y_float', 'one']), [-1, 1]);
    g.op('xy', 'Mul', ['serving_default_sample', 'y_column']);
    g.op('xy_half', 'Mul', ['xy', 'half']);
    g.op('sum', 'AddV2', ['xy_half', 't_column']);
    g.op('Identity', 'Identity', ['sum']);
    return {
      graph: g,
      signature: {
        inputs: {
          timestep: { name: 'serving_default_timestep:0', dtype: 'int32', shape: [-1] },
          sample: { name: 'serving_default_sample:0', dtype: 'float32', shape: [-1, 2] },
          class_labels: { name: 'serving_default_class_labels:0', dtype: 'int32', shape: [-1] },
        },
        outputs: { output_0: { name: 'Identity:0', dtype: 'float32', shape: [-1, 2] } },
      },
    };
  }
  const namedReference = (x: ArrayLike<number>, step: number, labels: ArrayLike<number>) =>
    Array.from(x, (value, i) => 0.5 * value * (1 + labels[Math.floor(i / 2)]!) + 0.001 * step);

  it('recognizes sample / timestep / class_labels, or takes them from inputNames, and samples with labels', async () => {
    const { graph: g, signature } = namedGraph();
    const graph = await loadGraphFixture(g, signature);
    expect(graph.inputNodes).toEqual(['timestep', 'sample', 'class_labels']);
    const xs = [0.3, -1.2, 2.5, 0.01];
    const x = tf.tensor2d(xs, [2, 2]);
    const labels = tf.tensor1d([3, 0], 'int32');
    const floatLabels = tf.tensor1d([3, 0], 'float32');
    const auto = wrapModel(graph, { sde: discrete, prediction: 'eps' });
    const byName = wrapModel(graph, {
      sde: discrete,
      prediction: 'eps',
      inputNames: { x: 'sample', t: 'serving_default_timestep', labels: 'class_labels' },
    });
    for (const [model, l] of [
      [auto, labels],
      [byName, labels],
      [auto, floatLabels], // cast to the declared int32
    ] as const) {
      const out = await model.predict(x, 250, 'eps', l);
      expectTensorsClose(out, namedReference(xs, 250, [3, 0]), { rtol: 1e-6 });
      out.dispose();
    }
    await expect(auto.predict(x, 250, 'eps')).rejects.toThrow(
      /^labels: the input 'class_labels' of GraphModel takes class labels/,
    );
    // the sampler's labels reach the class_labels input
    const reference = wrapModel(
      (xi: tf.Tensor, t: tf.Tensor, l?: tf.Tensor) =>
        fromRows(namedReference(xi.dataSync(), Math.round(t.dataSync()[0]!), l!.dataSync()), xi.shape),
      { sde: discrete, prediction: 'eps' },
    );
    const sampleLabels = tf.tensor1d([0, 1, 2, 3], 'int32');
    const timesteps = discreteTimesteps(1000, 8, 'trailing');
    const a = await ddimSample({
      sde: discrete,
      model: auto,
      shape: [4, 2],
      timesteps,
      labels: sampleLabels,
      seed: 5,
    });
    const b = await ddimSample({
      sde: discrete,
      model: reference,
      shape: [4, 2],
      timesteps,
      labels: sampleLabels,
      seed: 5,
    });
    expectTensorsClose(a.samples, b.samples, { rtol: 1e-4, atol: 1e-5 });
    await expectNoLeaks(() => auto.predict(x, 10, 'score', labels));
    tf.dispose([x, labels, floatLabels, sampleLabels, a.samples, b.samples]);
    graph.dispose();
  });

  it('an input that is not x, t or labels is listed with every input, shape and dtype', async () => {
    const g = new GraphBuilder();
    g.placeholder('serving_default_sample', 'float32', [-1, 4, 4, 3]);
    g.placeholder('serving_default_timestep', 'int32', [-1]);
    g.placeholder('serving_default_encoder_hidden_states', 'float32', [-1, 77, 768]);
    g.op('Identity', 'Identity', ['serving_default_sample']);
    const graph = await loadGraphFixture(g, {
      inputs: {
        sample: { name: 'serving_default_sample:0', dtype: 'float32', shape: [-1, 4, 4, 3] },
        timestep: { name: 'serving_default_timestep:0', dtype: 'int32', shape: [-1] },
        encoder_hidden_states: {
          name: 'serving_default_encoder_hidden_states:0',
          dtype: 'float32',
          shape: [-1, 77, 768],
        },
      },
      outputs: { output_0: { name: 'Identity:0', dtype: 'float32', shape: [-1, 4, 4, 3] } },
    });
    expect(() => wrapModel(graph, { sde: discrete, prediction: 'eps' })).toThrow(
      "options.inputNames: GraphModel has inputs that are not x, t or labels: 'encoder_hidden_states' " +
        "[-1,77,768] float32 (its inputs are 'sample' [-1,4,4,3] float32, 'timestep' [-1] int32, " +
        "'encoder_hidden_states' [-1,77,768] float32)",
    );
    expect(() => wrapModel(graph, { sde: discrete, inputNames: { t: 'time' } })).toThrow(
      /^options\.inputNames\.t: 'time' is not an input of GraphModel; its inputs are 'sample' \[-1,4,4,3\] float32/,
    );
    graph.dispose();
  });
});

describe('GraphModel with two outputs', () => {
  // outputs variance = x² + t and eps = tanh(x) + 0.01 t, from a signature
  async function twoOutputs() {
    const g = new GraphBuilder();
    g.placeholder('x', 'float32', [-1, 2]);
    g.placeholder('t', 'float32', [-1]);
    g.constant('centi', [0.01], []);
    g.reshape('t_column', 't', [-1, 1]);
    g.op('sq', 'Square', ['x']);
    g.op('var_sum', 'AddV2', ['sq', 't_column']);
    g.op('var_out', 'Identity', ['var_sum']);
    g.op('th', 'Tanh', ['x']);
    g.op('t_small', 'Mul', ['t_column', 'centi']);
    g.op('eps_sum', 'AddV2', ['th', 't_small']);
    g.op('eps_out', 'Identity', ['eps_sum']);
    return loadGraphFixture(g, {
      inputs: {
        x: { name: 'x:0', dtype: 'float32', shape: [-1, 2] },
        t: { name: 't:0', dtype: 'float32', shape: [-1] },
      },
      outputs: {
        variance: { name: 'var_out:0', dtype: 'float32', shape: [-1, 2] },
        eps: { name: 'eps_out:0', dtype: 'float32', shape: [-1, 2] },
      },
    });
  }

  it('chooses an output by name or index, lists them otherwise, and leaks nothing', async () => {
    const graph = await twoOutputs();
    const sde = discrete;
    expect(() => wrapModel(graph, { sde, prediction: 'eps' })).toThrow(
      "options.output: GraphModel has 2 outputs: 'variance' [-1,2] float32, 'eps' [-1,2] float32; choose one by name or index",
    );
    expect(() => wrapModel(graph, { sde, output: 'mean' })).toThrow(
      /^options\.output: 'mean' is not an output/,
    );
    expect(() => wrapModel(graph, { sde, output: 2 })).toThrow(/^options\.output: index 2 is not an output/);
    const xs = [0.3, -1.2, 2.5, 0.01];
    const x = tf.tensor2d(xs, [2, 2]);
    const t = 40;
    const eps = xs.map((value) => Math.tanh(value) + 0.01 * t);
    const variance = xs.map((value) => value * value + t);
    for (const [output, expected] of [
      ['eps', eps],
      [1, eps],
      ['variance', variance],
      [0, variance],
    ] as const) {
      const model = wrapModel(graph, { sde, prediction: 'eps', output });
      const out = await model.predict(x, t, 'eps');
      expectTensorsClose(out, expected, { rtol: 1e-6, message: `output ${output}` });
      out.dispose();
      await expectNoLeaks(() => model.predict(x, 12.5, 'x0'));
    }
    x.dispose();
    graph.dispose();
  });
});

describe('channels-first (NCHW) GraphModel with a fixed input size', () => {
  // x [B, 2, 4, 4] (PyTorch layout, fixed C, H, W); inside, the graph transposes to NHWC and back:
  // out[b, h, w, c] = tanh(s_c x[b, h, w, c] + bias[h, w, c] + 0.1 t_b), returned as [B, 2, 4, 4].
  const s = [0.7, -1.3];
  const bias = Array.from({ length: 4 * 4 * 2 }, (_, i) => 0.05 * i - 0.8);
  function nchwGraph(): GraphBuilder {
    const g = new GraphBuilder();
    g.placeholder('x', 'float32', [-1, 2, 4, 4]);
    g.placeholder('t', 'float32', [-1]);
    g.constant('s', s, [2]);
    g.constant('bias', bias, [1, 4, 4, 2]);
    g.constant('tenth', [0.1], []);
    g.transpose('to_nhwc', 'x', [0, 2, 3, 1]);
    g.op('scaled', 'Mul', ['to_nhwc', 's']);
    g.op('biased', 'AddV2', ['scaled', 'bias']);
    g.reshape('t4', g.op('t_tenth', 'Mul', ['t', 'tenth']), [-1, 1, 1, 1]);
    g.op('pre', 'AddV2', ['biased', 't4']);
    g.op('act', 'Tanh', ['pre']);
    g.transpose('to_nchw', 'act', [0, 3, 1, 2]);
    g.op('out', 'Identity', ['to_nchw']);
    return g;
  }
  /** The model in JavaScript on NHWC data [B, 4, 4, 2]. */
  function nhwcReference(x: ArrayLike<number>, t: number): number[] {
    return Array.from(x, (value, i) => Math.tanh(s[i % 2]! * value + bias[i % 32]! + 0.1 * t));
  }

  it("with layout 'NCHW' it equals the model written in JavaScript on NHWC samples, and samples", async () => {
    const graph = await loadGraphFixture(nchwGraph());
    const sde = new VPSDE();
    const model = wrapModel(graph, { sde, prediction: 'eps', layout: 'NCHW' });
    const x = tf.randomNormal([3, 4, 4, 2], 0, 1, 'float32', 3);
    const out = await model.predict(x, 0.4, 'eps');
    expect(out.shape).toEqual([3, 4, 4, 2]);
    expectTensorsClose(out, nhwcReference(x.dataSync(), 0.4), { rtol: 1e-5, atol: 1e-6 });
    const reference = wrapModel(
      (xi: tf.Tensor, t: tf.Tensor) => fromRows(nhwcReference(xi.dataSync(), t.dataSync()[0]!), xi.shape),
      { sde, prediction: 'eps' },
    );
    const a = await ddimSample({ sde, model, shape: [3, 4, 4, 2], steps: 5, seed: 2 });
    const b = await ddimSample({ sde, model: reference, shape: [3, 4, 4, 2], steps: 5, seed: 2 });
    expectTensorsClose(a.samples, b.samples, { rtol: 1e-4, atol: 1e-5 });
    await expectNoLeaks(() => model.predict(x, 0.8, 'v'));
    await expectNoLeaks(() => model.checkInputShape([3, 4, 4, 2]));
    await expectNoLeaks(() => wrapModel(graph, { sde, prediction: 'eps', layout: 'NCHW' }));
    tf.dispose([x, out, a.samples, b.samples]);
    graph.dispose();
  });

  it('a sampler shape that does not fit the fixed size, or the wrong layout, fails before any evaluation', async () => {
    const graph = await loadGraphFixture(nchwGraph());
    const sde = new VPSDE();
    const execute = vi.spyOn(graph, 'execute');
    const model = wrapModel(graph, { sde, prediction: 'eps', layout: 'NCHW' });
    const before = tf.memory().numTensors;
    expect(() => model.checkInputShape([1, 8, 8, 2])).toThrow(
      "x: the input 'x' of GraphModel has shape [-1,2,4,4], which x [1,8,8,2] (given to the model as " +
        '[1,2,8,8], NCHW) does not fit',
    );
    await expect(ddimSample({ sde, model, shape: [1, 8, 8, 2], steps: 3, seed: 1 })).rejects.toThrow(
      /^x: the input 'x' of GraphModel has shape \[-1,2,4,4\]/,
    );
    const nhwc = wrapModel(graph, { sde, prediction: 'eps' });
    await expect(ddimSample({ sde, model: nhwc, shape: [1, 4, 4, 2], steps: 3, seed: 1 })).rejects.toThrow(
      "x: the input 'x' of GraphModel has shape [-1,2,4,4], which x [1,4,4,2] does not fit; the model looks " +
        "channels-first: set layout: 'NCHW'",
    );
    expect(execute).not.toHaveBeenCalled();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => wrapModel(graph, { sde, layout: 'CHW' as never })).toThrow(/^options\.layout: /);
    graph.dispose();
  });
});
