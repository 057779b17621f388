// Runs the examples of guides/import-checkpoint.md on packages/unet/test-fixtures/ncsnpp_ve_tiny: a checkpoint
// written by score_sde_pytorch (8×8 NCSN++ VE, random weights) with PyTorch's outputs for given inputs.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertThenLoad, importCheckpoint, sampleCheckpoint, veModel } from './import-checkpoint.js';

beforeAll(useCpuBackend);

const fixtureDir = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../packages/unet/test-fixtures',
);
const checkpointPath = join(fixtureDir, 'ncsnpp_ve_tiny.pth');
const reference = JSON.parse(readFileSync(join(fixtureDir, 'ncsnpp_ve_tiny.json'), 'utf8')) as {
  overrides: Record<string, unknown>;
  num_params: number;
  x_shape: [number, number, number, number];
  x: number[];
  time_cond: number[];
  out_ema: number[];
  out_model: number[];
};

/** PyTorch's NCHW values as an NHWC tensor. */
const nhwc = (values: number[]) =>
  tf.tidy(() => tf.transpose(tf.tensor4d(values, reference.x_shape), [0, 2, 3, 1]));

/** max |a − b| / max |b|. */
function relativeError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(b)).dataSync()[0]!);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbm-docs-import-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('guides/import-checkpoint examples', () => {
  it("imports the EMA weights: outputs equal score_sde_pytorch's to 1e-4, and not its raw-model outputs", () => {
    const net = importCheckpoint(new Uint8Array(readFileSync(checkpointPath)), reference.overrides);
    expect(net.countParams()).toBe(reference.num_params);
    const x = nhwc(reference.x);
    const sigmas = tf.tensor1d(reference.time_cond); // σ = 0.05 and 20
    const out = net.predict(x, sigmas);
    const ema = nhwc(reference.out_ema);
    const raw = nhwc(reference.out_model);
    expect(relativeError(out, ema)).toBeLessThan(1e-4);
    expect(relativeError(out, raw)).toBeGreaterThan(1e-2);
    tf.dispose([x, sigmas, out, ema, raw]);
    net.dispose();
  });

  it('converts to a tfjs folder whose reloaded network predicts the same, and samples with σ(t) as time input', async () => {
    const direct = importCheckpoint(new Uint8Array(readFileSync(checkpointPath)), reference.overrides);
    const { net: loaded, parameters } = await convertThenLoad(
      checkpointPath,
      join(dir, 'ncsnpp'),
      reference.overrides,
    );
    expect(parameters).toBe(reference.num_params);
    const x = nhwc(reference.x);
    const sigmas = tf.tensor1d(reference.time_cond);
    const a = direct.predict(x, sigmas);
    const b = loaded.predict(x, sigmas);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));

    // The adapter gives the network σ(t): its score at t equals the network's output at σ(t).
    const { sde, model } = veModel(loaded);
    const t = 0.4;
    const score = await model.predict(x, t, 'score');
    const atSigma = loaded.predict(x, tf.fill([2], sde.sigma(t)) as tf.Tensor1D);
    expect(relativeError(score, atSigma)).toBeLessThan(1e-6);

    const { samples, nfe } = await sampleCheckpoint(loaded, [1, 8, 8, 3], 3, 0);
    expect(nfe).toBe(6); // 3 predictor + 3 corrector evaluations
    expect(samples.shape).toEqual([1, 8, 8, 3]);
    expect(tf.all(tf.isFinite(samples)).dataSync()[0]).toBe(1);
    tf.dispose([x, sigmas, a, b, score, atSigma, samples]);
    direct.dispose();
    loaded.dispose();
  });

  it('leaks no tensors', async () => {
    const bytes = new Uint8Array(readFileSync(checkpointPath));
    await expectNoLeaks(() => importCheckpoint(bytes, reference.overrides).dispose());
  });
});
