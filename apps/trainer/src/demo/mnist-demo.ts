import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { wrapModel } from '@sbm/samplers';
import { writeFileAtomic } from '../checkpoint/atomic-file.js';
import { loadExportedModel, modelAdapterOptions } from '../checkpoint/export-model.js';
import type { Reporter } from '../cli/progress.js';
import type { TrainerConfig } from '../config/schema.js';
import { loadMnist, loadMnistRaw, type MnistResolution } from '../data/mnist.js';
import { datasetToDigitImages } from '../eval/dataset-images.js';
import { trainDigitClassifier } from '../eval/digit-classifier.js';
import { type DigitSampleMetrics, digitSampleMetrics, formatDigitMetrics } from '../eval/digit-metrics.js';
import { MNIST_TRAIN_DIGITS } from '../run/load-dataset.js';
import { trainRun } from '../run/train-run.js';
import { imageGrid } from '../sample/image-grid.js';
import { encodePng, type Image8 } from '../sample/png-io.js';
import { sampleImages } from '../sample/sample-images.js';

/** The trainer preset the demo trains (`sbm demo`, `pnpm demo`). */
export const MNIST_DEMO_PRESET = 'mnist/demo';

/** Options of {@link runMnistDemo}. */
export interface MnistDemoOptions {
  /** A resolved MNIST config, normally `loadConfig({ preset: MNIST_DEMO_PRESET, set })`. */
  config: TrainerConfig;
  /** The run directory (resumed if it has checkpoints); the grid and the report are written into it. */
  runDir: string;
  /** Progress and messages. */
  reporter: Reporter;
  /** Train until this many steps are done in all (default `training.nIters`); more steps resume the run. */
  steps?: number;
  /** Generated digits to measure (default 500); the grid shows the first 64. */
  evalSamples?: number;
  /** Passes of the measuring classifier over the training digits (default 4). */
  classifierEpochs?: number;
  /** Stops training after the current step, with a checkpoint; run the demo again to continue. */
  signal?: AbortSignal;
}

/** What {@link runMnistDemo} did. */
export interface MnistDemoResult {
  /** Training steps done in all. */
  step: number;
  /** `'done'`, or `'stopped'` when the signal ended training (nothing was sampled then). */
  reason: 'done' | 'stopped' | 'time';
  /** `<runDir>/grid.png`: the first 64 generated digits (on `'done'`). */
  gridPath?: string;
  /** `<runDir>/demo-report.md`: the measurements as markdown (on `'done'`). */
  reportPath?: string;
  /** The measurements (on `'done'`). */
  metrics?: DigitSampleMetrics;
  /** Model evaluations per generated digit. */
  nfePerSample?: number;
  /** Wall-clock seconds of this call's training, sampling and measuring. */
  seconds: { train: number; sample: number; measure: number };
}

const GRID_DIGITS = 64;

/**
 * The repository's main job on a CPU: trains the config's score model on the `mnist` package's digits
 * ({@link trainRun}, resumable), samples `evalSamples` digits from the exported EMA model with the config's
 * sampler, writes the first 64 as `grid.png`, and measures all of them with a small CNN classifier trained
 * on the same training digits ({@link digitSampleMetrics}): held-out accuracy, the share of digits classified
 * with confidence ≥ 0.9 against the held-out real digits' share, the class histogram, and the Fréchet
 * distance in the classifier's feature space against the real-vs-real floor. The report goes to
 * `demo-report.md` and `demo-metrics.json`.
 *
 * @throws Error naming `config.data.dataset` unless the config trains on MNIST.
 */
