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

  it('a GraphModel-like object (executeAsync with [x, t, labels]) and an async function work', async () => {
    const graphLike = {
      inputs: [{ shape: [-1, 2] }, { shape: [-1] }, { shape: [-1] }],
      executeAsync: async (inputs: tf.Tensor[]) => {
        const [xi, , labels] = inputs;
        return tf.tidy(() => tf.mul(tf.neg(xi!), tf.reshape(tf.cast(labels!, 'float32'), [-1, 1])));
      },
    };
    const model = wrapModel(graphLike, { sde, prediction: 'score' });
    expect(model.name).toBe('GraphModel');
    const input = x();
    const labels = tf.tensor1d([1, 2], 'int32');
    const out = await model.predict(input, 0.5, 'score', labels);
    expectTensorsClose(out, [-0.3, 1.2, -5, -0.02], { rtol: 1e-6 });
    const asyncModel = wrapModel(async (xi: tf.Tensor) => tf.neg(xi), { sde });
    const out2 = await asyncModel.predict(input, 0.5, 'score');
    expectTensorsClose(
      out2,
      xs.map((v) => -v),
      { rtol: 1e-6 },
    );
    await expectNoLeaks(() => model.predict(input, 0.5, 'eps', labels));
    await expectNoLeaks(() => asyncModel.predict(input, 0.5, 'v'));
    tf.dispose([input, labels, out, out2]);
  });

  it('a wrong output shape names the adapter and both shapes', async () => {
    const input = x();
    const bad = wrapModel((xi: tf.Tensor) => tf.zeros([xi.shape[0]!, 3]), { sde, name: 'myUNet' });
    await expect(bad.predict(input, 0.5, 'score')).rejects.toThrow(
      /^myUNet: model output shape \[2,3\] does not match the input x shape \[2,2\]/,
    );
    const twoOutputs = wrapModel({ predict: () => [tf.zeros([2, 2]), tf.zeros([2, 2])] }, { sde });
    await expect(twoOutputs.predict(input, 0.5, 'score')).rejects.toThrow(
      /^LayersModel: expected the model to return one tensor, got 2/,
    );
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
