import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type BackendChoice, setupBackend } from '@sbm/backend';
import type { DivergenceMethod } from '@sbm/metrics';
import { wrapModel } from '@sbm/samplers';
import { runConvertCli } from '@sbm/unet/node';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '../checkpoint/atomic-file.js';
import {
  isImageModelInfo,
  loadExportedModel,
  modelAdapterOptions,
  modelSampleShape,
} from '../checkpoint/export-model.js';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load.js';
import { TRAINER_PRESET_NAMES } from '../config/presets.js';
import { parseSetOverride } from '../config/set-override.js';
import { RESOLVED_CONFIG_FILE } from '../config/write-resolved-config.js';
import { downloadCifar10 } from '../data/cifar10-download.js';
import { toyMixtureOfConfig } from '../data/toy-mixture.js';
import { MNIST_DEMO_PRESET, runMnistDemo } from '../demo/mnist-demo.js';
import { formatDoctorReport, runDoctor } from '../doctor/doctor.js';
import { assessGpuUse, decideGpuFallback, readProcSelfMaps } from '../doctor/gpu-fallback.js';
import { evaluateLikelihood } from '../eval/bits-per-dim.js';
import { loadEvaluationSet } from '../run/load-dataset.js';
import { trainRun } from '../run/train-run.js';
import { imageGrid } from '../sample/image-grid.js';
import { encodePng, type Image8 } from '../sample/png-io.js';
import { sampleConditioning, sampleImages } from '../sample/sample-images.js';
import { samplerByName } from '../sample/sampler-registry.js';
import { shardFromEnvironment } from '../sample/shard.js';
import { writePointSamples } from '../sample/write-point-samples.js';
import { backendSummary } from './backend-summary.js';
import { convertedModelInfo, writeConvertedModelInfo } from './converted-sidecar.js';
import { type OutputMode, type OutputStream, Reporter } from './progress.js';

/** Where the CLI writes and what it reads from its environment (the real process by default). */
export interface CliIo {
  out?: OutputStream;
  err?: OutputStream;
  env?: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM by `main`; a stop request for `train`. */
  signal?: AbortSignal;
}

const COMMANDS = ['demo', 'train', 'sample', 'eval', 'convert', 'doctor', 'download'] as const;

const USAGE = `Usage: sbm <command> [options]

Commands:
  demo       the main job on a CPU: train on MNIST (about 15 minutes on 2 cores), sample, measure the digits
  train      train a score model (score_sde's CIFAR-10 configs on a GPU box, small presets on any CPU)
  sample     sample images from a run or an exported model, sharded over machines if wanted
  eval       bits/dim of the held-out data along the probability-flow ODE (FID: sbm sample, then sbm-metrics)
  convert    convert a score_sde_pytorch .pth checkpoint to a tfjs model (@sbm/unet's converter)
  doctor     report the GPU setup (driver, CUDA 11.2, cuDNN 8, tfjs-node-gpu) and the backend in use
  download   download and verify a dataset (cifar10)

Common options: --log pretty|quiet|jsonl (or --quiet, --jsonl), --help.
Run \`sbm <command> --help\` for a command's options.`;

