import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wrapModel } from '@sbm/samplers';
import { SbmArgumentError, VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import { createUNet, loadUNet, registerUNetLayers, unetPreset } from '@sbm/unet';
import { fileSystemIO } from '@sbm/unet/node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSeededRandom } from '../run/seeded-random.js';
import { createMlpNetwork, loadMlpNetwork, type MlpConfig } from '../train/mlp-network.js';
import { CheckpointError } from './checkpoint-error.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint-file.js';
import { configHash } from './config-hash.js';
import {
  exportModel,
  exportTrainStateModel,
  isImageModelInfo,
  loadExportedModel,
  MODEL_INFO_FILE,
  type ModelInfoInput,
  modelAdapterOptions,
  modelSampleShape,
  readModelInfo,
} from './export-model.js';
import {
  readModelWeights,
  type TrainState,
  trainStateFromCheckpoint,
  trainStateToCheckpoint,
} from './train-state.js';

const PRESET = 'tiny/ddpmpp';

let dir: string;
beforeAll(async () => {
  await useCpuBackend();
  dir = await mkdtemp(join(tmpdir(), 'sbm-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const info: ModelInfoInput = {
  sde: { kind: 'vp', betaMin: 0.1, betaMax: 20, N: 1000 },
  prediction: 'eps',
  timeInput: 'index',
  numTrainSteps: 1000,
  step: 0,
};

function probe(model: tfl.LayersModel): Float32Array {
  return tf.tidy(() => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 11);
    const t = tf.tensor1d([10, 990]);
    return (model.apply([x, t]) as tf.Tensor).dataSync() as Float32Array;
  });
}

/** A train state at `step` whose weights are `model`'s and whose EMA weights are `ema`'s. */
function trainState(
  step: number,
  config: Record<string, unknown>,
  model: tfl.LayersModel,
  ema: tfl.LayersModel,
): TrainState {
  return {
    step,
    config,
    weights: readModelWeights(model),
    ema: readModelWeights(ema),
    data: { epoch: 0, index: 0 },
    rng: new Uint32Array(4),
  };
}

describe('exportModel', () => {
  it('exports the EMA weights of a train state; tf.loadLayersModel(fileSystemIO(dir)) gives the EMA network', async () => {
    const model = createUNet(unetPreset(PRESET));
    const ema = createUNet(unetPreset(PRESET));
    const config = { model: { preset: PRESET }, seed: 1 };
    const state = trainState(250, config, model.model, ema.model);
    // Through a checkpoint file, as the CLI's `export` would do.
    const ckptPath = join(dir, 'ckpt.sbmckpt');
    await writeCheckpoint(ckptPath, trainStateToCheckpoint(state));
    const restored = trainStateFromCheckpoint(await readCheckpoint(ckptPath));
    const out = join(dir, 'export-ema');
    const written = await exportTrainStateModel(out, restored, { unetConfig: ema.config, info });
    expect((await readdir(out)).sort()).toEqual(['model.json', MODEL_INFO_FILE, 'weights.bin'].sort());
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-') || f.includes('.old'))).toEqual([]);

    registerUNetLayers();
    const loaded = await tfl.loadLayersModel(fileSystemIO(out));
    expect(probe(loaded)).toEqual(probe(ema.model));
    expect(probe(loaded)).not.toEqual(probe(model.model));
    // loadUNet finds the UNetConfig in the model's metadata too.
    const net = await loadUNet(fileSystemIO(out));
    expect(net.config).toEqual(ema.config);

    const sidecar = JSON.parse(await readFile(join(out, MODEL_INFO_FILE), 'utf8'));
    expect(sidecar).toEqual({
      format: 'sbm-model',
      version: 1,
      sde: { kind: 'vp', betaMin: 0.1, betaMax: 20, N: 1000 },
      prediction: 'eps',
      timeInput: 'index',
      numTrainSteps: 1000,
      data: { centered: true, imageSize: 8, numChannels: 3 },
      numClasses: 0,
      weights: 'ema',
      step: 250,
      configHash: configHash(config),
    });
    expect(await readModelInfo(out)).toEqual(written);

    // A samplers user: load, wrap with the sidecar's options, evaluate.
    const { model: again, info: readBack } = await loadExportedModel(out);
    const options = modelAdapterOptions(readBack);
    expect(options.sde).toBeInstanceOf(VPSDE);
    const adapter = wrapModel(again, options);
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 3);
    const eps = await adapter.predict(x, 0.5, 'eps');
    // timeInput 'index' with 1000 steps feeds t·999 to the network.
    const direct = tf.tidy(() => (ema.model.apply([x, tf.tensor1d([499.5, 499.5])]) as tf.Tensor).dataSync());
    expect(Array.from(eps.dataSync())).toEqual(Array.from(direct));
    tf.dispose([x, eps]);
    for (const m of [loaded, again]) m.dispose();
    for (const n of [model, ema, net]) n.dispose();
  });

  it('replaces an earlier export, but refuses a directory holding other files', async () => {
    const first = createUNet(unetPreset(PRESET));
    const second = createUNet(unetPreset(PRESET));
    const out = join(dir, 'export-replace');
    await exportModel(out, { unetConfig: first.config, weights: readModelWeights(first.model), info });
    await exportModel(out, {
      unetConfig: second.config,
      weights: readModelWeights(second.model),
      info: { ...info, step: 9 },
    });
    expect((await readModelInfo(out)).step).toBe(9);
    const { model } = await loadExportedModel(out);
    expect(probe(model)).toEqual(probe(second.model));
    model.dispose();

    const foreign = join(dir, 'not-an-export');
    await mkdir(foreign);
    await writeFile(join(foreign, 'train.log'), 'precious');
    await expect(
      exportModel(foreign, { unetConfig: first.config, weights: readModelWeights(first.model), info }),
    ).rejects.toThrow(
      `checkpoint ${foreign}: exists and holds files that are not part of an exported model (train.log)`,
    );
    expect(await readFile(join(foreign, 'train.log'), 'utf8')).toBe('precious');
    first.dispose();
    second.dispose();
  });

  it('names the first mismatching variable when the weights do not fit the architecture, leaving nothing behind', async () => {
    const net = createUNet(unetPreset(PRESET));
    const wider = unetPreset(PRESET, { nf: 32 });
    const out = join(dir, 'export-mismatch');
    const error = await exportModel(out, {
      unetConfig: wider,
      weights: readModelWeights(net.model),
      info,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(
      /ema: variable '.+' has shape \[[\d,]+\] in the checkpoint but \[[\d,]+\] in the model/,
    );
    expect((await readdir(dir)).filter((f) => f.startsWith('export-mismatch'))).toEqual([]);
    net.dispose();
  });

  it('rejects invalid info and an invalid sidecar, naming the field', async () => {
    const net = createUNet(unetPreset(PRESET));
    const out = join(dir, 'export-bad-info');
    await expect(
      exportModel(out, {
        unetConfig: net.config,
        weights: readModelWeights(net.model),
        info: { ...info, timeInput: 'seconds' as 'index' },
      }),
    ).rejects.toThrow(/sbm-model\.json: info\.timeInput: /);
    const sidecarDir = join(dir, 'bad-sidecar');
    await mkdir(sidecarDir);
    await writeFile(join(sidecarDir, MODEL_INFO_FILE), JSON.stringify({ format: 'sbm-model', version: 1 }));
    await expect(readModelInfo(sidecarDir)).rejects.toThrow(/sbm-model\.json: sde: /);
    await expect(readModelInfo(join(dir, 'missing'))).rejects.toThrow(/sbm-model\.json: cannot read: ENOENT/);
    net.dispose();
  });
});

describe('exportModel of an MLP (2-D points)', () => {
  const mlpConfig: MlpConfig = { dim: 2, hidden: 16, layers: 2, timeEmbeddingDim: 8, numClasses: 0 };
  const make = (seed: number) => withSeededRandom(seed, 0, () => createMlpNetwork(mlpConfig));

  it('exports the EMA weights with a data.shape [2] sidecar; loadExportedModel + wrapModel evaluate the EMA network', async () => {
    const model = make(1);
    const ema = make(2);
    const config = { model: { kind: 'mlp' }, seed: 1 };
    const state = trainState(40, config, model.model, ema.model);
    const out = join(dir, 'export-mlp');
    const written = await exportTrainStateModel(out, state, { mlpConfig, info });
    expect(written.data).toEqual({ shape: [2] });
    expect(JSON.parse(await readFile(join(out, MODEL_INFO_FILE), 'utf8'))).toEqual({
      format: 'sbm-model',
      version: 1,
      sde: { kind: 'vp', betaMin: 0.1, betaMax: 20, N: 1000 },
      prediction: 'eps',
      timeInput: 'index',
      numTrainSteps: 1000,
      data: { shape: [2] },
      numClasses: 0,
      weights: 'ema',
      step: 40,
      configHash: configHash(config),
    });
    const { model: loaded, info: readBack } = await loadExportedModel(out);
    expect(isImageModelInfo(readBack)).toBe(false);
    expect(modelSampleShape(readBack)).toEqual([2]);
    const adapter = wrapModel(loaded, modelAdapterOptions(readBack));
    const x = tf.tensor2d([
      [0.5, -1],
      [2, 0.25],
    ]);
    const eps = await adapter.predict(x, 0.5, 'eps');
    // timeInput 'index' with 1000 steps feeds t·999 to the network.
    const direct = tf.tidy(() => ema.predict(x, tf.tensor1d([499.5, 499.5])).dataSync());
    const trained = tf.tidy(() => model.predict(x, tf.tensor1d([499.5, 499.5])).dataSync());
    expect(Array.from(eps.dataSync())).toEqual(Array.from(direct));
    expect(Array.from(eps.dataSync())).not.toEqual(Array.from(trained));
    const net = await loadMlpNetwork(fileSystemIO(out));
    expect(net.config).toEqual(mlpConfig);
    tf.dispose([x, eps]);
    loaded.dispose();
    for (const n of [model, ema, net]) n.dispose();
  });

  it('keeps image sidecars valid (backward compatible) and names a data section that is neither', async () => {
    const image = { format: 'sbm-model', version: 1, ...info, numClasses: 0, weights: 'ema' };
    const imageDir = join(dir, 'image-sidecar');
    await mkdir(imageDir);
    await writeFile(
      join(imageDir, MODEL_INFO_FILE),
      JSON.stringify({ ...image, data: { centered: true, imageSize: 32, numChannels: 3 } }),
    );
    const read = await readModelInfo(imageDir);
    expect(isImageModelInfo(read)).toBe(true);
    expect(modelSampleShape(read)).toEqual([32, 32, 3]);
    const badDir = join(dir, 'bad-data-sidecar');
    await mkdir(badDir);
    await writeFile(join(badDir, MODEL_INFO_FILE), JSON.stringify({ ...image, data: { size: 2 } }));
    await expect(readModelInfo(badDir)).rejects.toThrow(
      /sbm-model\.json: data: expected \{ centered, imageSize, numChannels \} \(images\) or \{ shape \}/,
    );
    await writeFile(join(badDir, MODEL_INFO_FILE), JSON.stringify({ ...image, data: { shape: [] } }));
    await expect(readModelInfo(badDir)).rejects.toThrow(
      /sbm-model\.json: data\.shape: expected a non-empty list of positive integers/,
    );
  });

  it('takes exactly one of unetConfig and mlpConfig, and leaves no tensors behind', async () => {
    const net = make(3);
    const weights = readModelWeights(net.model);
    const both = { unetConfig: unetPreset(PRESET), mlpConfig, weights, info } as unknown as Parameters<
      typeof exportModel
    >[1];
    const error = await exportModel(join(dir, 'export-both'), both).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SbmArgumentError);
    expect((error as Error).message).toMatch(/^options: expected exactly one of unetConfig .* and mlpConfig/);
    const out = join(dir, 'export-mlp-leaks');
    await expectNoLeaks(() => exportModel(out, { mlpConfig, weights, info }));
    await expectNoLeaks(async () => (await loadExportedModel(out)).model.dispose());
    net.dispose();
  });
});
