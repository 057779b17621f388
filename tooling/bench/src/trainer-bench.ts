import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import {
  createBatchStream,
  createTrainingSetup,
  loadConfig,
  loadMnist,
  Reporter,
  type TrainerConfig,
  trainRun,
  trainStep,
} from '@sbm/trainer';
import { countUNetParameters } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { stepFlops } from './step-flops.js';
import { markdownTable } from './timing.js';

const CIFAR_PRESETS = [
  'vp/cifar10_ddpmpp_continuous',
  'subvp/cifar10_ddpmpp_continuous',
  've/cifar10_ncsnpp_continuous',
  'vp/ddpm/cifar10_continuous',
];

/** The network, loss, optimizer and EMA of a config, on the current backend (without warm-up: full lr). */
function trainingSetup(config: TrainerConfig) {
  return createTrainingSetup({ ...config, optim: { ...config.optim, warmup: 0 } });
}

/** Seconds per step of `steps` timed steps after `warm` warm-ups on batch `x`. */
function timeSteps(
  context: ReturnType<typeof trainingSetup>['context'],
  x: tf.Tensor,
  warm: number,
  steps: number,
): number {
  for (let i = 0; i < warm; i++) trainStep(context, x);
  const start = performance.now();
  for (let i = 0; i < steps; i++) trainStep(context, x);
  return (performance.now() - start) / 1000 / steps;
}

async function cifarConfig(preset: string): Promise<TrainerConfig> {
  return loadConfig({ preset, set: ['data.path=/unused'] });
}

/**
 * `pnpm bench trainer`: FLOPs per training image of every CIFAR-10 preset (counted from a profiled step),
 * activation memory per image, training throughput of the MNIST preset and of the full DDPM++ network on the
 * backends available here, and the training loop's own overhead as a share of the step.
 */
