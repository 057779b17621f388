import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import { createUNet, type UNet, unetPreset } from '@sbm/unet';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint-file.js';
import { configHash } from './config-hash.js';
import {
  type AdamState,
  readModelWeights,
  restoreTrainState,
  type TrainState,
  trainStateFromCheckpoint,
  trainStateToCheckpoint,
  withModelShapes,
} from './train-state.js';

const PRESET = 'tiny/ddpmpp';

let dir: string;
beforeAll(async () => {
  await useCpuBackend();
  dir = await mkdtemp(join(tmpdir(), 'sbm-train-state-'));
});
afterAll(async () => {
  await tf.setBackend('cpu');
  await rm(dir, { recursive: true, force: true });
});

/** Whether two typed arrays hold the same bytes (fast, bit-exact: NaN payloads and -0 count). */
function sameBits(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );
}

/** Whether two weight tables have the same names, order, shapes and bits. */
function sameWeights(a: Record<string, { shape: number[]; data: Float32Array }>, b: typeof a): boolean {
  const names = Object.keys(a);
  return (
    names.join('|') === Object.keys(b).join('|') &&
    names.every((n) => a[n]!.shape.join(',') === b[n]!.shape.join(',') && sameBits(a[n]!.data, b[n]!.data))
  );
}

/** A fixed input batch for the tiny networks: x [2, 8, 8, 3] and positional time steps. */
function probeInputs() {
  return {
    x: tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 7) as tf.Tensor4D,
    t: tf.tensor1d([123, 876]),
  };
}

function outputOf(net: UNet): Float32Array {
  return tf.tidy(() => {
    const { x, t } = probeInputs();
    return net.predict(x, t).dataSync() as Float32Array;
  });
}

/** Moments shaped like `weights` with recognizable values. */
function fakeAdam(net: UNet): AdamState {
  const m: Record<string, Float32Array> = {};
  const v: Record<string, Float32Array> = {};
  for (const [i, w] of net.model.weights.entries()) {
    const n = w.shape.reduce((a: number, b) => a * (b ?? 0), 1);
    m[w.originalName] = Float32Array.from({ length: n }, (_, j) => Math.sin(i + j) * 1e-3);
    v[w.originalName] = Float32Array.from({ length: n }, (_, j) => (Math.cos(i * j) + 1.5) * 1e-6);
  }
  return { step: 4321, m, v };
}

/** A full train state of two differently initialized tiny networks (model and EMA). */
function stateOf(model: UNet, ema: UNet): TrainState {
  return {
    step: 4321,
    config: { model: { preset: PRESET }, optim: { lr: 2e-4, ema: 0.999 }, seed: 42 },
    weights: readModelWeights(model.model),
    ema: readModelWeights(ema.model),
    emaInfo: { decay: 0.999, numUpdates: 4321 },
    optimizer: fakeAdam(model),
    data: { epoch: 3, index: 17 },
    rng: new Uint32Array([0xdeadbeef, 0, 0xffffffff, 12345]),
    extra: { lossHistory: [0.5, 0.25] },
  };
}

