import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerFastKernels, setupBackend, unregisterFastKernels } from '@sbm/backend';
import { DdpmUnet, groupNormViaMoments } from '@sbm/test-utils';
import { groupNorm } from '@sbm/unet';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { type ProfiledKernel, stepBreakdown } from './step-breakdown.js';
import { markdownTable, type Timing, time } from './timing.js';

const trainBatch = 16;
const forwardBatch = 64;
/** The bench's U-Net: DDPM-style, 32×32×3, ch 32·[1,2,2], one res block per level, attention at 8×8 (middle). */
const unetConfig = {
  ch: 32,
  chMult: [1, 2, 2],
  numResBlocks: 1,
  attnResolutions: [],
  resolution: 32,
  groups: 8,
  // @sbm/unet's group normalization (average-pool means and a closed-form gradient), as its networks use.
  groupNorm,
};

/** Throws unless the network with @sbm/unet's groupNorm matches the tf.moments one on the active backend. */
function checkGroupNorm(): void {
  const a = new DdpmUnet(unetConfig);
  const b = new DdpmUnet({ ...unetConfig, groupNorm: groupNormViaMoments });
  const [x, t] = [tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7), tf.tensor1d([0.3, 0.8])];
  const gradA = tf.grads((v: tf.Tensor) => tf.sum(tf.square(a.apply(v as tf.Tensor4D, t))))([x]);
  const gradB = tf.grads((v: tf.Tensor) => tf.sum(tf.square(b.apply(v as tf.Tensor4D, t))))([x]);
  const rel = tf.tidy(
    () => tf.div(tf.max(tf.abs(tf.sub(gradA[0]!, gradB[0]!))), tf.max(tf.abs(gradB[0]!))).dataSync()[0]!,
  );
  tf.dispose([x, t, ...gradA, ...gradB]);
  a.dispose();
  b.dispose();
  if (!(rel < 1e-4)) throw new Error(`backend bench: groupNorm implementations disagree (relative ${rel})`);
}

interface Row {
  name: string;
  train?: Timing | string;
  forward?: Timing | string;
}