export async function trainerBench(): Promise<string> {
  const importModule = (name: string) => import(name);
  const lines: string[] = [];
  await setupBackend({ prefer: 'wasm', importModule });

  // 1. FLOPs and memory per training image (wasm + kernels; the count does not depend on the backend).
  const flopRows: (string | number)[][] = [];
  const perImage = new Map<string, { flops: number; bytes: number; params: number }>();
  for (const preset of CIFAR_PRESETS) {
    const config = await cifarConfig(preset);
    const s = trainingSetup(config);
    const peak: number[] = [];
    let flops = 0;
    for (const B of [1, 2]) {
      const x = tf.randomUniform([B, 32, 32, 3], -1, 1);
      trainStep(s.context, x); // warm-up
      const profile = await tf.profile(() => {
        trainStep(s.context, x);
      });
      const kernels = profile.kernels.map((k) => ({
        name: k.name,
        inputShapes: k.inputShapes as number[][],
        outputShapes: k.outputShapes as number[][],
      }));
      if (B === 1) flops = stepFlops(kernels).total;
      peak.push(profile.peakBytes);
      x.dispose();
    }
    const params = countUNetParameters(s.unetConfig);
    perImage.set(preset, { flops, bytes: peak[1]! - peak[0]!, params });
    // weights, Adam's two moments and the EMA: 4 float32 copies of the parameters
    const gib = (b: number) => b / 2 ** 30;
    const at128 = peak[0]! + 127 * (peak[1]! - peak[0]!) + 3 * 4 * params;
    flopRows.push([
      preset,
      (params / 1e6).toFixed(1),
      (flops / 1e9).toFixed(1),
      gib(peak[1]! - peak[0]!).toFixed(3),
      gib(at128).toFixed(1),
    ]);
    console.error(`flops ${preset}: ${(flops / 1e9).toFixed(1)} GFLOP/image`);
    s.dispose();
  }
  lines.push(
    '## FLOPs and memory per training image (CIFAR-10 presets, 32×32)',
    '',
    'Counted from one `tf.profile`d training step at batch 1 (forward, input and filter gradients of every convolution',
    'and every matrix product; elementwise kernels not counted). Memory: the growth of the step`s peak tensor memory',
    'from batch 1 to batch 2 (activations kept for the gradient), and at batch 128 that slope × 127 + batch 1`s peak +',
    'three more copies of the parameters (Adam`s moments and the EMA), float32 as tfjs-node-gpu trains.',
    '',
    markdownTable(
      ['preset', 'parameters (M)', 'GFLOP per image', 'GiB per image', 'GiB at batch 128'],
      flopRows,
    ),
    '',
  );

  // 2. Throughput on each backend here.
  const mnistConfig = await loadConfig({ preset: 'mnist/small' });
  const mnist = loadMnist({ train: 8000, test: 0, resolution: 28 }).train;
  // Seconds per bare `trainStep` of the MNIST preset on one real batch of 64, after 2 warm-ups.
  const mnistStepSeconds = (steps: number): number => {
    const s = trainingSetup(mnistConfig);
    const batch = createBatchStream({
      dataset: mnist,
      batchSize: 64,
      seed: 1,
      randomFlip: false,
      centered: true,
    }).next();
    const x = tf.tensor(batch.x, batch.shape);
    try {
      return timeSteps(s.context, x, 2, steps);
    } finally {
      x.dispose();
      s.dispose();
    }
  };
  const tpRows: (string | number)[][] = [];
  for (const backend of ['wasm', 'cpu'] as const) {
    const report = await setupBackend({ prefer: backend, importModule });
    const label = `${report.backendName} + kernels, ${report.threads} thread(s)`;
    {
      const sec = mnistStepSeconds(backend === 'wasm' ? 5 : 2);
      tpRows.push(['mnist/small (28×28, batch 64)', label, sec.toFixed(2), (64 / sec).toFixed(1)]);
      console.error(`mnist ${label}: ${sec.toFixed(2)} s/step`);
    }
    {
      const s = trainingSetup(await cifarConfig('vp/cifar10_ddpmpp_continuous'));
      const B = backend === 'wasm' ? 2 : 1;
      const x = tf.randomUniform([B, 32, 32, 3], -1, 1);
      const sec = timeSteps(s.context, x, 1, backend === 'wasm' ? 3 : 1);
      tpRows.push([`vp/cifar10_ddpmpp_continuous (batch ${B})`, label, sec.toFixed(2), (B / sec).toFixed(2)]);
      console.error(`ddpm++ ${label}: ${sec.toFixed(2)} s/step`);
      x.dispose();
      s.dispose();
    }
  }
  lines.push(
    '## Training throughput here',
    '',
    'One training step = loss, gradients, clipping, Adam and EMA (`trainStep`), timed after warm-up steps.',
    '',
    markdownTable(['model', 'backend', 's per step', 'images/s'], tpRows),
    '',
  );

  // 3. The loop's own overhead (wasm): trainRun's steps against the bare step, same model and batch size.
  await setupBackend({ prefer: 'wasm', importModule });
  const bare = mnistStepSeconds(10);
  const windows = async (snapshotFreqForPreemption: number) => {
    const dir = await mkdtemp(join(tmpdir(), 'sbm-bench-trainer-'));
    try {
      const config = {
        ...mnistConfig,
        training: { ...mnistConfig.training, logFreq: 10, snapshotFreqForPreemption, snapshotFreq: 100_000 },
      };
      await trainRun({
        config,
        runDir: dir,
        reporter: new Reporter({ mode: 'quiet' }),
        steps: 30,
        dataset: mnist,
        snapshotSamples: 0,
      });
      const metrics = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // the first window holds the warm-up; each later window is 10 steps (and, with saves every 10, one save)
      const rates = metrics.slice(1).map((m) => m.imagesPerSecond as number);
      return 64 / (rates.reduce((a, b) => a + b, 0) / rates.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const loopSec = await windows(100_000);
  const withSaves = await windows(10);
  const saveSec = Math.max(0, (withSaves - loopSec) * 10);
  const presetSaveShare = saveSec / mnistConfig.training.snapshotFreqForPreemption / loopSec;
  const overhead = (loopSec - bare) / loopSec + presetSaveShare;
  lines.push(
    '## The training loop`s own overhead (mnist/small, wasm)',
    '',
    markdownTable(
      ['what', 's per step'],
      [
        ['bare `trainStep` (loss, gradients, Adam, EMA) on one batch', bare.toFixed(3)],
        [
          '`trainRun` steps (data pipeline with prefetch, tensors from batches, metrics, progress)',
          loopSec.toFixed(3),
        ],
        [
          `one checkpoint save (amortized over snapshotFreqForPreemption = ${mnistConfig.training.snapshotFreqForPreemption})`,
          saveSec.toFixed(3),
        ],
      ],
    ),
    '',
    `Overhead: ${(100 * overhead).toFixed(1)} % of the step (goal: under 5 %). A negative loop share means the loop`,
    'measured faster than the bare step (machine noise).',
    '',
  );

  // 4. The GPU plan: the counted FLOPs at stated A100 rates.
  const planRows: (string | number)[][] = [];
  for (const preset of CIFAR_PRESETS) {
    const { flops } = perImage.get(preset)!;
    const iters = 1_300_001;
    for (const [what, rate] of [
      ['FP32 at 60 % of 19.5 TFLOP/s', 0.6 * 19.5e12],
      ['TF32 at 30 % of 156 TFLOP/s', 0.3 * 156e12],
    ] as const) {
      const ips = rate / flops;
      planRows.push([preset, what, ips.toFixed(0), ((iters * 128) / ips / 86400).toFixed(1)]);
    }
  }
  lines.push(
    '## Plan: one A100 with tfjs-node-gpu (estimates from the counted FLOPs)',
    '',
    'Images/s = sustained rate / FLOPs per image; days = 1.3 M iterations × 128 images / images/s. The sustained',
    'rates are assumptions, not measurements: TensorFlow 2.9 (libtensorflow inside tfjs-node-gpu) runs float32',
    'convolutions through cuDNN and allows TF32 on Ampere by default.',
    '',
    markdownTable(['preset', 'assumed rate', 'images/s', 'days'], planRows),
    '',
  );
  return lines.join('\n');
}
