import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import { wrapModel } from '@sbm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExportedModel, modelAdapterOptions, modelSampleShape } from '../checkpoint/export-model.js';
import { Reporter } from '../cli/progress.js';
import { jsonLines, quietReporter, sbm, stopAfterStep } from '../cli/run-cli.test-support.js';
import { loadConfig } from '../config/load.js';
import type { TrainerConfig } from '../config/schema.js';
import { deriveSeed, Xoshiro128StarStar } from '../data/rng.js';
import { sampleToy } from '../data/toy.js';
import { type ToyDataConfig, toyMixtureOfConfig } from '../data/toy-mixture.js';
import { type MixtureFit, mixtureFit } from '../eval/mixture-fit.js';
import { decodePng } from '../sample/png-io.js';
import { sampleBatches } from '../sample/sample-images.js';
import { loadEvaluationSet } from './load-dataset.js';
import { trainRun } from './train-run.js';

// The wasm backend with @sbm/backend's kernels, as the other trainer tests. One XNNPACK thread: the MLP's
// matrices are small ([512, 64] · [64, 64]), so a second thread only adds synchronisation — 3× slower per
// step when the machine's other core is busy (measured: 15 ms vs 45 ms per step).
beforeAll(() => setupBackend({ prefer: 'wasm', threads: 1, importModule: (name) => import(name) }));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sbm-toy-run-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/**
 * The toy/mixture preset (8 Gaussians of std 0.1 on a ring of radius 2, VP SDE, ε-loss) trained for 2000 steps
 * instead of 5000, to fit in a test: a smaller MLP (hidden 64 instead of 128) with a larger batch (512) and
 * learning rate (5e-3), EMA 0.99 (its window of ~100 steps suits a short run); DDIM with η = 1 (ancestral
 * steps correct the drift of a briefly trained score better than η = 0: measured −0.76 against −1.35 nats).
 * The snapshot at the last step samples 2000 points.
 */
const QUALITY_SETTINGS = [
  'training.nIters=2000',
  'training.batchSize=512',
  'training.snapshotFreq=2000',
  'training.snapshotFreqForPreemption=1000',
  'training.logFreq=100',
  'model.hidden=64',
  'model.emaRate=0.99',
  'optim.lr=5e-3',
  'sampling.eta=1',
  'sampling.numSamples=2000',
];

const quiet = quietReporter;

