import { loadavg } from 'node:os';
import { registerFastKernels, setupBackend, unregisterFastKernels } from '@sbm/backend';
import { VPSDE } from '@sbm/sde';
import { countUNetParameters, createUNet, unetPreset } from '@sbm/unet';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { markdownTable, type Timing, time } from './timing.js';

interface BenchPreset {
  name: string;
  batch: number;
  /** Timed runs after one untimed warm-up (profiled for peak memory) on wasm; cpu runs get `cpuRuns`. */
  runs: number;
  cpuRuns: number;
  /** Whether stock cpu (naive convolutions) is run: only for the small presets (see the notes). */
  stockCpu: boolean;
}

const presets: BenchPreset[] = [
  { name: 'small/ddpm', batch: 8, runs: 3, cpuRuns: 2, stockCpu: true },
  { name: 'small/ddpmpp', batch: 8, runs: 3, cpuRuns: 2, stockCpu: true },
  { name: 'small/ncsnpp', batch: 8, runs: 3, cpuRuns: 2, stockCpu: true },
  { name: 'vp/cifar10_ddpmpp_continuous', batch: 2, runs: 2, cpuRuns: 1, stockCpu: false },
  { name: 'vp/ddpm/cifar10_continuous', batch: 2, runs: 2, cpuRuns: 1, stockCpu: false },
];

interface Mode {
  label: string;
  backend: 'wasm' | 'cpu';
  fastKernels: boolean;
}

const modes: Mode[] = [
  { label: 'wasm + fast kernels', backend: 'wasm', fastKernels: true },
  { label: 'cpu + fast kernels', backend: 'cpu', fastKernels: true },
  { label: 'wasm, stock', backend: 'wasm', fastKernels: false },
  { label: 'cpu, stock', backend: 'cpu', fastKernels: false },
];