describe('readModelWeights', () => {
  it('names weights by their stable names, unaffected by other models in the process', () => {
    const a = createUNet(unetPreset(PRESET));
    const b = createUNet(unetPreset(PRESET));
    // tfjs suffixes the second model's variable names; the stable names agree.
    expect(b.model.weights[0]!.name).not.toBe(a.model.weights[0]!.name);
    const wa = readModelWeights(a.model);
    const wb = readModelWeights(b.model);
    expect(Object.keys(wb)).toEqual(Object.keys(wa));
    expect(Object.keys(wa)).toEqual(a.model.weights.map((w) => w.originalName));
    expect(Object.keys(wa)[0]).toMatch(/^all_modules\.\d+\//);
    a.dispose();
    b.dispose();
  });
});

describe('withModelShapes', () => {
  it('gives flat arrays (an EMA shadow, a snapshot) the shapes of the model weights, in model order', () => {
    const net = createUNet(unetPreset(PRESET));
    const weights = readModelWeights(net.model);
    const flat = Object.fromEntries(
      Object.entries(weights)
        .reverse()
        .map(([n, w]) => [n, w.data]),
    );
    const shaped = withModelShapes(net.model, flat);
    expect(sameWeights(shaped, weights)).toBe(true);
    const first = Object.keys(weights)[0]!;
    expect(() => withModelShapes(net.model, { [first]: new Float32Array(1) })).toThrow(
      new RegExp(`'${first}' has 1 values, the weight \\[`),
    );
    expect(() => withModelShapes(net.model, { nope: new Float32Array(1) })).toThrow(
      /'nope' is not a weight of model/,
    );
    net.dispose();
  });
});

describe('train state through a checkpoint file', () => {
  it('restores weights, EMA, Adam moments, data position, RNG, step and config exactly (cpu)', async () => {
    const model = createUNet(unetPreset(PRESET));
    const ema = createUNet(unetPreset(PRESET));
    const state = stateOf(model, ema);
    const path = join(dir, 'state.sbmckpt');
    await writeCheckpoint(path, trainStateToCheckpoint(state));
    const back = trainStateFromCheckpoint(await readCheckpoint(path));

    expect(back.source).toBe(path);
    expect(back.step).toBe(4321);
    expect(back.config).toEqual(state.config);
    expect(back.data).toEqual({ epoch: 3, index: 17 });
    expect(Array.from(back.rng)).toEqual([0xdeadbeef, 0, 0xffffffff, 12345]);
    expect(back.extra).toEqual({ lossHistory: [0.5, 0.25] });
    expect(back.emaInfo).toEqual({ decay: 0.999, numUpdates: 4321 });
    expect(back.optimizer?.step).toBe(4321);
    expect(sameWeights(back.weights, state.weights)).toBe(true);
    expect(sameWeights(back.ema!, state.ema!)).toBe(true);
    for (const name of Object.keys(state.weights)) {
      expect(sameBits(back.optimizer!.m[name], state.optimizer!.m[name]), `m ${name}`).toBe(true);
      expect(sameBits(back.optimizer!.v[name], state.optimizer!.v[name]), `v ${name}`).toBe(true);
    }
    expect(Object.keys(back.optimizer!.m)).toEqual(Object.keys(state.weights));
    const meta = (await readCheckpoint(path)).meta;
    expect(meta.configHash).toBe(configHash(state.config));

    const freshModel = createUNet(unetPreset(PRESET));
    const freshEma = createUNet(unetPreset(PRESET));
    expect(outputOf(freshModel)).not.toEqual(outputOf(model));
    const before = tf.memory().numTensors;
    restoreTrainState(back, { model: freshModel.model, ema: freshEma.model });
    expect(tf.memory().numTensors).toBe(before);
    // Same backend, same weights: bit-identical outputs.
    expect(outputOf(freshModel)).toEqual(outputOf(model));
    expect(outputOf(freshEma)).toEqual(outputOf(ema));
    expect(outputOf(freshEma)).not.toEqual(outputOf(model));
    for (const net of [model, ema, freshModel, freshEma]) net.dispose();
  });

  it('saved on cpu, restored on wasm: outputs equal within float tolerance', async () => {
    await tf.setBackend('cpu');
    const model = createUNet(unetPreset(PRESET));
    const ema = createUNet(unetPreset(PRESET));
    const expectedModel = outputOf(model);
    const expectedEma = outputOf(ema);
    const path = join(dir, 'cross-backend.sbmckpt');
    await writeCheckpoint(path, trainStateToCheckpoint(stateOf(model, ema)));
    model.dispose();
    ema.dispose();

    expect(await tf.setBackend('wasm')).toBe(true);
    try {
      const state = trainStateFromCheckpoint(await readCheckpoint(path));
      const onWasmModel = createUNet(unetPreset(PRESET));
      const onWasmEma = createUNet(unetPreset(PRESET));
      restoreTrainState(state, { model: onWasmModel.model, ema: onWasmEma.model });
      expect(tf.getBackend()).toBe('wasm');
      expectTensorsClose(outputOf(onWasmModel), expectedModel, {
        rtol: 1e-4,
        atol: 1e-5,
        message: 'model on wasm',
      });
      expectTensorsClose(outputOf(onWasmEma), expectedEma, {
        rtol: 1e-4,
        atol: 1e-5,
        message: 'EMA on wasm',
      });
      // And the weights themselves are bit-exact on the other backend.
      expect(sameWeights(readModelWeights(onWasmModel.model), state.weights)).toBe(true);
      onWasmModel.dispose();
      onWasmEma.dispose();
    } finally {
      await tf.setBackend('cpu');
    }
  });
});

describe('mismatches', () => {
  it('restoring into a different architecture names the first mismatching variable and shapes, and assigns nothing', () => {
    const model = createUNet(unetPreset(PRESET));
    const state = { ...stateOf(model, model), source: '/runs/a/ckpt-00004321.sbmckpt' };
    const wider = createUNet(unetPreset(PRESET, { nf: 32 }));
    const before = readModelWeights(wider.model);
    const error = (() => {
      try {
        restoreTrainState(state, { model: wider.model });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(CheckpointError);
    const first = wider.model.weights.find(
      (w) => w.shape.join(',') !== state.weights[w.originalName]!.shape.join(','),
    )!;
    expect((error as Error).message).toBe(
      `checkpoint /runs/a/ckpt-00004321.sbmckpt: weights: variable '${first.originalName}' has shape [${state.weights[first.originalName]!.shape.join(',')}] in the checkpoint but [${first.shape.join(',')}] in the model`,
    );
    expect(sameWeights(readModelWeights(wider.model), before)).toBe(true);

    const other = createUNet(unetPreset('tiny/ncsnpp'));
    expect(() => restoreTrainState(state, { model: other.model })).toThrow(
      /weights: (variable '.+' \[[\d,]*\] is not in the model|the model's variable '.+' \[[\d,]*\] is missing from the checkpoint|variable '.+' has shape)/,
    );
    const { ema: _ema, ...noEma } = state;
    expect(() => restoreTrainState(noEma, { model: model.model, ema: model.model })).toThrow(
      /ema: the checkpoint has no EMA weights/,
    );
    for (const net of [model, wider, other]) net.dispose();
  });

  it('a checkpoint that is not a train state, or lacks an array, is a CheckpointError naming the file', async () => {
    const path = join(dir, 'not-state.sbmckpt');
    await writeCheckpoint(path, { meta: { step: 1 }, arrays: {} });
    await expect(readCheckpoint(path).then((c) => trainStateFromCheckpoint(c))).rejects.toThrow(
      `checkpoint ${path}: not a train state (meta.kind is undefined, expected 'sbm-train-state')`,
    );
    const model = createUNet(unetPreset(PRESET));
    const content = trainStateToCheckpoint(stateOf(model, model));
    const name = Object.keys(content.arrays).find((n) => n.startsWith('adam.v/'))!;
    delete content.arrays[name];
    const partial = join(dir, 'partial.sbmckpt');
    await writeCheckpoint(partial, content);
    await expect(readCheckpoint(partial).then((c) => trainStateFromCheckpoint(c))).rejects.toThrow(
      `checkpoint ${partial}: missing array '${name}'`,
    );
    const tampered = trainStateToCheckpoint(stateOf(model, model));
    tampered.meta.config = { ...(tampered.meta.config as object), seed: 43 };
    expect(() => trainStateFromCheckpoint(tampered, 'x.sbmckpt')).toThrow(
      /meta.configHash .* does not match the stored config/,
    );
    model.dispose();
  });

  it('trainStateToCheckpoint rejects moments that do not fit the weights', () => {
    const model = createUNet(unetPreset(PRESET));
    const state = stateOf(model, model);
    const name = Object.keys(state.weights)[2]!;
    state.optimizer!.v[name] = new Float32Array(1);
    expect(() => trainStateToCheckpoint(state)).toThrow(
      `state.optimizer.v['${name}']: expected a Float32Array of ${state.weights[name]!.data.length} values`,
    );
    model.dispose();
  });
});
