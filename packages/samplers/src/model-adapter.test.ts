import '@tensorflow/tfjs-layers';
import { type Parameterization, SbmArgumentError, VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { wrapModel } from './model-adapter.js';
import { odeSample } from './ode-sampler.js';

beforeAll(useCpuBackend);

// Data N(0, c² I) diffused by the VP SDE: p_t = N(0, (α²c² + σ²) I), so every parameterization has a closed
// form: s = −x/(α²c² + σ²), ε = −σ s, x̂0 = α c² x/(α²c² + σ²), v = α ε − σ x̂0.
const c = 2;
const sde = new VPSDE();
function closedForm(p: Parameterization, x: number, t: number): number {
  const a = sde.alpha(t);
  const s = sde.sigma(t);
  const v = a * a * c * c + s * s;
  const score = -x / v;
  const eps = -s * score;
  const x0 = (a * c * c * x) / v;
  return { score, eps, x0, v: a * eps - s * x0 }[p];
}
const xs = [0.3, -1.2, 2.5, 0.01];
const x = () => tf.tensor2d(xs, [2, 2]);
/** A model returning the closed-form `p` prediction, reading t from its input (continuous). */
const oracleModel = (p: Parameterization) => (input: tf.Tensor, t: tf.Tensor) => {
  const tv = t.dataSync();
  const values = input.dataSync();
  return tf.tensor(
    Array.from(values, (v, i) => closedForm(p, v, tv[Math.floor(i / 2)]!)),
    input.shape,
  );
};

describe('wrapModel: output parameterizations', () => {
  const ps: Parameterization[] = ['score', 'eps', 'x0', 'v'];
  it.each(ps)('a %s model is converted exactly to every parameterization', async (from) => {
    const model = wrapModel(oracleModel(from), { sde, prediction: from });
    for (const to of ps) {
      for (const t of [0.05, 0.4, 0.9]) {
        const input = x();
        const out = await model.predict(input, t, to);
        expectTensorsClose(
          out,
          xs.map((v) => closedForm(to, v, t)),
          { rtol: 2e-4, atol: 1e-5, message: `${from} → ${to} at t = ${t}` },
        );
        tf.dispose([input, out]);
      }
    }
  });
});

describe('wrapModel: time input, input scaling, labels', () => {
  const recorder = () => {
    const seen: { t: number[]; tShape: number[]; x: number[]; labels?: number[] } = {
      t: [],
      tShape: [],
      x: [],
    };
    const fn = (input: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) => {
      seen.t = Array.from(t.dataSync());
      seen.tShape = t.shape;
      seen.x = Array.from(input.dataSync());
      seen.labels = labels ? Array.from(labels.dataSync()) : undefined;
      return tf.zerosLike(input);
    };
    return { seen, fn };
  };

  it.each([
    ['continuous', 0.25],
    ['index', 0.25 * 999],
    ['sigma', sde.sigma(0.25)],
  ] as const)("timeInput '%s' gives the model %f", async (timeInput, expected) => {
    const { seen, fn } = recorder();
    const input = x();
    const out = await wrapModel(fn, { sde, timeInput, prediction: 'eps' }).predict(input, 0.25, 'eps');
    expect(seen.tShape).toEqual([2]);
    expect(seen.t[0]).toBeCloseTo(expected, 4);
    expect(seen.t[1]).toBeCloseTo(expected, 4);
    tf.dispose([input, out]);
  });

  it('VE σ input, a time function, input scaling and labels reach the model', async () => {
    const ve = new VESDE();
    const { seen, fn } = recorder();
    const input = x();
    const labels = tf.tensor1d([3, 7], 'int32');
    const model = wrapModel(fn, {
      sde: ve,
      prediction: 'eps',
      timeInput: (t) => 0.25 * Math.log(ve.sigma(t)), // EDM's c_noise
      inputScaling: (t) => 1 / Math.sqrt(ve.sigma(t) ** 2 + 0.25), // EDM's c_in with σ_data = 0.5
      timeShape: 'column',
    });
    const out = await model.predict(input, 0.5, 'eps', labels);
    expect(seen.tShape).toEqual([2, 1]);
    expect(seen.t[0]).toBeCloseTo(0.25 * Math.log(ve.sigma(0.5)), 5);
    const cIn = 1 / Math.sqrt(ve.sigma(0.5) ** 2 + 0.25);
    expectTensorsClose(
      seen.x,
      xs.map((v) => v * cIn),
      { rtol: 1e-5 },
    );
    expect(seen.labels).toEqual([3, 7]);
    tf.dispose([input, out, labels]);
  });

  it('rejects a label batch that does not match x', async () => {
    const input = x();
    const labels = tf.tensor1d([1, 2, 3], 'int32');
    const model = wrapModel(oracleModel('score'), { sde });
    await expect(model.predict(input, 0.5, 'score', labels)).rejects.toThrow(/^labels: expected 2 labels/);
    tf.dispose([input, labels]);
  });
});

describe('wrapModel: model kinds', () => {
  it('a tfjs LayersModel with inputs [x, t] (t as [B, 1]) works as a score model and samples', async () => {
    // score = −x exactly for N(0, I) data under VP: Dense([x, t]) with kernel [[−1, 0], [0, −1], [0, 0]]
    const xIn = tfl.input({ shape: [2] });
    const tIn = tfl.input({ shape: [1] });
    const merged = tfl.layers.concatenate().apply([xIn, tIn]) as tfl.SymbolicTensor;
    const dense = tfl.layers.dense({ units: 2, useBias: false });
    const out = dense.apply(merged) as tfl.SymbolicTensor;
    const layersModel = tfl.model({ inputs: [xIn, tIn], outputs: out });
    dense.setWeights([tf.tensor2d([-1, 0, 0, -1, 0, 0], [3, 2])]);
    const model = wrapModel(layersModel, { sde });
    expect(model.name).toBe('LayersModel');
    const input = x();
    const score = await model.predict(input, 0.3, 'score');
    expectTensorsClose(
      score,
      xs.map((v) => -v),
      { rtol: 1e-6 },
    );
    const eps = await model.predict(input, 0.3, 'eps');
    expectTensorsClose(
      eps,
      xs.map((v) => sde.sigma(0.3) * v),
      { rtol: 1e-5 },
    );
    // with the exact score of N(0, I) the PF-ODE drift −½βx − ½β(−x) vanishes: samples = latents
    const xT = tf.randomNormal([64, 2], 0, 1, 'float32', 1);
    const { samples } = await odeSample({ sde, model, xT });
    expectTensorsClose(samples, xT, { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([input, score, eps, samples, xT]);
    const again = x();
    await expectNoLeaks(() => model.predict(again, 0.5, 'x0'));
    again.dispose();
    layersModel.dispose();
  });

  it('an async function works and leaks nothing (GraphModels: model-graph.test.ts)', async () => {
    const input = x();
    const asyncModel = wrapModel(async (xi: tf.Tensor) => tf.neg(xi), { sde });
    expect(asyncModel.name).toBe('model function');
    const out = await asyncModel.predict(input, 0.5, 'score');
    expectTensorsClose(
      out,
      xs.map((v) => -v),
      { rtol: 1e-6 },
    );
    await expectNoLeaks(() => asyncModel.predict(input, 0.5, 'v'));
    tf.dispose([input, out]);
  });

  it('a wrong output shape names the adapter and both shapes', async () => {
    const input = x();
    const bad = wrapModel((xi: tf.Tensor) => tf.zeros([xi.shape[0]!, 3]), { sde, name: 'myUNet' });
    await expect(bad.predict(input, 0.5, 'score')).rejects.toThrow(
      /^myUNet: model output shape \[2,3\] does not match the input x shape \[2,2\]/,
    );
    const before = tf.memory().numTensors;
    const twoOutputs = wrapModel(() => [tf.zeros([2, 2]), tf.zeros([2, 2])], { sde });
    await expect(twoOutputs.predict(input, 0.5, 'score')).rejects.toThrow(
      /^model function: expected the model to return one tensor, got 2; choose one with options\.output/,
    );
    expect(tf.memory().numTensors).toBe(before); // the returned tensors were disposed
    input.dispose();
  });

  it('toScoreFn gives a synchronous ScoreFn for sync models (usable by sde.reverse) and refuses async ones', () => {
    const input = x();
    const scoreFn = wrapModel(oracleModel('eps'), { sde, prediction: 'eps' }).toScoreFn();
    const t = tf.fill([2], 0.3) as tf.Tensor1D;
    const s = scoreFn(input, t);
    expectTensorsClose(
      s,
      xs.map((v) => closedForm('score', v, 0.3)),
      { rtol: 2e-4 },
    );
    const { drift, diffusion } = sde.reverse(scoreFn, { probabilityFlow: true }).sde(input, 0.3);
    const asyncFn = wrapModel(async (xi: tf.Tensor) => tf.neg(xi), { sde }).toScoreFn();
    expect(() => asyncFn(input, t)).toThrow(/toScoreFn needs a synchronous model/);
    tf.dispose([input, t, s, drift, diffusion]);
  });

  it('rejects bad options', () => {
    expect(() => wrapModel(42 as never, { sde })).toThrow(/^model: expected a function/);
    expect(() => wrapModel(oracleModel('eps'), { sde, prediction: 'noise' as never })).toThrow(
      /^options\.prediction: /,
    );
    expect(() => wrapModel(oracleModel('eps'), { sde, timeInput: 'steps' as never })).toThrow(
      /^options\.timeInput: /,
    );
    expect(() => wrapModel(oracleModel('eps'), {} as never)).toThrow(SbmArgumentError);
  });
});

describe('wrapModel: time dtype and shape, layout and outputs for model functions', () => {
  it("timeDtype 'int32' rounds to the nearest step; timeShape 'scalar' gives one time for the batch", async () => {
    const seen: { dtype?: string; shape?: number[]; values?: number[] } = {};
    const fn = (input: tf.Tensor, t: tf.Tensor) => {
      seen.dtype = t.dtype;
      seen.shape = t.shape;
      seen.values = Array.from(t.dataSync());
      return tf.zerosLike(input);
    };
    const input = x();
    const model = wrapModel(fn, { sde, prediction: 'eps', timeInput: 'index', timeDtype: 'int32' });
    for (const [t, step] of [
      [0.25, 250], // 249.75
      [0.5, 500], // 499.5: halves round up
      [0.1, 100], // 99.9
    ] as const) {
      tf.dispose(await model.predict(input, t, 'eps'));
      expect(seen).toEqual({ dtype: 'int32', shape: [2], values: [step, step] });
    }
    const scalar = wrapModel(fn, { sde, prediction: 'eps', timeShape: 'scalar' });
    tf.dispose(await scalar.predict(input, 0.3, 'eps'));
    expect(seen.shape).toEqual([]);
    expect(seen.dtype).toBe('float32');
    expect(seen.values![0]).toBeCloseTo(0.3, 6);
    await expectNoLeaks(() => model.predict(input, 0.7, 'eps'));
    input.dispose();
  });

  it("layout 'NCHW' gives the model [B, C, H, W] and transposes its output back", async () => {
    // NCHW model: out[b, c, h, w] = (c + 1) x[b, c, h, w] + (4c + 2h + w); reference written on NHWC indices
    const model = wrapModel(
      (xi: tf.Tensor) => {
        expect(xi.shape).toEqual([2, 3, 2, 2]);
        return tf.tidy(() => {
          const scale = tf.tensor([1, 2, 3], [1, 3, 1, 1]);
          const offset = tf.tensor(
            Array.from({ length: 12 }, (_, i) => i),
            [1, 3, 2, 2],
          );
          return tf.add(tf.mul(xi, scale), offset);
        });
      },
      { sde, prediction: 'eps', layout: 'NCHW' },
    );
    const input = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 8); // NHWC
    const values = input.dataSync();
    const expected = Array.from(values, (v, i) => {
      const c = i % 3;
      const w = Math.floor(i / 3) % 2;
      const h = Math.floor(i / 6) % 2;
      return (c + 1) * v + 4 * c + 2 * h + w;
    });
    const out = await model.predict(input, 0.5, 'eps');
    expect(out.shape).toEqual([2, 2, 2, 3]);
    expectTensorsClose(out, expected, { rtol: 1e-6 });
    await expectNoLeaks(() => model.predict(input, 0.5, 'score'));
    tf.dispose([input, out]);
  });

  it('options.output picks from an array or a map a function returns', async () => {
    const input = x();
    const arrayFn = (xi: tf.Tensor) => [tf.mul(xi, 2), tf.neg(xi)];
    const mapFn = (xi: tf.Tensor) => ({ sample: tf.mul(xi, 3), variance: tf.onesLike(xi) });
    const cases = [
      [wrapModel(arrayFn, { sde, output: 1 }), xs.map((v) => -v)],
      [wrapModel(mapFn, { sde, output: 'sample' }), xs.map((v) => 3 * v)],
    ] as const;
    for (const [model, expected] of cases) {
      const out = await model.predict(input, 0.5, 'score');
      expectTensorsClose(out, expected, { rtol: 1e-6 });
      out.dispose();
      await expectNoLeaks(() => model.predict(input, 0.5, 'eps'));
    }
    await expect(wrapModel(mapFn, { sde }).predict(input, 0.5, 'score')).rejects.toThrow(
      /^model function: expected the model to return one tensor, got 2 \(sample, variance\)/,
    );
    await expect(wrapModel(mapFn, { sde, output: 'mean' }).predict(input, 0.5, 'score')).rejects.toThrow(
      /^options\.output: 'mean' is not among the outputs 'sample', 'variance'/,
    );
    await expect(wrapModel(arrayFn, { sde, output: 2 }).predict(input, 0.5, 'score')).rejects.toThrow(
      /^options\.output: index 2, but model function returned 2 tensors/,
    );
    input.dispose();
  });

  it('rejects options that do not fit', () => {
    const fn = oracleModel('eps');
    expect(() => wrapModel(fn, { sde, inputNames: { x: 'sample' } })).toThrow(
      /^options\.inputNames: a model function is called as fn\(x, t, labels\)/,
    );
    expect(() => wrapModel(fn, { sde, timeDtype: 'float64' as never })).toThrow(/^options\.timeDtype: /);
    expect(() => wrapModel(fn, { sde, timeShape: 'row' as never })).toThrow(/^options\.timeShape: /);
    expect(() => wrapModel(fn, { sde, output: -1 })).toThrow(/^options\.output: expected an integer index/);
    expect(() => wrapModel(fn, { sde, output: true as never })).toThrow(
      /^options\.output: expected an output name/,
    );
    expect(() => wrapModel(fn, { sde, timeDtype: 'int32' })).toThrow(
      /^options\.timeInput: the time input is int32 \(integer steps\), but 'continuous' maps \[0, T\] to \[0, 1\]/,
    );
    expect(() => wrapModel(fn, { sde, timeDtype: 'int32', timeInput: (t) => 1.5 * t })).toThrow(
      /^options\.timeInput: .*the time function maps \[0, T\] to \[0, 1\.5\]/,
    );
    expect(wrapModel(fn, { sde, timeDtype: 'int32', timeInput: (t) => 10 * t }).name).toBe('model function');
    expect(wrapModel(fn, { sde, timeDtype: 'int32', timeInput: 'index' }).name).toBe('model function');
  });
});