const HELP: Record<(typeof COMMANDS)[number], string> = {
  demo: `Usage: sbm demo [--run <dir>] [--set key=value]... [--samples <n>]

Trains the ${MNIST_DEMO_PRESET} preset on the mnist package's digits (about 15 minutes on a 2-core CPU with the
wasm backend), samples digits from the EMA model, writes the first 64 to <dir>/grid.png, and measures all of
them with a small CNN classifier trained on the same digits: confident share (max p >= 0.9) against the
held-out real digits, class histogram, Fréchet distance in the classifier's features against the
real-vs-real floor (<dir>/demo-report.md, <dir>/demo-metrics.json). Ctrl-C saves a checkpoint; running the
demo again continues from it.

  --run <dir>            the run directory (default demo-out/mnist)
  --set key=value        override a config key (repeatable), e.g. --set training.nIters=200
  --steps <n>            train until n steps in all (default training.nIters; more than before resumes)
  --samples <n>          digits to generate and measure (default 500)
  --backend <b>          auto, tensorflow-gpu, tensorflow, wasm or cpu (default: the preset's)`,
  train: `Usage: sbm train --run <dir> [--preset <name> | --config <file.yaml|json>] [--set key=value]...

Trains into <dir> (config.json, metrics.jsonl, checkpoints/, samples/, export/). A run directory with
checkpoints is resumed from the newest one (its config.json is used unless --preset/--config is given).
SIGINT/SIGTERM save a checkpoint and exit cleanly.

  --preset <name>        ${TRAINER_PRESET_NAMES.join(', ')}
  --config <file>        a JSON or YAML config (on top of --preset if both are given)
  --set key=value        override a config key (repeatable), e.g. --set optim.lr=1e-3
  --steps <n>            train until n steps in all (default training.nIters)
  --max-seconds <s>      stop with a checkpoint after s seconds
  --keep <k>             checkpoints to keep (default 3)
  --fallback             resume from the previous checkpoint if the newest is unreadable
  --backend <b>          auto, tensorflow-gpu, tensorflow, wasm or cpu (default: config.backend)
  --allow-cpu-fallback   train even if the tensorflow backend silently runs on the CPU`,
  sample: `Usage: sbm sample (--run <dir> | --model <dir>) --out <dir> [options]

Samples images with any sampler of @sbm/samplers from a run's exported EMA model (--run) or an exported /
converted model directory (--model: model.json + sbm-model.json), to <out>/<index>.png and <out>/grid.png.
Point models (2-D toy data, sbm-model.json data.shape [2]) write <out>/points.csv instead (one x,y line per
sample in index order, no header) and a scatter plot <out>/scatter.png; from a toy --run, the points' mean
log-density under the training mixture is reported next to that of fresh true points. Sample k depends only
on (seed, k): shards together equal one unsharded run, image for image (shard i writes points-<i>.csv and
scatter-<i>.png; the CSV files concatenated in shard order are the unsharded points.csv).

  --count <n>            samples in the whole run (default 64)
  --batch <b>            samples per model call (default 64; wasm has a 4 GiB heap)
  --sampler <name>       pc, ode, ddpm, ddim, edm, dpmSolver, dpmSolverPlusPlus, unipc (default: the run's)
  --steps <n>            sampler steps; other options with --set sampling.<key>=<value>
  --seed <s>             the run's seed (default 0)
  --class <k>            class of every sample of a class-conditional model (default: sample i is of class i mod K)
  --guidance <w>         classifier-free guidance scale (1: conditional as trained, 0: unconditional; default
                         the run's guidance.scale); needs a model trained with training.labelDropout > 0
  --shard <i/n>          this process's shard (default: JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID, else 0/1)
  --shards <n>           number of shards when the index comes from the scheduler`,
  eval: `Usage: sbm eval --run <dir> [--count <n>] [--batch <b>] [--rtol <r>] [--atol <a>] [--divergence <d>]

Bits/dim of the run's held-out data under its exported model (score_sde's evaluation): the exact log-likelihood
along the probability-flow ODE (RK45) of uniformly dequantized 8-bit images scaled as in training, plus score_sde's
offset (8 bits for [0, 1] data, 7 for centered); for the toy mixture, −log p / (2 ln 2) and log p in nats.
Held-out data: CIFAR-10's test_batch.bin, the 2000 MNIST digits not trained on, fresh toy points; an image folder
is used whole. FID, IS and KID of samples: \`sbm sample --run <dir> --out samples\`, then \`sbm-metrics fid samples <stats.npz>\`.

  --model <dir>          exported model (default <run>/export)
  --count <n>            examples (default 64; each costs one ODE solve, hundreds of model evaluations)
  --batch <b>            examples per solve (default 16)
  --rtol, --atol         RK45 tolerances (default 1e-5, as score_sde)
  --divergence <d>       hutchinson-rademacher (default), hutchinson-gaussian or exact (≤ 64 values per example)
  --seed <s>             seed of the dequantization and the probes (default 0)
  --backend <name>       auto, tensorflow, wasm or cpu`,
  convert: `Usage: sbm convert <checkpoint.pth> <out-dir> --preset <name> [--weights ema|model] [--overrides <json>]

Converts a score_sde_pytorch checkpoint to a tfjs LayersModel directory (@sbm/unet's sbm-unet-convert).`,
  doctor: `Usage: sbm doctor

Reports the platform, Node and N-API, the NVIDIA driver and GPUs, the CUDA 11.2 and cuDNN 8 libraries that
libtensorflow 2.9.1 loads, whether @tensorflow/tfjs-node-gpu and its native parts are installed, and the backend
that training would use — with the fix for each missing piece. Exit code 0 when GPU training is ready, 1 if not.`,
  download: `Usage: sbm download cifar10 --dir <dir> [--url <mirror>] [--file <archive>] [--md5 <hex>]

Downloads cifar-10-binary.tar.gz (resuming a partial download), verifies its MD5, and extracts
<dir>/cifar-10-batches-bin atomically.`,
};

