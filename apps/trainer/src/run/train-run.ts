import { existsSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { wrapModel } from '@sbm/samplers';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../checkpoint/atomic-file.js';
import { openCheckpointDir } from '../checkpoint/checkpoint-dir.js';
import { exportTrainStateModel } from '../checkpoint/export-model.js';
import {
  readModelWeights,
  restoreTrainState,
  type TrainState,
  trainStateFromCheckpoint,
  trainStateToCheckpoint,
  withModelShapes,
} from '../checkpoint/train-state.js';
import type { Reporter } from '../cli/progress.js';
import { resolveModelIO } from '../config/model-io.js';
import type { TrainerConfig } from '../config/schema.js';
import { writeResolvedConfig } from '../config/write-resolved-config.js';
import { type ArrayDataset, isImageDataset } from '../data/dataset.js';
import { type BatchPosition, createBatchStream, prefetch } from '../data/pipeline.js';
import { toyMixtureOfConfig } from '../data/toy-mixture.js';
import { mixtureFit } from '../eval/mixture-fit.js';
import { imageGrid } from '../sample/image-grid.js';
import { encodePng } from '../sample/png-io.js';
import { sampleBatches, sampleConditioning, sampleImages } from '../sample/sample-images.js';
import { scatterPlot } from '../sample/scatter-plot.js';
import type { ExponentialMovingAverage } from '../train/ema.js';
import type { TrainingLoss } from '../train/loss-for-config.js';
import { NonFiniteLossError, trainStep } from '../train/train-step.js';
import type { trainableVariables } from '../train/variables.js';
import { loadTrainingSet } from './load-dataset.js';
import { writeLossCurve } from './loss-curve.js';
import { withSeededRandom } from './seeded-random.js';
import { createTrainingSetup, type ScoreNetwork } from './training-setup.js';

/** Options of {@link trainRun}. */
export interface TrainRunOptions {
  /** The resolved, validated configuration. */
  config: TrainerConfig;
  /** The run directory: `config.json`, `metrics.jsonl`, `checkpoints/`, `samples/`, `export/`. */
  runDir: string;
  /** Progress and messages. */
  reporter: Reporter;
  /** Train until this many steps are done in all (default `training.nIters`). */
  steps?: number;
  /** Stop (with a checkpoint) once this many seconds of this process's training have passed. */
  maxSeconds?: number;
  /** Checkpoints to keep (default 3). */
  keep?: number;
  /** Resume from the previous good checkpoint when the newest one is unreadable (default false: error). */
  fallback?: boolean;
  /** Aborting it stops the run after the current step, with a checkpoint (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  /** The training set (default: loaded from `config.data`). */
  dataset?: ArrayDataset;
  /**
   * Samples drawn from the EMA weights at every snapshot (0: none; only with `training.snapshotSampling`):
   * images in the grid (default 16), or points in the scatter plot (default `sampling.numSamples`, else 1000).
   */
  snapshotSamples?: number;
}

/** How {@link trainRun} ended. */
export interface TrainRunResult {
  /** Steps done in all. */
  step: number;
  /** `'done'`: reached the step count; `'stopped'`: the signal; `'time'`: `maxSeconds`. */
  reason: 'done' | 'stopped' | 'time';
  /** The loss of every step this process ran, in order. */
  losses: { step: number; loss: number }[];
  /** The exported EMA model directory (on `'done'`). */
  exportDir?: string;
}

/** The position after `batch` (the next batch to draw on resume). */
function after(position: BatchPosition): BatchPosition {
  return { epoch: position.epoch, index: position.index + 1 };
}

/** One line of `metrics.jsonl`. */
interface MetricsLine {
  step: number;
  loss: number;
  gradNorm: number;
  lr: number;
  imagesPerSecond?: number;
  time: string;
}

/**
 * Trains a score model as score_sde's `run_lib.train` does, resumable step for step:
 * the config's U-Net and loss (`lossForConfig`), score_sde's Adam with warm-up and clipping, the EMA,
 * a deterministic data order and per-step noise seeds. Writes `config.json`, `metrics.jsonl` (every
 * `training.logFreq` steps), atomic checkpoints (a step-0 one at the start of a new run, then every
 * `snapshotFreqForPreemption` and `snapshotFreq` steps, on a stop request and at the end; the last `keep`
 * kept), samples from the EMA weights (a grid of images, or for point data a scatter plot over the training
 * points and, for toy mixtures, a `snapshot` event with the samples' fit to the mixture) and the loss curve
 * (`loss.svg`) at every `snapshotFreq`, and at the end the EMA model in `export/` (what @sbm/samplers users
 * load). The network is the config's U-Net or, for `model.kind: 'mlp'`, its MLP (`x [B, 2]`). A run directory
 * with checkpoints is resumed from the newest.
 *
 * A non-finite loss or gradient stops the run with a {@link NonFiniteLossError} whose message says what
 * went wrong and which checkpoint is the last good one; nothing is saved after it.
 */
export async function trainRun(options: TrainRunOptions): Promise<TrainRunResult> {
  const { config, runDir, reporter } = options;
  const totalSteps = options.steps ?? config.training.nIters;
  await mkdir(runDir, { recursive: true });
  await writeResolvedConfig(runDir, config);
  const dataset = options.dataset ?? (await loadTrainingSet(config.data, { seed: config.seed }));
  const setup = createTrainingSetup(config);
  const { architecture, lossConfig, net, variables, optimizer, ema, context } = setup;
  const checkpoints = await openCheckpointDir(join(runDir, 'checkpoints'), {
    keep: options.keep ?? 3,
    onWarning: (m) => reporter.warn(m),
  });
  try {
    let position: BatchPosition = { epoch: 0, index: 0 };
    const latest = await checkpoints.latest({ fallback: options.fallback ?? false });
    let lastSaved: string | undefined;
    let savedStep = -1;
    if (latest) {
      const state = trainStateFromCheckpoint(latest.checkpoint);
      restoreTrainState(state, { model: net.model });
      if (state.optimizer) optimizer.setState(state.optimizer, variables);
      if (state.ema && state.emaInfo) {
        const shadow = Object.fromEntries(Object.entries(state.ema).map(([name, w]) => [name, w.data]));
        ema.setState({ ...state.emaInfo, shadow });
      }
      position = state.data;
      lastSaved = latest.path;
      savedStep = state.step;
      reporter.info(`resuming ${runDir} at step ${state.step} from ${latest.path}`);
    }
    const snapshot = (): TrainState => {
      const { shadow, decay, numUpdates } = ema.getState();
      return {
        step: optimizer.step,
        config: config as unknown as Record<string, unknown>,
        weights: readModelWeights(net.model),
        ema: withModelShapes(net.model, shadow),
        emaInfo: { decay, numUpdates },
        optimizer: optimizer.getState(),
        data: position,
        rng: Uint32Array.of(config.seed >>> 0),
      };
    };
    const save = async (): Promise<string> => {
      const { path } = await checkpoints.save(optimizer.step, trainStateToCheckpoint(snapshot()));
      lastSaved = path;
      savedStep = optimizer.step;
      reporter.event({ event: 'checkpoint', step: optimizer.step, path });
      return path;
    };
    // A new run saves its initial weights first: initializers are not seeded, and a resume must start
    // from the same weights as the run it continues.
    if (!latest) await save();

    const stream = prefetch(
      createBatchStream({
        dataset,
        batchSize: config.training.batchSize,
        seed: config.seed,
        randomFlip: 'randomFlip' in config.data ? config.data.randomFlip : false,
        centered: 'centered' in config.data ? config.data.centered : true,
        position,
      }),
    );
    const conditional = config.data.numClasses > 0;
    const losses: { step: number; loss: number }[] = [];
    const metricsFile = join(runDir, 'metrics.jsonl');
    // Before the first `training.logFreq` step there is no metrics line to draw (e.g. a run stopped early).
    const updateLossCurve = async () => {
      if (existsSync(metricsFile)) await writeLossCurve(runDir);
    };
    const started = performance.now();
    let windowStart = performance.now();
    let windowSteps = 0;
    let reason: TrainRunResult['reason'] = 'done';
    reporter.start('train', totalSteps, optimizer.step);
    while (optimizer.step < totalSteps) {
      const batch = await stream.next();
      const x = tf.tensor(batch.x, batch.shape);
      const labels = batch.labels && conditional ? tf.tensor1d(batch.labels, 'int32') : undefined;
      let result: ReturnType<typeof trainStep>;
      try {
        result = withSeededRandom(config.seed, optimizer.step + 1, () =>
          trainStep(context, labels ? { x, labels } : x),
        );
      } catch (error) {
        if (error instanceof NonFiniteLossError) {
          error.message += `; the last good checkpoint is ${lastSaved ?? 'none'} (nothing was saved after this step)`;
        }
        throw error;
      } finally {
        tf.dispose([x, labels]);
      }
      position = after(batch.position);
      losses.push({ step: result.step + 1, loss: result.loss });
      windowSteps++;
      const step = optimizer.step;
      if (step % config.training.logFreq === 0 || step === totalSteps) {
        const seconds = (performance.now() - windowStart) / 1000;
        const line: MetricsLine = {
          step,
          loss: result.loss,
          gradNorm: result.gradNorm,
          lr: result.lr,
          imagesPerSecond: seconds > 0 ? (windowSteps * config.training.batchSize) / seconds : undefined,
          time: new Date().toISOString(),
        };
        await appendFile(metricsFile, `${JSON.stringify(line)}\n`);
        windowStart = performance.now();
        windowSteps = 0;
      }
      reporter.update(step, { loss: result.loss });
      const { snapshotFreq, snapshotFreqForPreemption } = config.training;
      if (
        step % snapshotFreq === 0 &&
        (options.snapshotSamples ?? 1) > 0 &&
        config.training.snapshotSampling
      ) {
        const file = join(runDir, 'samples', `step-${step}.png`);
        if (isImageDataset(dataset)) {
          await writeSampleGrid(net, lossConfig, config, variables, ema, file, options.snapshotSamples ?? 16);
        } else {
          const count = options.snapshotSamples ?? config.sampling.numSamples ?? 1000;
          const fit = await writeSampleScatter(net, lossConfig, config, variables, ema, dataset, file, count);
          if (fit) {
            reporter.event({ event: 'snapshot', step, ...fit });
            reporter.info(
              `step ${step}: EMA samples' mean log-density ${fit.meanLogDensity.toFixed(3)} (training points ${fit.dataMeanLogDensity.toFixed(3)}), ${(100 * fit.within3Std).toFixed(1)}% within 3 std of a component`,
            );
          }
        }
      }
      if (step % snapshotFreqForPreemption === 0 || step % snapshotFreq === 0) await save();
      if (step % snapshotFreq === 0) await updateLossCurve();
      if (options.signal?.aborted) {
        reason = 'stopped';
        break;
      }
      if (options.maxSeconds !== undefined && (performance.now() - started) / 1000 >= options.maxSeconds) {
        reason = 'time';
        break;
      }
    }
    reporter.finish({ step: optimizer.step, reason });
    if (losses.length > 0) await updateLossCurve();
    if (savedStep !== optimizer.step) await save();
    let exportDir: string | undefined;
    if (reason === 'done') {
      exportDir = join(runDir, 'export');
      const io = resolveModelIO(config);
      const state = snapshot();
      await exportTrainStateModel(exportDir, state, {
        ...(architecture.kind === 'unet'
          ? { unetConfig: architecture.config }
          : { mlpConfig: architecture.config }),
        info: {
          sde: { ...sdeInfo(config) },
          prediction: io.prediction,
          timeInput: io.timeInput,
          numTrainSteps: 1000,
        },
      });
    }
    return { step: optimizer.step, reason, losses, exportDir };
  } finally {
    setup.dispose();
  }
}

/** The sidecar's SDE description of a config. */
function sdeInfo(config: TrainerConfig) {
  const s = config.sde;
  return s.kind === 've'
    ? { kind: 've' as const, sigmaMin: s.sigmaMin, sigmaMax: s.sigmaMax, N: s.numScales }
    : { kind: s.kind, betaMin: s.betaMin, betaMax: s.betaMax, N: s.numScales };
}

/** The config's sampler over the network with the EMA weights (put into `variables` by the caller). */
function emaSampling(net: ScoreNetwork, lossConfig: TrainingLoss, config: TrainerConfig) {
  const io = resolveModelIO(config);
  const adapter = wrapModel(net.model, {
    sde: lossConfig.sde,
    prediction: io.prediction,
    timeInput: io.timeInput,
    numTrainSteps: 1000,
    name: 'EMA network',
  });
  const { sampler, numSamples: _n, batchSize, ...samplerOptions } = config.sampling;
  return { adapter, sampler, samplerOptions, batchSize };
}

/**
 * Samples `count` points `[count, 2]` with the EMA weights and the config's sampler, and writes a scatter plot
 * of them over (up to 5000 of) the training points. For toy data, returns the samples' {@link mixtureFit} to
 * the config's mixture and, as the reference, the mean log-density of `count` training points (true samples).
 */
async function writeSampleScatter(
  net: ScoreNetwork,
  lossConfig: TrainingLoss,
  config: TrainerConfig,
  variables: ReturnType<typeof trainableVariables>,
  ema: ExponentialMovingAverage,
  dataset: ArrayDataset,
  file: string,
  count: number,
): Promise<(ReturnType<typeof mixtureFit> & { dataMeanLogDensity: number }) | undefined> {
  const dim = dataset.shape.reduce((a, b) => a * b, 1);
  if (dim !== 2) return undefined; // a scatter plot shows 2-D points only
  const points = new Float32Array(count * dim);
  ema.store(variables);
  ema.copyTo(variables);
  try {
    const { adapter, sampler, samplerOptions, batchSize } = emaSampling(net, lossConfig, config);
    await sampleBatches({
      sde: lossConfig.sde,
      model: adapter,
      sampler,
      samplerOptions,
      sampleShape: [dim],
      count,
      batchSize: batchSize ?? count,
      seed: config.seed,
      conditioning: sampleConditioning(config.data.numClasses, config.guidance),
      onBatch: (batch, samples) => {
        points.set(samples, batch.start * dim);
      },
    });
  } finally {
    ema.restore(variables);
  }
  const reference = dataset.data.subarray(0, Math.min(dataset.size, 5000) * dim);
  await mkdir(join(file, '..'), { recursive: true });
  const png = encodePng(scatterPlot(points, { reference }));
  await writeFileAtomic(file, async (handle) => {
    await handle.writeFile(png);
  });
  if (config.data.dataset !== 'toy') return undefined;
  const mixture = toyMixtureOfConfig(config.data);
  const truth = mixtureFit(mixture, dataset.data.subarray(0, Math.min(dataset.size, count) * dim));
  return { ...mixtureFit(mixture, points), dataMeanLogDensity: truth.meanLogDensity };
}

/** Samples `count` images with the EMA weights and the config's sampler, and writes a PNG grid. */
async function writeSampleGrid(
  net: ScoreNetwork,
  lossConfig: TrainingLoss,
  config: TrainerConfig,
  variables: ReturnType<typeof trainableVariables>,
  ema: ExponentialMovingAverage,
  file: string,
  count: number,
): Promise<void> {
  ema.store(variables);
  ema.copyTo(variables);
  try {
    const { adapter, sampler, samplerOptions } = emaSampling(net, lossConfig, config);
    const images: Parameters<typeof imageGrid>[0][number][] = [];
    const r = config.data.dataset === 'toy' ? 0 : config.data.resolution;
    const channels = config.data.dataset === 'toy' ? 0 : config.data.channels;
    await sampleImages({
      sde: lossConfig.sde,
      model: adapter,
      sampler,
      samplerOptions,
      sampleShape: [r, r, channels],
      count,
      batchSize: count,
      seed: config.seed,
      conditioning: sampleConditioning(config.data.numClasses, config.guidance),
      centered: 'centered' in config.data ? config.data.centered : true,
      onBatch: (_batch, ims) => {
        images.push(...ims);
      },
    });
    await mkdir(join(file, '..'), { recursive: true });
    const png = encodePng(imageGrid(images, { padding: 2 }));
    await writeFileAtomic(file, async (handle) => {
      await handle.writeFile(png);
    });
  } finally {
    ema.restore(variables);
  }
}
