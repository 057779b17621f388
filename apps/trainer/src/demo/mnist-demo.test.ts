import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reporter } from '../cli/progress.js';
import { loadConfig } from '../config/load.js';
import { decodePng } from '../sample/png-io.js';
import { MNIST_DEMO_PRESET, runMnistDemo } from './mnist-demo.js';

// The demo's path end to end on a tiny network: a few training steps, sampling, the grid, the classifier and
// the report. The demo's real numbers come from `pnpm demo` (bench/results/mnist-demo.md), not from a test.
const TINY = [
  'model.nf=8',
  'model.chMult=[1,1]',
  'model.attnResolutions=[]',
  'training.nIters=3',
  'training.snapshotFreq=3',
  'training.snapshotFreqForPreemption=3',
  'training.batchSize=8',
  'training.logFreq=1',
  'sampling.steps=2',
];

const quiet = () => new Reporter({ mode: 'quiet', out: { write: () => true }, err: { write: () => true } });

let root: string;
beforeAll(async () => {
  await setupBackend({ prefer: 'wasm', importModule: (name) => import(name) });
  root = await mkdtemp(join(tmpdir(), 'sbm-demo-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('runMnistDemo', () => {
  it('trains, samples, writes the grid and measures the digits; a second call resumes without training', async () => {
    const config = await loadConfig({ preset: MNIST_DEMO_PRESET, set: TINY });
    const runDir = join(root, 'run');
    const result = await runMnistDemo({
      config,
      runDir,
      reporter: quiet(),
      evalSamples: 10,
      classifierEpochs: 1,
    });
    expect(result).toMatchObject({ step: 3, reason: 'done', gridPath: join(runDir, 'grid.png') });
    expect(result.nfePerSample).toBe(2); // DDIM with 2 steps: two model calls per digit
    const side = 'resolution' in config.data ? config.data.resolution : 0;
    // 10 digits, 8 per row, each enlarged 3× for sides below 32, 2 px of padding
    const grid = decodePng(await readFile(join(runDir, 'grid.png')));
    expect([grid.width, grid.height]).toEqual([8 * 3 * side + 9 * 2, 2 * 3 * side + 3 * 2]);

    const m = result.metrics!;
    expect(m.sampleCount).toBe(10);
    expect(m.histogram.reduce((a, b) => a + b, 0)).toBe(10);
    expect(m.realCount).toBe(2000); // the held-out digits: the mnist package's 10 000 minus the 8 000 trained on
    expect(m.heldOutAccuracy).toBeGreaterThan(0.85); // one epoch of the CNN already reads real digits
    expect(m.realConfidentShare).toBeGreaterThan(0.3); // after one epoch (4 epochs, as the demo trains: ≈ 0.8)
    expect(m.confidentShare).toBeGreaterThanOrEqual(0);
    expect(m.confidentShare).toBeLessThanOrEqual(1);
    expect(m.frechet).toBeGreaterThan(m.frechetFloor); // 3 steps of training are far from real digits
    const report = await readFile(result.reportPath!, 'utf8');
    expect(report).toContain('| confident (max p ≥ 0.9) |');
    const saved = JSON.parse(await readFile(join(runDir, 'demo-metrics.json'), 'utf8'));
    expect(saved).toMatchObject({ step: 3, sampleCount: 10, confidentShare: m.confidentShare });
    expect((await readdir(runDir)).sort()).toEqual(
      expect.arrayContaining(['checkpoints', 'config.json', 'export', 'grid.png', 'metrics.jsonl']),
    );

    // again: nothing left to train; same samples (same seed and weights), no leaked tensors
    const before = tf.memory().numTensors;
    const again = await runMnistDemo({
      config,
      runDir,
      reporter: quiet(),
      evalSamples: 10,
      classifierEpochs: 1,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(again.step).toBe(3);
    expect(again.metrics!.histogram).toEqual(m.histogram);
  }, 120_000);

  it('stops with a checkpoint when asked and samples nothing', async () => {
    const config = await loadConfig({ preset: MNIST_DEMO_PRESET, set: TINY });
    const controller = new AbortController();
    controller.abort(new Error('SIGINT'));
    const runDir = join(root, 'stopped');
    const result = await runMnistDemo({ config, runDir, reporter: quiet(), signal: controller.signal });
    expect(result.reason).toBe('stopped');
    expect(result.gridPath).toBeUndefined();
    expect(await readdir(join(runDir, 'checkpoints'))).not.toHaveLength(0);
  }, 60_000);

  it('refuses a config that does not train on MNIST, naming the key', async () => {
    const config = await loadConfig({ preset: 'vp/cifar10_ddpmpp_continuous' });
    await expect(runMnistDemo({ config, runDir: join(root, 'cifar'), reporter: quiet() })).rejects.toThrow(
      /^config\.data\.dataset: the MNIST demo needs 'mnist', got 'cifar10'/,
    );
    await expect(
      runMnistDemo({
        config: await loadConfig({ preset: MNIST_DEMO_PRESET }),
        runDir: join(root, 'x'),
        reporter: quiet(),
        evalSamples: 1,
      }),
    ).rejects.toThrow(/^evalSamples: expected an integer >= 2, got 1/);
  });
});