function reporterFor(values: { log?: string; quiet?: boolean; jsonl?: boolean }, io: CliIo): Reporter {
  const mode = (values.quiet ? 'quiet' : values.jsonl ? 'jsonl' : (values.log ?? 'pretty')) as OutputMode;
  return new Reporter({ mode, out: io.out, err: io.err });
}

const commonOptions = {
  help: { type: 'boolean', short: 'h' },
  log: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  jsonl: { type: 'boolean' },
} as const;

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name}: expected a positive integer, got '${text}'`);
  return n;
}

/** A command-line mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function setup(choice: string | undefined, reporter: Reporter): Promise<string> {
  const prefer = (choice ?? 'auto') as BackendChoice | 'auto';
  const report = await setupBackend({ prefer, importModule: (name) => import(name) });
  reporter.info(backendSummary(report));
  reporter.event({
    event: 'backend',
    backend: report.backendName,
    choice: report.choice,
    message: report.message,
  });
  return report.backendName;
}

async function demo(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...commonOptions,
      run: { type: 'string' },
      set: { type: 'string', multiple: true },
      steps: { type: 'string' },
      samples: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (values.help) return help('demo', io);
  const reporter = reporterFor(values, io);
  const config = await loadConfig({ preset: MNIST_DEMO_PRESET, set: values.set ?? [] });
  await setup(values.backend ?? config.backend, reporter);
  const runDir = values.run ?? join('demo-out', 'mnist');
  await runMnistDemo({
    config,
    runDir,
    reporter,
    steps: positiveInt('steps', values.steps),
    evalSamples: positiveInt('samples', values.samples),
    signal: io.signal,
  });
  return 0; // a stop request (Ctrl-C) is a clean exit with a checkpoint, as for train
}

async function train(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...commonOptions,
      run: { type: 'string' },
      preset: { type: 'string' },
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
      steps: { type: 'string' },
      'max-seconds': { type: 'string' },
      keep: { type: 'string' },
      fallback: { type: 'boolean' },
      backend: { type: 'string' },
      'allow-cpu-fallback': { type: 'boolean' },
    },
  });
  if (values.help) return help('train', io);
  const reporter = reporterFor(values, io);
  if (values.run === undefined) throw new UsageError('--run: expected the run directory');
  const resolved = join(values.run, RESOLVED_CONFIG_FILE);
  let file = values.config;
  if (values.preset === undefined && file === undefined) {
    if (!existsSync(resolved)) {
      throw new UsageError(`--preset or --config: expected one (no ${resolved} to resume from)`);
    }
    file = resolved;
  }
  const config = await loadConfig({ preset: values.preset, file, set: values.set ?? [] });
  const backendName = await setup(values.backend ?? config.backend, reporter);
  if (backendName === 'tensorflow' || (values.backend ?? config.backend) === 'tensorflow-gpu') {
    const verdict = assessGpuUse({
      backendName,
      backend: tf.backend(),
      procMaps: readProcSelfMaps(),
      cudaVisibleDevices: (io.env ?? process.env).CUDA_VISIBLE_DEVICES,
    });
    const decision = decideGpuFallback(verdict, { allowCpuFallback: values['allow-cpu-fallback'] });
    if (decision.action === 'refuse') {
      reporter.error(decision.message);
      return 1;
    }
    if (decision.action === 'warn') reporter.warn(decision.message);
    else reporter.info(decision.message);
  }
  const maxSeconds = values['max-seconds'] === undefined ? undefined : Number(values['max-seconds']);
  if (maxSeconds !== undefined && !(maxSeconds > 0)) {
    throw new UsageError(`--max-seconds: expected a positive number, got '${values['max-seconds']}'`);
  }
  const result = await trainRun({
    config,
    runDir: values.run,
    reporter,
    steps: positiveInt('steps', values.steps),
    maxSeconds,
    keep: positiveInt('keep', values.keep),
    fallback: values.fallback,
    signal: io.signal,
  });
  const how = { done: 'finished', stopped: 'stopped on request', time: 'stopped at --max-seconds' }[
    result.reason
  ];
  reporter.info(
    `${how} at step ${result.step}; checkpoints in ${join(values.run, 'checkpoints')}` +
      (result.exportDir ? `; EMA model exported to ${result.exportDir}` : ''),
  );
  return 0;
}

async function sample(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...commonOptions,
      run: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      count: { type: 'string' },
      batch: { type: 'string' },
      sampler: { type: 'string' },
      steps: { type: 'string' },
      set: { type: 'string', multiple: true },
      seed: { type: 'string' },
      guidance: { type: 'string' },
      class: { type: 'string' },
      shard: { type: 'string' },
      shards: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (values.help) return help('sample', io);
  const reporter = reporterFor(values, io);
  if ((values.run === undefined) === (values.model === undefined)) {
    throw new UsageError('--run or --model: expected exactly one');
  }
  if (values.out === undefined) throw new UsageError('--out: expected the output directory');
  const modelDir = values.model ?? join(values.run!, 'export');
  if (!existsSync(join(modelDir, 'model.json'))) {
    throw new UsageError(`${modelDir}: no exported model (model.json); finish the run or export it first`);
  }
  // Sampler settings: the run's config (if any), then --sampler/--steps/--set sampling.*.
  let sampling: Record<string, unknown> = { sampler: 'unipc' };
  let runConfig: Awaited<ReturnType<typeof loadConfig>> | undefined;
  if (values.run !== undefined && existsSync(join(values.run, RESOLVED_CONFIG_FILE))) {
    const sets = [...(values.sampler ? [`sampling.sampler=${values.sampler}`] : []), ...(values.set ?? [])];
    runConfig = await loadConfig({ file: join(values.run, RESOLVED_CONFIG_FILE), set: sets });
    sampling = { ...runConfig.sampling };
  } else {
    if (values.sampler) sampling.sampler = values.sampler;
    for (const s of values.set ?? []) {
      const { path, value } = parseSetOverride(s);
      if (path.length !== 2 || path[0] !== 'sampling') {
        throw new UsageError(`--set: expected sampling.<key>=<value> with --model, got '${s}'`);
      }
      sampling[path[1]!] = value;
    }
  }
  if (values.steps !== undefined) sampling.steps = positiveInt('steps', values.steps);
  const {
    sampler,
    numSamples: _n,
    batchSize: _b,
    ...samplerOptions
  } = sampling as { sampler: string } & Record<string, unknown>;
  samplerByName(sampler);
  const shard = shardFromEnvironment(
    { shard: values.shard, shards: positiveInt('shards', values.shards) },
    io.env ?? process.env,
  );
  await setup(values.backend, reporter);
  const { model, info } = await loadExportedModel(modelDir);
  const adapterOptions = modelAdapterOptions(info);
  const adapter = wrapModel(model, { ...adapterOptions, name: modelDir });
  const count = positiveInt('count', values.count) ?? 64;
  const batchSize = positiveInt('batch', values.batch) ?? 64;
  // Class labels and classifier-free guidance: the run's `guidance` section, then --guidance / --class.
  const guidance = { scale: 1, ...(runConfig?.guidance ?? {}) } as { scale: number; classLabel?: number };
  if (values.guidance !== undefined) {
    const w = Number(values.guidance);
    if (!(w >= 0)) throw new UsageError(`--guidance: expected a number >= 0, got '${values.guidance}'`);
    guidance.scale = w;
  }
  if (values.class !== undefined) {
    const k = Number(values.class);
    if (!Number.isInteger(k) || k < 0 || k >= info.numClasses) {
      throw new UsageError(
        info.numClasses === 0
          ? `--class: the model is not class-conditional`
          : `--class: expected a class in 0 … ${info.numClasses - 1}, got '${values.class}'`,
      );
    }
    guidance.classLabel = k;
  }
  if (guidance.scale !== 1 && info.numClasses === 0) {
    throw new UsageError('--guidance: the model is not class-conditional (its sidecar says numClasses 0)');
  }
  const conditioning = sampleConditioning(info.numClasses, guidance);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed: expected an integer >= 0, got '${values.seed}'`);
  await mkdir(values.out, { recursive: true });
  if (!isImageModelInfo(info)) {
    // Point data (the toy MLP): points.csv in sample-index order and a scatter plot instead of images.
    reporter.start('sample', count);
    const written = await writePointSamples({
      sde: adapterOptions.sde,
      model: adapter,
      sampler,
      samplerOptions,
      sampleShape: modelSampleShape(info),
      count,
      batchSize,
      seed,
      shard,
      outDir: values.out,
      conditioning,
      mixture: runConfig?.data.dataset === 'toy' ? toyMixtureOfConfig(runConfig.data) : undefined,
      onProgress: (done) => reporter.update(done),
    });
    model.dispose();
    reporter.finish({ points: written.count, nfe: written.nfe });
    if (written.fit) {
      const { samples, truePoints } = written.fit;
      const shares = samples.componentCounts.map((c) => `${((100 * c) / samples.count).toFixed(1)}%`);
      reporter.info(
        `mean log-density under the training mixture ${samples.meanLogDensity.toFixed(3)} (fresh true points: ${truePoints.meanLogDensity.toFixed(3)}); ${(100 * samples.within3Std).toFixed(1)}% within 3 std of a component (true points: ${(100 * truePoints.within3Std).toFixed(1)}%); per component ${shares.join(' ')}`,
      );
      reporter.event({ event: 'mixture-fit', samples, truePoints });
    }
    const { batches: done } = written;
    const range = done.length > 0 ? `${done[0]!.start}–${done.at(-1)!.end - 1}` : 'none';
    reporter.info(
      `wrote ${written.count} points (indices ${range}, shard ${shard.index}/${shard.total}, ${written.nfe} model evaluations) to ${written.csvPath}${written.scatterPath ? ` and ${written.scatterPath}` : ''}`,
    );
    return 0;
  }
  const first: Image8[] = [];
  const digits = String(Math.max(count - 1, 0)).length;
  reporter.start('sample', count);
  let done = 0;
  const { batches, nfe } = await sampleImages({
    sde: adapterOptions.sde,
    model: adapter,
    sampler,
    samplerOptions,
    sampleShape: [info.data.imageSize, info.data.imageSize, info.data.numChannels],
    count,
    batchSize,
    seed,
    shard,
    conditioning,
    centered: info.data.centered,
    onBatch: async (batch, images) => {
      for (const [i, image] of images.entries()) {
        const png = encodePng(image);
        await writeFileAtomic(
          join(values.out!, `${String(batch.start + i).padStart(digits, '0')}.png`),
          async (h) => {
            await h.writeFile(png);
          },
        );
        if (first.length < 64) first.push(image);
      }
      done += images.length;
      reporter.update(done);
    },
  });
  reporter.finish({ images: done, nfe });
  if (first.length > 0) {
    const grid = encodePng(imageGrid(first));
    await writeFileAtomic(
      join(values.out, shard.total > 1 ? `grid-${shard.index}.png` : 'grid.png'),
      async (h) => {
        await h.writeFile(grid);
      },
    );
  }
  const range = batches.length > 0 ? `${batches[0]!.start}–${batches.at(-1)!.end - 1}` : 'none';
  reporter.info(
    `wrote ${done} images (indices ${range}, shard ${shard.index}/${shard.total}, ${nfe} model evaluations) to ${values.out}`,
  );
  model.dispose();
  return 0;
}

