// wrapModel on real tfjs-layers models: @sbm/unet's network saved and reloaded with tf.loadLayersModel, a
// model with an int32 timestep (Embedding) and named inputs in its own order, and a model with two outputs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discreteMarginals, discreteSchedule, linearBetas, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import { createUNet, unetPreset } from '@sbm/unet';
import { fileSystemIO } from '@sbm/unet/node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddimSample } from './ddim.js';
import { wrapModel } from './model-adapter.js';

beforeAll(useCpuBackend);

describe("@sbm/unet's network saved and reloaded with tf.loadLayersModel", () => {
  it('wraps with timeInput index, equals the directly called network, and samples with ddimSample', async () => {
    const sde = new VPSDE();
    const net = createUNet(unetPreset('tiny/ddpm')); // inputs x [B, H, W, C], t [B]
    const dir = await mkdtemp(join(tmpdir(), 'sbm-unet-layers-'));
    let reloaded: tfl.LayersModel;
    try {
      await net.model.save(fileSystemIO(dir));
      reloaded = await tfl.loadLayersModel(fileSystemIO(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // (its symbolic tensors are renamed x_1, t_1 when the names are taken in this session; the layers are not)
    expect(reloaded.inputNames).toEqual(['x', 't']);
    expect(reloaded.inputs.map((i) => i.shape)).toEqual([[null, null, null, 3], [null]]);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const steps = tf.fill([2], 0.37 * 999) as tf.Tensor1D;
    // the failure this adapter avoids: predict() expands the rank-1 time input to [B, 1]
    expect(() => reloaded.predict([x, steps])).toThrow(/expected t to have 1 dimension\(s\)/);

    const model = wrapModel(reloaded, { sde, prediction: 'eps', timeInput: 'index' });
    expect(model.name).toBe('LayersModel');
    const eps = await model.predict(x, 0.37, 'eps');
    const direct = net.predict(x, steps);
    expectTensorsClose(eps, direct, { rtol: 1e-5, atol: 1e-6 });

    const reference = wrapModel(
      (xi: tf.Tensor, t: tf.Tensor) => net.predict(xi as tf.Tensor4D, t as tf.Tensor1D),
      {
        sde,
        prediction: 'eps',
        timeInput: 'index',
      },
    );
    const a = await ddimSample({ sde, model, shape: [2, 8, 8, 3], steps: 3, seed: 9 });
    const b = await ddimSample({ sde, model: reference, shape: [2, 8, 8, 3], steps: 3, seed: 9 });
    expect(a.nfe).toBe(3);
    expectTensorsClose(a.samples, b.samples, { rtol: 1e-4, atol: 1e-5 });
    await expectNoLeaks(() => model.predict(x, 0.6, 'x0'));
    const scoreFn = model.toScoreFn();
    const times = tf.fill([2], 0.6) as tf.Tensor1D;
    await expectNoLeaks(() => scoreFn(x, times));
    tf.dispose([x, steps, eps, direct, a.samples, b.samples, times]);
    reloaded.dispose();
    net.dispose();
  });
});

describe('a LayersModel with an int32 timestep and named inputs in its own order', () => {
  // inputs [timestep int32 [B], sample float32 [B, 2]]; out = sample + E[timestep] (an Embedding table)
  function embeddingModel() {
    const tIn = tfl.input({ shape: [], name: 'timestep', dtype: 'int32' });
    const xIn = tfl.input({ shape: [2], name: 'sample' });
    const embedding = tfl.layers.embedding({
      inputDim: 1000,
      outputDim: 2,
      embeddingsInitializer: 'randomNormal',
    });
    const e = embedding.apply(tIn) as tfl.SymbolicTensor;
    const out = tfl.layers.add().apply([xIn, e]) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: [tIn, xIn], outputs: out });
    const table = (embedding.getWeights()[0]!.arraySync() as number[][]).map((row) => row.slice());
    return { model, table };
  }

  it('reads the int32 dtype and the names, rounds the step, and refuses a float time', async () => {
    const { model: layers, table } = embeddingModel();
    const sde = discreteMarginals(discreteSchedule(linearBetas(1000)));
    const model = wrapModel(layers, { sde, prediction: 'eps' });
    const xs = [0.3, -1.2, 2.5, 0.01];
    const x = tf.tensor2d(xs, [2, 2]);
    for (const [t, step] of [
      [123.4, 123],
      [123.6, 124],
      [0, 0],
      [999, 999],
    ] as const) {
      const out = await model.predict(x, t, 'eps');
      expectTensorsClose(
        out,
        xs.map((v, i) => v + table[step]![i % 2]!),
        { rtol: 1e-6, message: `t = ${t}` },
      );
      out.dispose();
    }
    expect(() => wrapModel(layers, { sde, timeDtype: 'float32' })).toThrow(
      /^options\.timeDtype: the time input 'timestep' of LayersModel is declared int32, got 'float32'/,
    );
    expect(() => wrapModel(layers, { sde, timeInput: 'sigma' })).toThrow(/^options\.timeInput: 'sigma'/);
    const swapped = wrapModel(layers, { sde, inputNames: { x: 'timestep', t: 'sample' } });
    await expect(swapped.predict(x, 10, 'eps')).rejects.toThrow(
      /^x: the input 'timestep' of LayersModel has shape \[-1\]/,
    );
    await expectNoLeaks(() => model.predict(x, 500, 'score'));
    x.dispose();
    layers.dispose();
  });
});

describe('a LayersModel with two outputs', () => {
  it('uses the output chosen by name or index and lists the outputs otherwise', async () => {
    const xIn = tfl.input({ shape: [2], name: 'x' });
    const tIn = tfl.input({ shape: [1], name: 't' });
    const merged = tfl.layers.concatenate().apply([xIn, tIn]) as tfl.SymbolicTensor;
    const epsLayer = tfl.layers.dense({ units: 2, useBias: false, name: 'eps' });
    const logVarLayer = tfl.layers.dense({ units: 2, useBias: false, name: 'log_var' });
    const layers = tfl.model({
      inputs: [xIn, tIn],
      outputs: [
        logVarLayer.apply(merged) as tfl.SymbolicTensor,
        epsLayer.apply(merged) as tfl.SymbolicTensor,
      ],
    });
    // eps = [x0 + t, −x1], log_var = [2 x1, t]
    epsLayer.setWeights([tf.tensor2d([1, 0, 0, -1, 1, 0], [3, 2])]);
    logVarLayer.setWeights([tf.tensor2d([0, 0, 2, 0, 0, 1], [3, 2])]);
    const sde = new VPSDE();
    expect(() => wrapModel(layers, { sde })).toThrow(
      /^options\.output: LayersModel has 2 outputs: 'log_var' \[-1,2\] float32, 'eps' \[-1,2\] float32; choose one/,
    );
    const xs = [0.3, -1.2, 2.5, 0.01];
    const x = tf.tensor2d(xs, [2, 2]);
    const t = 0.25;
    const eps = [0.3 + t, 1.2, 2.5 + t, -0.01];
    const logVar = [-2.4, t, 0.02, t];
    for (const [output, expected] of [
      ['eps', eps],
      [1, eps],
      ['log_var', logVar],
    ] as const) {
      const model = wrapModel(layers, { sde, prediction: 'eps', output });
      const out = await model.predict(x, t, 'eps');
      expectTensorsClose(out, expected, { rtol: 1e-6, message: `output ${output}` });
      out.dispose();
      await expectNoLeaks(() => model.predict(x, 0.5, 'score'));
    }
    x.dispose();
    layers.dispose();
  });
});
