import { describe, expect, it } from 'vitest';
import { type ProfiledKernel, stepBreakdown } from './step-breakdown.js';

// 3×3 conv, x [2,16,16,8] → y [2,16,16,8]: 2·(2·16·16·8)·(3·3·8) = 589,824 FLOPs per kernel call
// (too small to set the rate); a big one, x [4,32,32,64] → [4,32,32,64] with a [3,3,64,64] filter:
// 2·(4·32·32·64)·576 = 301,989,888 FLOPs.
const small = { x: [2, 16, 16, 8], w: [3, 3, 8, 8] };
const big = { x: [4, 32, 32, 64], w: [3, 3, 64, 64] };
const kernels: ProfiledKernel[] = [
  { name: 'Conv2D', inputShapes: [small.x, small.w], outputShapes: [small.x], ms: 0.001 },
  { name: 'Conv2D', inputShapes: [big.x, big.w], outputShapes: [big.x], ms: 10 },
  { name: 'Conv2D', inputShapes: [big.x, big.w], outputShapes: [big.x], ms: 5 },
  { name: 'Conv2DBackpropInput', inputShapes: [big.x, big.w], outputShapes: [big.x], ms: 20 },
  { name: 'Conv2DBackpropFilter', inputShapes: [big.x, big.x], outputShapes: [big.w], ms: 40 },
  { name: 'Add', inputShapes: [big.x, big.x], outputShapes: [big.x], ms: 3 },
  { name: 'Multiply', inputShapes: [[4], [4]], outputShapes: [[4]], ms: 2 },
];

describe('stepBreakdown', () => {
  const lines = stepBreakdown(kernels, 100).join('\n');

  it('groups kernel time and FLOPs by convolution kernel, the rest together', () => {
    const bigFlops = 301_989_888;
    const forward = ((2 * bigFlops + 589_824) / 1e9).toFixed(2);
    expect(lines).toContain(
      `| Conv2D | 3 | 15 | ${forward} | ${Math.round((2 * bigFlops + 589_824) / 15.001 / 1e6)} |`,
    );
    expect(lines).toContain(`| Conv2DBackpropInput | 1 | 20 | 0.30 | ${Math.round(bigFlops / 20 / 1e6)} |`);
    expect(lines).toContain(`| Conv2DBackpropFilter | 1 | 40 | 0.30 | ${Math.round(bigFlops / 40 / 1e6)} |`);
    expect(lines).toContain('| all other kernels | 2 | 5 | – | – |');
    expect(lines).toContain('80 ms of kernel time in 7 kernel calls');
  });

  it('takes the rate of the fastest forward convolution of at least 0.1 GFLOP for the floor', () => {
    // Fastest big forward call: 301,989,888 FLOPs in 5 ms = 60.4 GFLOP/s (the tiny call is faster
    // but below 0.1 GFLOP). All conv FLOPs: 4 big + 1 small = 1,208,549,376 → 20.0 ms at that rate.
    const total = 4 * 301_989_888 + 589_824;
    const floorMs = total / (301_989_888 / 5);
    expect(lines).toContain('ran at 60 GFLOP/s');
    expect(lines).toContain(
      `alone would take ${floorMs.toFixed(0)} ms = ${(floorMs / 100).toFixed(2)}× PyTorch`,
    );
    expect(lines).toContain('x [4,32,32,64], filter [3,3,64,64]');
  });

  it('says when the step ran no convolution to take a rate from', () => {
    expect(() => stepBreakdown(kernels.slice(5), 100)).toThrow(/no Conv2D of ≥ 0.1 GFLOP/);
  });
});