async function doctor(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: commonOptions });
  if (values.help) return help('doctor', io);
  const report = await runDoctor();
  const out = io.out ?? process.stdout;
  if (values.jsonl || values.log === 'jsonl')
    out.write(`${JSON.stringify({ event: 'doctor', ...report })}\n`);
  else out.write(`${formatDoctorReport(report, { color: out.isTTY === true })}\n`);
  return report.gpuReady ? 0 : 1;
}

async function evaluate(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...commonOptions,
      run: { type: 'string' },
      model: { type: 'string' },
      count: { type: 'string' },
      batch: { type: 'string' },
      rtol: { type: 'string' },
      atol: { type: 'string' },
      divergence: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (values.help) return help('eval', io);
  if (values.run === undefined)
    throw new UsageError('--run: expected the run directory (its config names the data)');
  const configFile = join(values.run, RESOLVED_CONFIG_FILE);
  if (!existsSync(configFile))
    throw new UsageError(`${values.run}: no ${RESOLVED_CONFIG_FILE}; is it a run directory?`);
  const modelDir = values.model ?? join(values.run, 'export');
  if (!existsSync(join(modelDir, 'model.json'))) {
    throw new UsageError(`${modelDir}: no exported model (model.json); finish the run or export it first`);
  }
  const tolerance = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const v = Number(text);
    if (!(v > 0 && v < 1)) throw new UsageError(`--${name}: expected a number in (0, 1), got '${text}'`);
    return v;
  };
  const divergence = values.divergence ?? 'hutchinson-rademacher';
  if (!['hutchinson-rademacher', 'hutchinson-gaussian', 'exact'].includes(divergence)) {
    throw new UsageError(
      `--divergence: expected hutchinson-rademacher, hutchinson-gaussian or exact, got '${divergence}'`,
    );
  }
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0)
    throw new UsageError(`--seed: expected an integer >= 0, got '${values.seed}'`);
  const reporter = reporterFor(values, io);
  const config = await loadConfig({ file: configFile });
  await setup(values.backend, reporter);
  const data = await loadEvaluationSet(config.data, { seed: config.seed });
  const count = Math.min(positiveInt('count', values.count) ?? 64, data.size);
  const { model, info } = await loadExportedModel(modelDir);
  const adapterOptions = modelAdapterOptions(info);
  try {
    reporter.start('eval', count);
    const result = await evaluateLikelihood({
      sde: adapterOptions.sde,
      model: wrapModel(model, { ...adapterOptions, name: modelDir }),
      data,
      centered: config.data.dataset !== 'toy' && config.data.centered,
      count,
      batchSize: positiveInt('batch', values.batch) ?? 16,
      seed,
      rtol: tolerance('rtol', values.rtol),
      atol: tolerance('atol', values.atol),
      divergence: divergence as DivergenceMethod,
      signal: io.signal,
      onBatch: (done, nfe) => reporter.update(done, { nfe }),
    });
    reporter.finish({ bpd: result.meanBitsPerDim });
    const meanLogLikelihood = result.logLikelihood.reduce((a, v) => a + v, 0) / result.count;
    reporter.info(
      `bits/dim ${result.meanBitsPerDim.toFixed(4)} ± ${result.standardError.toFixed(4)} (standard error) on ${result.count} examples of ${data.name}; mean log-likelihood ${meanLogLikelihood.toFixed(3)} nats; ${result.nfe} model evaluations`,
    );
    reporter.event({
      event: 'bpd',
      bitsPerDim: result.meanBitsPerDim,
      standardError: result.standardError,
      meanLogLikelihood,
      count: result.count,
      dataset: data.name,
      nfe: result.nfe,
    });
  } finally {
    model.dispose();
  }
  return 0;
}

