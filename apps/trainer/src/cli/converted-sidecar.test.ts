import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupBackend } from '@sbm/backend';
import { wrapModel } from '@sbm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExportedModel, modelAdapterOptions } from '../checkpoint/export-model.js';
import { runCli } from './run-cli.js';

// The score_sde_pytorch reference checkpoints beside the repository (../shared/fixtures/score-sde): a small
// DDPM network in the exact format score_sde's trainer writes, with its reference outputs (NCHW).
const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/fixtures/score-sde');

let out: string;
let root: string;
beforeAll(async () => {
  await setupBackend({ prefer: 'wasm', importModule: (name) => import(name) });
  root = await mkdtemp(join(tmpdir(), 'sbm-convert-'));
  out = join(root, 'ddpm');
});
afterAll(() => rm(root, { recursive: true, force: true }));

const quiet = { write: () => true };

describe('sbm convert → sbm sample', () => {
  it('converts a score_sde checkpoint with its sidecar, and the wrapped model predicts the reference ε', async () => {
    const fixture = JSON.parse(await readFile(join(fixtures, 'ddpm_small.json'), 'utf8')) as {
      overrides: Record<string, unknown>;
      x_shape: number[];
      x: number[];
      time_cond: number[];
      out_ema: number[];
    };
    const code = await runCli(
      [
        'convert',
        join(fixtures, 'ddpm_small.pth'),
        out,
        '--preset',
        'vp/ddpm/cifar10_continuous',
        '--overrides',
        JSON.stringify(fixture.overrides),
      ],
      { out: quiet, err: quiet },
    );
    expect(code).toBe(0);
    const info = JSON.parse(await readFile(join(out, 'sbm-model.json'), 'utf8'));
    expect(info).toMatchObject({
      sde: { kind: 'vp', betaMin: 0.1, betaMax: 20, N: 1000 },
      prediction: 'eps',
      timeInput: 'index',
      numTrainSteps: 1000,
      data: { centered: true, imageSize: 16, numChannels: 3 },
      weights: 'ema',
    });
    // score_sde feeds a VP model 999·t and reads its output as ε: with t = time_cond / 999 the adapter's ε
    // prediction must be the reference network's EMA output.
    const loaded = await loadExportedModel(out);
    const model = wrapModel(loaded.model, modelAdapterOptions(loaded.info));
    const [B, C, H, W] = fixture.x_shape as [number, number, number, number];
    const nhwc = (v: number[]) => tf.tidy(() => tf.transpose(tf.tensor4d(v, [B, C, H, W]), [0, 2, 3, 1]));
    const x = nhwc(fixture.x);
    const expected = nhwc(fixture.out_ema);
    for (let b = 0; b < B; b++) {
      const xb = tf.slice(x, [b, 0, 0, 0], [1, H, W, C]);
      const eb = tf.slice(expected, [b, 0, 0, 0], [1, H, W, C]);
      const got = await model.predict(xb, fixture.time_cond[b]! / 999, 'eps');
      const err = tf.tidy(
        () => tf.max(tf.abs(tf.sub(got, eb))).dataSync()[0]! / tf.max(tf.abs(eb)).dataSync()[0]!,
      );
      expect(err).toBeLessThan(1e-4);
      tf.dispose([xb, eb, got]);
    }
    tf.dispose([x, expected]);
    loaded.model.dispose();
  });

  it('sbm sample --model samples the converted network', async () => {
    const samples = join(root, 'samples');
    const code = await runCli(
      [
        'sample',
        '--model',
        out,
        '--out',
        samples,
        '--count',
        '2',
        '--batch',
        '2',
        '--sampler',
        'ddim',
        '--steps',
        '2',
        '--quiet',
      ],
      { out: quiet, err: quiet, env: {} },
    );
    expect(code).toBe(0);
    expect((await readdir(samples)).sort()).toEqual(['0.png', '1.png', 'grid.png']);
  });
});
