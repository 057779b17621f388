import { mkdtemp, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietReporter, stopAfterStep } from '../cli/run-cli.test-support.js';
import { loadConfig } from '../config/load.js';
import type { TrainerConfig } from '../config/schema.js';
import { tinyRunSettings, writeCifar10 } from './cifar10-fixture.test-support.js';
import { trainRun } from './train-run.js';

// The wasm backend with @sbm/backend's kernels, as the CLI picks on this machine (the stock cpu backend
// runs the same step in train/train-step.test.ts; here it would take minutes at 32×32).
beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (name) => import(name) }));

let root: string;
let cifarDir: string;

/** A tiny VP DDPM++-style run on 32×32 CIFAR-format data. */
function tinyConfig(): Promise<TrainerConfig> {
  return loadConfig({
    preset: 'vp/cifar10_ddpmpp_continuous',
    set: tinyRunSettings(cifarDir),
  });
}

const quiet = quietReporter;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sbm-train-run-'));
  cifarDir = join(root, 'cifar-10-batches-bin');
  await import('node:fs/promises').then((fs) => fs.mkdir(cifarDir));
  await writeCifar10(cifarDir, 4);
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('trainRun on CIFAR-10 binary batches', () => {
  let whole: Awaited<ReturnType<typeof trainRun>>;

  it('trains, logs, checkpoints, samples and exports the EMA model', async () => {
    const runDir = join(root, 'whole');
    whole = await trainRun({ config: await tinyConfig(), runDir, reporter: quiet(), snapshotSamples: 4 });
    expect(whole.reason).toBe('done');
    expect(whole.step).toBe(6);
    expect(whole.losses.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(whole.losses.every((l) => Number.isFinite(l.loss))).toBe(true);
    const metrics = (await readFile(join(runDir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(metrics.map((m) => m.loss)).toEqual(whole.losses.map((l) => l.loss));
    expect(await readdir(join(runDir, 'checkpoints'))).toEqual([
      'ckpt-00000000.sbmckpt',
      'ckpt-00000003.sbmckpt',
      'ckpt-00000006.sbmckpt',
    ]);
    const png = await readFile(join(runDir, 'samples', 'step-6.png'));
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    expect((await readdir(whole.exportDir!)).sort()).toEqual(['model.json', 'sbm-model.json', 'weights.bin']);
    expect((await readFile(join(runDir, 'loss.svg'), 'utf8')).startsWith('<svg')).toBe(true);
    expect(JSON.parse(await readFile(join(runDir, 'config.json'), 'utf8')).training.nIters).toBe(6);
  });

  it('a run stopped at step 3 and resumed gives the same losses, step for step', async () => {
    const runDir = join(root, 'resumed');
    const controller = new AbortController();
    const reporter = stopAfterStep(3, controller);
    const first = await trainRun({
      config: await tinyConfig(),
      runDir,
      reporter,
      signal: controller.signal,
      snapshotSamples: 0,
    });
    expect(first.reason).toBe('stopped');
    expect(first.step).toBe(3);
    const second = await trainRun({
      config: await tinyConfig(),
      runDir,
      reporter: quiet(),
      snapshotSamples: 0,
    });
    expect(second.step).toBe(6);
    expect([...first.losses, ...second.losses]).toEqual(whole.losses);
  });

  it('a truncated newest checkpoint is named; with fallback the run resumes from the previous one', async () => {
    const runDir = join(root, 'whole');
    const newest = join(runDir, 'checkpoints', 'ckpt-00000006.sbmckpt');
    const size = (await readFile(newest)).length;
    await truncate(newest, size - 100);
    const base = await tinyConfig();
    const config = { ...base, training: { ...base.training, nIters: 7 } };
    await expect(trainRun({ config, runDir, reporter: quiet(), snapshotSamples: 0 })).rejects.toThrow(
      /ckpt-00000006\.sbmckpt: the newest checkpoint is unreadable: truncated: expected \d+ bytes, got \d+ \(resume with fallback/,
    );
    // the earlier checkpoints are intact and a fallback run resumes from step 3
    const resumed = await trainRun({ config, runDir, reporter: quiet(), fallback: true, snapshotSamples: 0 });
    expect(resumed.losses[0]!.step).toBe(4);
    expect(resumed.losses.slice(0, 3)).toEqual(whole.losses.slice(3));
  });

  it('a corrupt data file is named', async () => {
    await truncate(join(cifarDir, 'data_batch_2.bin'), 5000);
    await expect(
      trainRun({ config: await tinyConfig(), runDir: join(root, 'bad-data'), reporter: quiet() }),
    ).rejects.toThrow(/data_batch_2\.bin: expected a positive multiple of 3073 bytes/);
    await writeCifar10(cifarDir, 4);
  });
});