async function download(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...commonOptions,
      dir: { type: 'string' },
      url: { type: 'string' },
      file: { type: 'string' },
      md5: { type: 'string' },
    },
  });
  if (values.help) return help('download', io);
  if (positionals[0] !== 'cifar10' || positionals.length !== 1) {
    throw new UsageError(`dataset: expected 'cifar10', got '${positionals.join(' ')}'`);
  }
  if (values.dir === undefined) throw new UsageError('--dir: expected the directory to download into');
  const reporter = reporterFor(values, io);
  reporter.start('download', 1);
  const result = await downloadCifar10({
    dir: values.dir,
    url: values.url,
    file: values.file,
    md5: values.md5,
  });
  reporter.finish({ path: result.path });
  reporter.info(`CIFAR-10 is in ${result.path}`);
  return 0;
}

function help(command: (typeof COMMANDS)[number] | undefined, io: CliIo): number {
  (io.out ?? process.stdout).write(`${command ? HELP[command] : USAGE}\n`);
  return 0;
}

/**
 * The `sbm` command line: `demo`, `train`, `sample`, `eval`, `convert`, `doctor`, `download`. Returns the exit code:
 * 0 success, 1 failure, 2 a usage or configuration error (its message names the option or config key).
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const [command, ...given] = argv;
  // `pnpm demo -- --steps 9` forwards the `--` too: a leading one is not an end-of-options marker here.
  const rest = given[0] === '--' ? given.slice(1) : given;
  const err = io.err ?? process.stderr;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      return help(undefined, io);
    }
    switch (command) {
      case 'demo':
        return await demo(rest, io);
      case 'train':
        return await train(rest, io);
      case 'sample':
        return await sample(rest, io);
      case 'doctor':
        return await doctor(rest, io);
      case 'download':
        return await download(rest, io);
      case 'convert':
        if (rest.includes('--help') || rest.includes('-h')) return help('convert', io);
        {
          const sidecar = convertedModelInfo(rest); // validates --preset/--overrides before the conversion
          const code = await runConvertCli(
            [...rest],
            (s) => (io.out ?? process.stdout).write(`${s}\n`),
            (s) => err.write(`${s}\n`),
          );
          if (code === 0 && sidecar) {
            const { info, outDir } = sidecar;
            await writeConvertedModelInfo(outDir, info);
            (io.out ?? process.stdout).write(
              `wrote ${join(outDir, 'sbm-model.json')} (${info.sde.kind} SDE, ${info.prediction}, time input ${info.timeInput}); sample it with sbm sample --model ${outDir}\n`,
            );
          }
          return code;
        }
      case 'eval':
        return await evaluate(rest, io);
      default:
        throw new UsageError(`command: expected one of ${COMMANDS.join(', ')}, got '${command}'`);
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      error instanceof ConfigError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      err.write(
        `sbm ${command ?? ''}: ${(error as Error).message}\nRun \`sbm ${command && COMMANDS.includes(command as never) ? `${command} ` : ''}--help\` for usage.\n`,
      );
      return 2;
    }
    err.write(`sbm ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}