export async function runMnistDemo(options: MnistDemoOptions): Promise<MnistDemoResult> {
  const { config, runDir, reporter } = options;
  if (config.data.dataset !== 'mnist') {
    throw new Error(`config.data.dataset: the MNIST demo needs 'mnist', got '${config.data.dataset}'`);
  }
  const evalSamples = options.evalSamples ?? 500;
  if (!Number.isInteger(evalSamples) || evalSamples < 2) {
    throw new Error(`evalSamples: expected an integer >= 2, got ${evalSamples}`);
  }
  const clock = () => performance.now() / 1000;
  const seconds = { train: 0, sample: 0, measure: 0 };

  let t0 = clock();
  const trained = await trainRun({ config, runDir, reporter, steps: options.steps, signal: options.signal });
  seconds.train = clock() - t0;
  if (trained.reason !== 'done' || trained.exportDir === undefined) {
    reporter.info(`training stopped at step ${trained.step}; run the demo again to continue from there`);
    return { step: trained.step, reason: trained.reason, seconds };
  }

  t0 = clock();
  const { model, info } = await loadExportedModel(trained.exportDir);
  const adapterOptions = modelAdapterOptions(info);
  const {
    sampler,
    numSamples: _n,
    ...samplerOptions
  } = config.sampling as { sampler: string } & Record<string, unknown>;
  const side = config.data.resolution;
  const pixels = new Float32Array(evalSamples * side * side);
  const gridImages: Image8[] = [];
  reporter.start('sample', evalSamples);
  let sampled: Awaited<ReturnType<typeof sampleImages>>;
  try {
    sampled = await sampleImages({
      sde: adapterOptions.sde,
      model: wrapModel(model, { ...adapterOptions, name: trained.exportDir }),
      sampler,
      samplerOptions,
      sampleShape: [side, side, 1],
      count: evalSamples,
      batchSize: 250,
      seed: config.seed,
      centered: config.data.centered,
      onBatch: (batch, images) => {
        for (const [i, image] of images.entries()) {
          const offset = (batch.start + i) * side * side;
          for (let k = 0; k < side * side; k++) pixels[offset + k] = image.data[k]! / 255;
          if (gridImages.length < GRID_DIGITS) gridImages.push(image);
        }
        reporter.update(batch.end);
      },
    });
  } finally {
    model.dispose();
  }
  // `nfe` counts model calls over all batches; every digit of a batch takes part in each of its batch's calls.
  const nfePerSample = sampled.nfe / sampled.batches.length;
  reporter.finish({ images: evalSamples, nfe: nfePerSample });
  const gridPath = join(runDir, 'grid.png');
  const grid = encodePng(imageGrid(gridImages, { columns: 8, scale: side < 32 ? 3 : 1 }));
  await writeFileAtomic(gridPath, async (h) => {
    await h.writeFile(grid);
  });
  reporter.info(`wrote ${gridPath} (${gridImages.length} digits, ${nfePerSample} model evaluations each)`);
  seconds.sample = clock() - t0;

  t0 = clock();
  reporter.info('measuring: training the digit classifier on the training digits');
  const digits = loadMnist({
    train: MNIST_TRAIN_DIGITS,
    test: loadMnistRaw().count - MNIST_TRAIN_DIGITS, // every digit not trained on
    resolution: side as MnistResolution,
  });
  const classifier = await trainDigitClassifier({
    train: digits.train,
    epochs: options.classifierEpochs ?? 4,
    seed: config.seed,
  });
  let metrics: DigitSampleMetrics;
  try {
    metrics = digitSampleMetrics({ classifier, samples: pixels, real: datasetToDigitImages(digits.test!) });
  } finally {
    classifier.dispose();
  }
  seconds.measure = clock() - t0;

  const report = [
    `# MNIST demo: ${config.name ?? 'custom config'}, ${trained.step} steps, ${side}×${side}`,
    '',
    `Sampler: ${sampler} (${nfePerSample} model evaluations per digit). Classifier: a small CNN trained on the`,
    `${MNIST_TRAIN_DIGITS} training digits, measured on the ${digits.test!.size} held-out ones.`,
    '',
    formatDigitMetrics(metrics),
  ].join('\n');
  const reportPath = join(runDir, 'demo-report.md');
  await writeFile(reportPath, report);
  await writeFile(
    join(runDir, 'demo-metrics.json'),
    `${JSON.stringify({ step: trained.step, sampler, samplerOptions, nfePerSample, ...metrics, seconds }, null, 2)}\n`,
  );
  const ratio = metrics.confidentShare / metrics.realConfidentShare;
  reporter.info(
    `${(100 * metrics.confidentShare).toFixed(1)} % of the generated digits are classified with confidence ≥ 0.9 ` +
      `(real digits: ${(100 * metrics.realConfidentShare).toFixed(1)} %, ratio ${ratio.toFixed(2)}); ` +
      `Fréchet distance ${metrics.frechet.toFixed(2)} (real-vs-real floor ${metrics.frechetFloor.toFixed(2)}); ` +
      `report in ${reportPath}`,
  );
  return {
    step: trained.step,
    reason: 'done',
    gridPath,
    reportPath,
    metrics,
    nfePerSample,
    seconds,
  };
}
