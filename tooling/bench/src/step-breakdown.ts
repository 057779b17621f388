import { convFlops } from './conv-flops.js';
import { markdownTable } from './timing.js';

/** Kernel groups of the step breakdown: the three convolution kernels, then everything else. */
const convKernels = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;

/** Kernel name, shapes and time of every kernel call of one profiled training step. */
export interface ProfiledKernel {
  name: string;
  inputShapes: number[][];
  outputShapes: number[][];
  ms: number;
}

/**
 * Where the profiled wasm training step's time goes (kernel time by group) and the floor its
 * convolutions set: their FLOPs at the rate of the step's fastest forward convolution of ≥ 0.1
 * GFLOP, as a ratio to `pytorchStepMs` when given. Returns Markdown lines.
 */
export function stepBreakdown(kernels: ProfiledKernel[], pytorchStepMs: number | undefined): string[] {
  const groups = new Map<string, { calls: number; ms: number; flops: number }>();
  // The fastest forward convolution of the step (of those with ≥ 0.1 GFLOP): the rate XNNPACK
  // reaches on this machine at this moment, in the same step as the rest of the table.
  let best: { x: number[]; filter: number[]; rate: number } | undefined;
  for (const { name, inputShapes, outputShapes, ms } of kernels) {
    const conv = (convKernels as readonly string[]).includes(name);
    const flops = conv ? convFlops(name, inputShapes, outputShapes[0]!) : 0;
    const key = conv ? name : 'all other kernels';
    const g = groups.get(key) ?? { calls: 0, ms: 0, flops: 0 };
    groups.set(key, { calls: g.calls + 1, ms: g.ms + ms, flops: g.flops + flops });
    const rate = flops / ms / 1e6;
    if (name === 'Conv2D' && flops >= 1e8 && rate > (best?.rate ?? 0)) {
      best = { x: inputShapes[0]!, filter: inputShapes[1]!, rate };
    }
  }
  if (best === undefined) throw new Error('backend bench: the profiled step ran no Conv2D of ≥ 0.1 GFLOP');
  const { x, filter, rate } = best;
  const gflops = (f: number) => f / 1e9;
  const convFlopsTotal = convKernels.reduce((sum, n) => sum + (groups.get(n)?.flops ?? 0), 0);
  const floorMs = convFlopsTotal / rate / 1e6;
  const totalMs = [...groups.values()].reduce((sum, g) => sum + g.ms, 0);
  const rows = [...convKernels, 'all other kernels'].map((name) => {
    const g = groups.get(name) ?? { calls: 0, ms: 0, flops: 0 };
    return [
      name,
      g.calls,
      g.ms.toFixed(0),
      g.flops > 0 ? gflops(g.flops).toFixed(2) : '–',
      g.flops > 0 ? (g.flops / g.ms / 1e6).toFixed(0) : '–',
    ];
  });
  const vsTorch =
    pytorchStepMs === undefined
      ? ''
      : ` = ${(floorMs / pytorchStepMs).toFixed(2)}× PyTorch's whole step (the mean above)`;
  return [
    `Where the wasm + kernels training step goes (one \`tf.profile\`d step after 2 warm-ups; profiling adds a little; ` +
      `${totalMs.toFixed(0)} ms of kernel time in ${kernels.length} kernel calls):`,
    '',
    markdownTable(['kernels', 'calls', 'ms', 'GFLOP', 'GFLOP/s'], rows),
    '',
    `The fastest forward convolution of that step (x [${x}], filter [${filter}]) ran at ${rate.toFixed(0)} GFLOP/s. ` +
      `Were every convolution of the step that fast, its ${gflops(convFlopsTotal).toFixed(1)} GFLOP of convolutions ` +
      `alone would take ${floorMs.toFixed(0)} ms${vsTorch}: a floor for the step on tfjs-backend-wasm's XNNPACK kernels ` +
      '(128-bit SIMD; PyTorch CPU runs oneDNN kernels with the AVX2/AVX-512 this CPU has).',
  ];
}