describe('trainRun on toy/mixture (the MLP)', () => {
  let runDir: string;
  let config: TrainerConfig;
  let snapshotFit: MixtureFit & { dataMeanLogDensity: number };

  it('trains; the exported EMA model’s samples match the true mixture', async () => {
    runDir = join(root, 'quality');
    config = await loadConfig({ preset: 'toy/mixture', set: QUALITY_SETTINGS });
    const lines: string[] = [];
    const reporter = new Reporter({ mode: 'jsonl', out: { write: (s: string) => lines.push(s) } });
    const result = await trainRun({ config, runDir, reporter });
    expect(result).toMatchObject({ step: 2000, reason: 'done' });
    expect(result.losses.every((l) => Number.isFinite(l.loss))).toBe(true);
    expect(await readdir(join(runDir, 'checkpoints'))).toEqual([
      'ckpt-00000000.sbmckpt',
      'ckpt-00001000.sbmckpt',
      'ckpt-00002000.sbmckpt',
    ]);
    const scatter = decodePng(await readFile(join(runDir, 'samples', 'step-2000.png')));
    expect([scatter.width, scatter.height]).toEqual([512, 512]);
    const snapshots = jsonLines(lines.join('')).filter((e) => e.event === 'snapshot');
    expect(snapshots.map((e) => e.step)).toEqual([2000]);
    snapshotFit = snapshots[0] as unknown as typeof snapshotFit;

    // export → loadExportedModel → sample, as a @sbm/samplers user would.
    const { model, info } = await loadExportedModel(result.exportDir!);
    expect(info.data).toEqual({ shape: [2] });
    expect(info.step).toBe(2000);
    const adapterOptions = modelAdapterOptions(info);
    const n = 2000;
    const points = new Float32Array(2 * n);
    const { sampler, numSamples: _n, batchSize: _b, ...samplerOptions } = config.sampling;
    await sampleBatches({
      sde: adapterOptions.sde,
      model: wrapModel(model, adapterOptions),
      sampler,
      samplerOptions,
      sampleShape: modelSampleShape(info),
      count: n,
      batchSize: n,
      seed: config.seed,
      onBatch: (batch, samples) => points.set(samples, 2 * batch.start),
    });
    model.dispose();
    const mixture = toyMixtureOfConfig(config.data as ToyDataConfig);
    const fit = mixtureFit(mixture, points);
    // The exported weights are the EMA weights the run sampled its snapshot with: the very same points.
    const {
      dataMeanLogDensity,
      event: _e,
      step: _s,
      ...inRun
    } = snapshotFit as unknown as Record<string, unknown>;
    expect(fit).toEqual(inRun);

    const truth = mixtureFit(mixture, sampleToy({ n, seed: 2024, mixture }).data);
    // Negative control: the Gaussian with the data's mean and covariance (0, (r²/2 + s²)·I) ignores the modes.
    const rng = Xoshiro128StarStar.fromSeed(deriveSeed(7, 1));
    const sd = Math.sqrt(2 ** 2 / 2 + 0.1 ** 2);
    const gaussian = mixtureFit(
      mixture,
      Float64Array.from({ length: 2 * n }, () => sd * rng.nextNormal()),
    );
    console.info(
      `toy/mixture, 2000 steps: samples' mean log-density ${fit.meanLogDensity.toFixed(3)} vs true points ${truth.meanLogDensity.toFixed(3)} ` +
        `(training points ${(dataMeanLogDensity as number).toFixed(3)}, moment-matched Gaussian ${gaussian.meanLogDensity.toFixed(3)}); ` +
        `within 3 std ${fit.within3Std} vs ${truth.within3Std} (Gaussian ${gaussian.within3Std}); ` +
        `per component ${fit.componentCounts.join(' ')} vs ${truth.componentCounts.join(' ')}`,
    );

    // 1. Every mode is found with its weight 1/8: each component's share of the points within 3 std is within
    //    0.04 of 1/8 (≈ 5 binomial standard deviations sqrt(⅛·⅞/1900) = 0.0076; a dropped mode has share 0, a
    //    doubled one 0.25).
    const inside = fit.componentCounts.reduce((a, b) => a + b, 0);
    for (const c of fit.componentCounts) expect(Math.abs(c / inside - 1 / 8)).toBeLessThan(0.04);
    // 2. The mass is on the modes: at least 85 % of the points within 3 std of a component (true samples:
    //    1 − e^−4.5 = 98.9 %; the moment-matched Gaussian: about 1 %).
    expect(fit.within3Std).toBeGreaterThan(0.85);
    expect(gaussian.within3Std).toBeLessThan(0.1);
    // 3. The modes are sharp: the mean log-density under the true mixture is within 1.5 nats of that of true
    //    samples (−0.31 = log ⅛ − log(2π·0.01) − 1). For modes blurred to std s the gap is s²/σ² − 1, so 1.5
    //    nats allows s ≤ 1.58·σ; the Gaussian control is tens of nats below.
    expect(fit.meanLogDensity).toBeGreaterThan(truth.meanLogDensity - 1.5);
    expect(gaussian.meanLogDensity).toBeLessThan(truth.meanLogDensity - 10);
    // The snapshot's reference (the first 2000 training points) is a true sample too.
    expect(Math.abs((dataMeanLogDensity as number) - truth.meanLogDensity)).toBeLessThan(0.2);
  });

  it('sbm sample --run writes points.csv (the same points) and scatter.png, and reports the fit', async () => {
    const out = join(root, 'cli-samples');
    const s = await sbm(
      'sample',
      '--run',
      runDir,
      '--out',
      out,
      '--count',
      '2000',
      '--batch',
      '2000',
      '--seed',
      String(config.seed),
      '--backend',
      'wasm',
      '--jsonl',
    );
    expect(s.err).toBe('');
    expect(s.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['points.csv', 'scatter.png']);
    const rows = (await readFile(join(out, 'points.csv'), 'utf8')).trimEnd().split('\n');
    expect(rows).toHaveLength(2000);
    // 9 significant digits read back to the very float32 values the sampler produced.
    const points = Float32Array.from(rows.flatMap((r) => r.split(',').map(Number)));
    const fit = mixtureFit(toyMixtureOfConfig(config.data as ToyDataConfig), points);
    const {
      dataMeanLogDensity: _d,
      event: _e,
      step: _s,
      ...inRun
    } = snapshotFit as unknown as Record<string, unknown>;
    expect(fit).toEqual(inRun);
    const reported = jsonLines(s.out).find((e) => e.event === 'mixture-fit');
    expect(reported?.samples).toEqual(fit);
  });

  it('sbm eval gives the log-likelihood of held-out points, within 1 nat of their true mean log-density', async () => {
    const e = await sbm(
      'eval',
      '--run',
      runDir,
      '--count',
      '400',
      '--batch',
      '400',
      '--rtol',
      '1e-4',
      '--atol',
      '1e-4',
      '--divergence',
      'exact',
      '--backend',
      'wasm',
      '--jsonl',
    );
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    const bpd = jsonLines(e.out).find((l) => l.event === 'bpd')!;
    // The same 400 held-out points (drawn from seed + 1, not trained on) under the true mixture.
    const held = await loadEvaluationSet(config.data, { seed: config.seed });
    const truth = mixtureFit(toyMixtureOfConfig(config.data as ToyDataConfig), held.data.subarray(0, 800));
    // E log q = E log p − KL(p ‖ q) ≤ E log p: the model's mean log-likelihood lies below the truth (−0.31 nats)
    // by the KL divergence of a 2000-step model, plus Monte-Carlo error of 400 points (sd of log p ≈ 1, so ±0.15
    // at 3 standard errors). The moment-matched Gaussian would score −3.5 nats.
    const mean = bpd.meanLogLikelihood as number;
    console.info(
      `toy/mixture held-out log-likelihood ${mean.toFixed(3)} nats vs true ${truth.meanLogDensity.toFixed(3)}`,
    );
    expect(mean).toBeLessThan(truth.meanLogDensity + 0.15);
    expect(mean).toBeGreaterThan(truth.meanLogDensity - 1);
    expect(bpd.bitsPerDim).toBeCloseTo(-mean / (2 * Math.LN2), 10);
    expect(bpd).toMatchObject({ count: 400, dataset: held.name });
  });

  it('sbm sample shards: points-0.csv + points-1.csv = the unsharded points.csv', async () => {
    const whole = join(root, 'cli-whole');
    const parts = join(root, 'cli-parts');
    const args = ['--run', runDir, '--count', '10', '--batch', '4', '--backend', 'wasm', '--quiet'];
    expect((await sbm('sample', '--out', whole, ...args)).code).toBe(0);
    for (const shard of ['0/2', '1/2'])
      expect((await sbm('sample', '--out', parts, ...args, '--shard', shard)).code).toBe(0);
    expect((await readdir(parts)).sort()).toEqual([
      'points-0.csv',
      'points-1.csv',
      'scatter-0.png',
      'scatter-1.png',
    ]);
    const joined =
      (await readFile(join(parts, 'points-0.csv'), 'utf8')) +
      (await readFile(join(parts, 'points-1.csv'), 'utf8'));
    expect(joined).toBe(await readFile(join(whole, 'points.csv'), 'utf8'));
    expect(joined.trimEnd().split('\n')).toHaveLength(10);
  });

  it('a run stopped at step 3 and resumed gives the same losses, step for step, and the same export', async () => {
    const tiny = () =>
      loadConfig({
        preset: 'toy/mixture',
        set: [
          'training.nIters=6',
          'training.batchSize=64',
          'training.snapshotFreq=6',
          'training.snapshotFreqForPreemption=3',
        ],
      });
    const whole = await trainRun({
      config: await tiny(),
      runDir: join(root, 'whole'),
      reporter: quiet(),
      snapshotSamples: 0,
    });
    expect(whole.losses.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6]);
    // After that warm-up, the stopped and the resumed run leave no tensors behind.
    const tensors = tf.memory().numTensors;
    const controller = new AbortController();
    const reporter = stopAfterStep(3, controller);
    const resumedDir = join(root, 'resumed');
    const first = await trainRun({
      config: await tiny(),
      runDir: resumedDir,
      reporter,
      signal: controller.signal,
      snapshotSamples: 0,
    });
    expect(first).toMatchObject({ step: 3, reason: 'stopped' });
    const second = await trainRun({
      config: await tiny(),
      runDir: resumedDir,
      reporter: quiet(),
      snapshotSamples: 0,
    });
    expect(second.step).toBe(6);
    expect([...first.losses, ...second.losses]).toEqual(whole.losses);
    expect(tf.memory().numTensors).toBe(tensors);
    // The exported EMA weights are equal byte for byte.
    expect(
      Buffer.compare(
        await readFile(join(whole.exportDir!, 'weights.bin')),
        await readFile(join(second.exportDir!, 'weights.bin')),
      ),
    ).toBe(0);
  });

  it('sbm train --preset toy/mixture trains and exports a point model', async () => {
    const run = join(root, 'cli-train');
    const tensors = tf.memory().numTensors; // the snapshot (scatter + fit) and the export included
    const t = await sbm(
      'train',
      '--run',
      run,
      '--preset',
      'toy/mixture',
      '--set',
      'training.nIters=4',
      '--set',
      'training.snapshotFreq=4',
      '--backend',
      'wasm',
      '--jsonl',
    );
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const events = jsonLines(t.out);
    expect(events.find((e) => e.event === 'finish' && e.task === 'train')).toMatchObject({
      step: 4,
      reason: 'done',
    });
    expect(events.find((e) => e.event === 'snapshot')).toMatchObject({ step: 4 });
    expect(tf.memory().numTensors).toBe(tensors);
    const sidecar = JSON.parse(await readFile(join(run, 'export', 'sbm-model.json'), 'utf8'));
    expect(sidecar.data).toEqual({ shape: [2] });
  });
});