/** The bench network, an Adam optimizer, fixed data and one training step on the active backend. */
function trainingSetup() {
  const net = new DdpmUnet(unetConfig);
  const optimizer = tf.train.adam(1e-3);
  const data = tf.tidy(() => ({
    x0: tf.randomNormal([trainBatch, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D,
    noise: tf.randomNormal([trainBatch, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D,
    t: tf.randomUniform([trainBatch], 0, 1, 'float32', 3) as tf.Tensor1D,
    alphaBar: tf.randomUniform([trainBatch], 0.01, 0.99, 'float32', 4) as tf.Tensor1D,
    xf: tf.randomNormal([forwardBatch, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D,
    tf: tf.randomUniform([forwardBatch], 0, 1, 'float32', 6) as tf.Tensor1D,
  }));
  return {
    net,
    data,
    /** One Adam step of the ε-matching loss at batch 16, awaited. */
    step: async () => {
      const loss = optimizer.minimize(
        () => net.loss(data.x0, data.noise, data.t, data.alphaBar),
        true,
        net.variables,
      );
      await loss?.data();
      loss?.dispose();
    },
    dispose: () => {
      net.dispose();
      optimizer.dispose();
      tf.dispose(data);
    },
  };
}

/** Times one Adam step of the ε-matching loss at batch 16 and a forward pass at batch 64 on the active backend. */
async function measure(runs: {
  train: number;
  forward: number;
  warmup: number;
}): Promise<Pick<Row, 'train' | 'forward'>> {
  const s = trainingSetup();
  const result: Pick<Row, 'train' | 'forward'> = {};
  try {
    if (runs.train > 0) result.train = await tryTime(s.step, runs.train, runs.warmup);
    if (runs.forward > 0) {
      result.forward = await tryTime(
        async () => {
          const y = s.net.apply(s.data.xf, s.data.tf);
          await y.data();
          y.dispose();
        },
        runs.forward,
        runs.warmup,
      );
    }
  } finally {
    s.dispose();
  }
  return result;
}

/** `tf.profile` of one training step after 2 warm-ups, on the active backend. */
async function profileStep(): Promise<ProfiledKernel[]> {
  const s = trainingSetup();
  try {
    for (let i = 0; i < 2; i++) await s.step();
    const info = await tf.profile(() => s.step());
    const kernels: ProfiledKernel[] = [];
    for (const k of info.kernels) {
      const ms = await k.kernelTimeMs;
      if (typeof ms !== 'number') throw new Error(`backend bench: no kernel time for ${k.name}`);
      kernels.push({ name: k.name, inputShapes: k.inputShapes, outputShapes: k.outputShapes, ms });
    }
    return kernels;
  } finally {
    s.dispose();
  }
}

/** The mean of two timings' medians (min and max over both); a failure of either is kept. */
function meanTiming(
  a: Timing | string | undefined,
  b: Timing | string | undefined,
): Timing | string | undefined {
  if (typeof a !== 'object') return a;
  if (typeof b !== 'object') return b;
  return {
    medianMs: (a.medianMs + b.medianMs) / 2,
    minMs: Math.min(a.minMs, b.minMs),
    maxMs: Math.max(a.maxMs, b.maxMs),
    runs: a.runs + b.runs,
  };
}

/** `runs` timed calls after `warmup` untimed ones; a thrown error becomes its message. */
async function tryTime(fn: () => Promise<void>, runs: number, warmup: number): Promise<Timing | string> {
  try {
    return await time(fn, runs, warmup);
  } catch (err) {
    return `fails: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function pythonWithTorch(): string | undefined {
  for (const python of [process.env.SBM_PYTHON, 'python3', '/usr/bin/python3']) {
    if (python === undefined) continue;
    const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return python;
  }
  return undefined;
}

function pytorchRow(runs: number, when: string): Row {
  const python = pythonWithTorch();
  if (python === undefined) {
    const missing = 'PyTorch not found (Debian: apt-get install python3-torch; or set SBM_PYTHON)';
    return { name: `PyTorch CPU, ${when}`, train: missing, forward: missing };
  }
  const script = resolve(dirname(fileURLToPath(import.meta.url)), '../python/unet_bench.py');
  const args = [
    script,
    '--batch',
    `${trainBatch}`,
    '--forward-batch',
    `${forwardBatch}`,
    '--runs',
    `${runs}`,
    '--threads',
    '2',
  ];
  const r = spawnSync(python, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`backend bench: ${python} ${args.join(' ')} failed:\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    torch: string;
    threads: number;
    params: number;
    trainMs: number[];
    forwardMs: number[];
  };
  const timing = (ms: number[]): Timing => {
    const s = [...ms].sort((a, b) => a - b);
    return { medianMs: s[Math.floor(s.length / 2)]!, minMs: s[0]!, maxMs: s[s.length - 1]!, runs: s.length };
  };
  return {
    name: `PyTorch ${out.torch} CPU, ${out.threads} threads (${out.params.toLocaleString('en')} params), ${when}`,
    train: timing(out.trainMs),
    forward: timing(out.forwardMs),
  };
}

const cell = (v: Timing | string | undefined) =>
  v === undefined ? 'not run' : typeof v === 'string' ? v.slice(0, 90) : (v.medianMs / 1000).toFixed(3);
const ratio = (v: Timing | string | undefined, ref: Timing | string | undefined) =>
  typeof v === 'object' && typeof ref === 'object' ? `${(v.medianMs / ref.medianMs).toFixed(1)}×` : '–';
const runsOf = (v: Timing | string | undefined) => (typeof v === 'object' ? `${v.runs}` : '–');

/**
 * The same DDPM-style U-Net training step (batch 16: forward, ε-matching loss, backward, Adam) and
 * forward pass (batch 64) on each tfjs backend here, stock and with @sbm/backend's kernels, and in
 * PyTorch CPU on the identical architecture (tooling/bench/python/unet_bench.py, run right before
 * and right after the wasm + kernels rows), with ratios to the mean of the two PyTorch runs, and a
 * profile of one wasm step by kernel group with the floor its convolutions set.
 * `SBM_BENCH_STOCK_CPU=0` skips the stock cpu training step (about ten minutes). The stock cpu
 * forward pass is not run (minutes; the cpu kernels replace its Conv2D too).
 */
export async function backendBench(): Promise<string> {
  const loadNow = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  const load = loadNow();
  const wasm = await setupBackend({ prefer: 'wasm', fastKernels: false });
  const stockWasm: Row = {
    name: `tfjs wasm, stock (${wasm.threads} threads)`,
    ...(await measure({ train: 1, forward: 3, warmup: 1 })),
  };
  // PyTorch right before and right after the wasm + kernels rows: the machine is shared and its speed
  // drifts, so the ratios are taken to the mean of the two runs, and both are shown.
  const torchBefore = pytorchRow(9, 'right before the wasm + kernels rows');
  registerFastKernels('wasm');
  checkGroupNorm();
  const fastWasm: Row = {
    name: `tfjs wasm + @sbm/backend kernels (${wasm.threads} threads)`,
    ...(await measure({ train: 9, forward: 3, warmup: 2 })),
  };
  const breakdownProfile = await profileStep();
  unregisterFastKernels('wasm');
  const torchAfter = pytorchRow(9, 'right after');
  const torch = {
    train: meanTiming(torchBefore.train, torchAfter.train),
    forward: meanTiming(torchBefore.forward, torchAfter.forward),
  };
  const breakdown = stepBreakdown(
    breakdownProfile,
    typeof torch.train === 'object' ? torch.train.medianMs : undefined,
  );

  await setupBackend({ prefer: 'cpu', fastKernels: false });
  registerFastKernels('cpu');
  const fastCpu: Row = {
    name: 'tfjs cpu + @sbm/backend kernels',
    ...(await measure({ train: 1, forward: 1, warmup: 0 })),
  };
  unregisterFastKernels('cpu');
  const stockCpu: Row = {
    name: 'tfjs cpu, stock',
    ...(await measure({ train: process.env.SBM_BENCH_STOCK_CPU !== '0' ? 1 : 0, forward: 0, warmup: 0 })),
  };
  const rows = [torchBefore, torchAfter, stockWasm, fastWasm, fastCpu, stockCpu];

  const net = new DdpmUnet(unetConfig);
  const params = net.paramCount;
  net.dispose();
  const table = markdownTable(
    [
      'implementation',
      'train step s (batch 16)',
      'runs',
      '× PyTorch',
      'forward s (batch 64)',
      'runs',
      '× PyTorch',
    ],
    rows.map((r) => [
      r.name,
      cell(r.train),
      runsOf(r.train),
      ratio(r.train, torch.train),
      cell(r.forward),
      runsOf(r.forward),
      ratio(r.forward, torch.forward),
    ]),
  );
  const fast = fastCpu.train;
  const stock = stockCpu.train;
  const cpuSpeedup =
    typeof fast === 'object' && typeof stock === 'object'
      ? `cpu training step with the kernels: ${(stock.medianMs / fast.medianMs).toFixed(1)}× faster than stock.`
      : 'cpu stock training step not run (SBM_BENCH_STOCK_CPU=0).';
  return [
    `DDPM-style U-Net (${params.toLocaleString('en')} parameters; 32×32×3, ch 32·[1,2,2], one residual block per level, ` +
      "self-attention in the middle at 8×8, GroupNorm(8) (@sbm/unet's `groupNorm`), swish, nearest upsampling, " +
      'stride-2 conv downsampling); ' +
      'training step = forward + ε-matching loss + backward + Adam at batch 16; forward at batch 64, in seconds. ' +
      'Medians: PyTorch of 9 steps and 9 forward passes after 3 warm-up calls each, run once right before and once ' +
      'right after the wasm + kernels rows; every "× PyTorch" is to the mean of those two runs (the machine is shared ' +
      'and its speed drifts: the two PyTorch rows show by how much). wasm with the kernels of 9 steps and ' +
      '3 forward passes after 2 warm-up calls, stock wasm of 3 forward passes after 1; cpu rows one cold call each ' +
      '(a stock cpu step takes minutes). ' +
      `wasm runs ${wasm.threads} thread(s) (@sbm/backend's setupBackend starts the threaded build in Node); ` +
      'PyTorch runs 2 threads. ' +
      `Load average when the bench started (1, 5, 15 min): ${load}; the machine is shared, so treat small differences as noise.`,
    '',
    table,
    '',
    cpuSpeedup,
    '',
    ...breakdown,
    '',
    `Load average when the bench ended: ${loadNow()}.`,
    '',
    `wasm setup: ${wasm.message}`,
  ].join('\n');
}