const sde = new VPSDE();
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)}`;
const perImage = (t: Timing | string, batch: number) =>
  typeof t === 'string' ? t : `${(t.medianMs / batch / 1000).toFixed(3)}`;

interface Result {
  forward: Timing | string;
  train: Timing | string;
  loss: string;
  peakTrainBytes: string;
  rss: string;
}

/**
 * One preset on the active backend: forward passes at `batch` and training steps (forward, the VP ε-matching
 * DSM loss of score_sde's continuous DDPM++ (Song et al. 2021, Eq. 7 with the noise parameterization),
 * backward, Adam update).
 */
async function measure(preset: BenchPreset, mode: Mode): Promise<Result> {
  const { batch } = preset;
  const config = unetPreset(preset.name);
  const size = config.imageSize;
  const net = createUNet(config);
  const optimizer = tf.train.adam(2e-4);
  const times = Array.from({ length: batch }, (_, i) => 0.05 + (0.9 * i) / Math.max(1, batch - 1));
  const data = tf.tidy(() => {
    const x0 = tf.randomUniform([batch, size, size, 3], -1, 1, 'float32', 1);
    const noise = tf.randomNormal([batch, size, size, 3], 0, 1, 'float32', 2);
    const alpha = tf.reshape(tf.tensor1d(times.map((t) => sde.alpha(t))), [batch, 1, 1, 1]);
    const std = tf.reshape(tf.tensor1d(times.map((t) => sde.sigma(t))), [batch, 1, 1, 1]);
    return {
      xt: tf.add(tf.mul(alpha, x0), tf.mul(std, noise)) as tf.Tensor4D,
      noise,
      tIn: tf.tensor1d(times.map((t) => 999 * t)),
    };
  });
  const forward = async () => {
    const y = net.predict(data.xt, data.tIn);
    await y.data();
    y.dispose();
  };
  let lastLoss = Number.NaN;
  const trainStep = async () => {
    const loss = optimizer.minimize(
      () => tf.mean(tf.square(tf.sub(net.predict(data.xt, data.tIn, { training: true }), data.noise))),
      true,
    ) as tf.Scalar;
    lastLoss = (await loss.data())[0]!;
    loss.dispose();
  };
  const canTrain = mode.fastKernels || mode.backend === 'cpu';
  const runs = mode.backend === 'cpu' ? preset.cpuRuns : preset.runs;
  const result: Result = { forward: '', train: '', loss: '—', peakTrainBytes: '—', rss: '' };
  try {
    result.forward = await time(forward, runs, 1);
    if (!canTrain) {
      result.train = 'fails: no Conv2DBackpropFilter';
    } else if (mode.backend === 'cpu' && !mode.fastKernels) {
      result.train = 'not run (> 3 min: naive filter gradient)';
    } else {
      // The warm-up step is profiled for the peak of tfjs' tensor memory; the timed steps are not.
      const profile = await tf.profile(trainStep);
      result.peakTrainBytes = mib(profile.peakBytes);
      result.train = await time(trainStep, runs, 0);
      result.loss = lastLoss.toFixed(4);
    }
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!.slice(0, 80);
    if (result.forward === '') result.forward = `fails: ${message}`;
    else result.train = `fails: ${message}`;
  } finally {
    net.dispose();
    optimizer.dispose();
    tf.dispose(data);
  }
  result.rss = mib(process.resourceUsage().maxRSS * 1024);
  return result;
}

export async function unetBench(): Promise<string> {
  const rows: (string | number)[][] = [];
  const loadBefore = loadavg()[0]!.toFixed(2);
  let wasmThreads: number | undefined;
  for (const mode of modes) {
    const report = await setupBackend({ prefer: mode.backend, fastKernels: mode.fastKernels });
    if (mode.backend === 'wasm') wasmThreads ??= report.threads;
    if (!mode.fastKernels) unregisterFastKernels(mode.backend);
    else registerFastKernels(mode.backend);
    console.error(`[unet bench] ${report.message.split('.')[0]}`);
    for (const preset of presets) {
      if (mode.backend === 'cpu' && !mode.fastKernels && !preset.stockCpu) {
        const skipped = 'not run (> 3 min)';
        rows.push([mode.label, preset.name, preset.batch, skipped, skipped, '—', '—', '—']);
        continue;
      }
      const start = performance.now();
      const r = await measure(preset, mode);
      console.error(
        `[unet bench] ${mode.label} ${preset.name}: ${((performance.now() - start) / 1000).toFixed(0)} s, loss ${r.loss}`,
      );
      rows.push([
        mode.label,
        preset.name,
        preset.batch,
        perImage(r.forward, preset.batch),
        perImage(r.train, preset.batch),
        r.loss,
        r.peakTrainBytes,
        r.rss,
      ]);
    }
    if (mode.fastKernels) unregisterFastKernels(mode.backend);
  }
  const params = presets.map(
    (p) => `\`${p.name}\` ${countUNetParameters(unetPreset(p.name)).toLocaleString('en-US')}`,
  );
  return [
    `Forward pass and training step of @sbm/unet's networks, seconds per image (median of the timed runs after one`,
    `untimed warm-up; on cpu the full-size presets get one timed run). Training step = forward, the ε-matching`,
    `(DSM) loss of the VP SDE at 8 or 2 times in [0.05, 0.95], backward, Adam update; "loss" is the last step's.`,
    `Peak tensor MiB: \`tf.profile(...).peakBytes\` of the (warm-up) training step. Max RSS MiB: the process's peak`,
    `resident set so far (cumulative: wasm's heap never shrinks), after that row.`,
    '',
    `Parameters: ${params.join(', ')}.`,
    '',
    markdownTable(
      [
        'backend',
        'preset',
        'batch',
        'forward s/image',
        'train step s/image',
        'loss',
        'peak tensor MiB',
        'max RSS MiB',
      ],
      rows,
    ),
    '',
    `Load average (1 min) before: ${loadBefore}, after: ${loadavg()[0]!.toFixed(2)}. wasm runs ${wasmThreads} thread(s)`,
    "(@sbm/backend's threaded build in Node; the cpu backend one). Stock wasm cannot train (no `Conv2DBackpropFilter` kernel); stock cpu",
    'training is not run (its naive filter gradient is ~300× slower than the fast kernels, bench/results/backend.md),',
    'nor the stock cpu forward of the full-size presets (1.1–1.5× slower than with the fast kernels on the small',
    'presets: a warm-up and a timed pass of the full DDPM++ at batch 2 would take about 4 min).',
  ].join('\n');
}