describe('trainRun on toy/mixture with classes and label dropout, then guided sampling', () => {
  it('w = 0 spreads over all components, w = 1 samples the class, w = 3 concentrates on it', async () => {
    const config = await loadConfig({
      preset: 'toy/mixture',
      set: [
        ...QUALITY_SETTINGS.filter(
          (s) => !s.startsWith('training.nIters') && !s.startsWith('training.snapshotFreq='),
        ),
        'training.nIters=1500',
        'training.snapshotFreq=1500',
        'training.snapshotSampling=false',
        'data.numClasses=8',
        'training.labelDropout=0.2',
      ],
    });
    const runDir = join(root, 'conditional');
    const result = await trainRun({ config, runDir, reporter: quiet(), snapshotSamples: 0 });
    expect(result.reason).toBe('done');
    const { model, info } = await loadExportedModel(result.exportDir!);
    expect(info.numClasses).toBe(8);
    const adapterOptions = modelAdapterOptions(info);
    const adapter = wrapModel(model, adapterOptions);
    const { sampler, numSamples: _n, batchSize: _b, ...samplerOptions } = config.sampling;
    const mixture = toyMixtureOfConfig(config.data as ToyDataConfig);
    const n = 800;
    const shareOfClass = async (scale: number) => {
      const points = new Float32Array(2 * n);
      await sampleBatches({
        sde: adapterOptions.sde,
        model: adapter,
        sampler,
        samplerOptions,
        sampleShape: [2],
        count: n,
        batchSize: n,
        seed: 11,
        conditioning: { numClasses: 8, classLabel: 3, scale },
        onBatch: (batch, samples) => points.set(samples, 2 * batch.start),
      });
      const fit = mixtureFit(mixture, points);
      // mean squared distance to component 3's mean, in units of its variance 2σ² (true samples: 1)
      const [mx, my] = mixture.means[3]!;
      let d2 = 0;
      for (let i = 0; i < n; i++) d2 += (points[2 * i]! - mx) ** 2 + (points[2 * i + 1]! - my) ** 2;
      return { share: fit.componentCounts[3]! / n, spread: d2 / n / (2 * mixture.stds[3]! ** 2) };
    };
    const [w0, w1, w3] = [await shareOfClass(0), await shareOfClass(1), await shareOfClass(3)];
    model.dispose();
    console.info(
      `toy/mixture, class 3: share/spread at w = 0 ${JSON.stringify(w0)}, w = 1 ${JSON.stringify(w1)}, w = 3 ${JSON.stringify(w3)}`,
    );
    // Unconditional (the null class, learned from the 20 % dropped labels): spread over the ring, not the class —
    // the true mixture gives share 1/8 and a mean squared distance to component 3 of 2r² = 8, i.e. spread 400
    // (measured: share 0.05, spread 392).
    expect(w0.share).toBeLessThan(0.3);
    expect(w0.spread).toBeGreaterThan(100);
    // Conditional as trained: nearly all in the class's component.
    expect(w1.share).toBeGreaterThan(0.85);
    // Guided: at least as many in the component and a tighter spread than w = 1 (measured 0.59 → 0.19).
    expect(w3.share).toBeGreaterThanOrEqual(w1.share - 0.01);
    expect(w3.spread).toBeLessThan(w1.spread);
  });
});
