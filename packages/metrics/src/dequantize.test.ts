import { SbmArgumentError } from '@sbm/sde';
import { createRng, expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { uniformDequantize } from './dequantize.js';

beforeAll(useCpuBackend);

describe.each([
  { range: [0, 1] as const, label: '[0, 1]' },
  { range: [-1, 1] as const, label: 'centered [−1, 1]' },
])('uniformDequantize on 8-bit data in $label', ({ range }) => {
  const [lo, hi] = range;
  const n = 40000;
  const rng = createRng(11);
  const k = Array.from(rng.uniforms(n), (u) => Math.min(255, Math.floor(256 * u)));
  const grid = () =>
    tf.tensor3d(
      k.map((v) => lo + (v * (hi - lo)) / 255),
      [100, 20, 20],
    );

  it('draws uniformly within each value’s bin of width (hi − lo)/256', () => {
    const x = grid();
    const y = uniformDequantize(x, 3, { dataRange: range });
    expect(y.shape).toEqual([100, 20, 20]);
    const values = y.dataSync();
    const width = (hi - lo) / 256;
    let sum = 0;
    let sumSq = 0;
    let lowest = Number.POSITIVE_INFINITY;
    let highest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      // Offset within bin k.
      const u = (values[i]! - lo) / width - k[i]!;
      lowest = Math.min(lowest, u);
      highest = Math.max(highest, u);
      sum += u;
      sumSq += u * u;
    }
    // In [0, 1] up to float32 rounding (~1e-4 of a bin), and spread over the whole bin.
    expect(lowest).toBeGreaterThanOrEqual(-1e-4);
    expect(highest).toBeLessThanOrEqual(1 + 1e-4);
    expect(lowest).toBeLessThan(0.01);
    expect(highest).toBeGreaterThan(0.99);
    const mean = sum / n;
    const variance = sumSq / n - mean * mean;
    // U[0, 1): mean 1/2 (sd 1/√(12 n) = 1.4e-3), variance 1/12 (sd √(1/180 n) = 3.7e-4); 5 standard errors.
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 / Math.sqrt(12 * n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 / Math.sqrt(180 * n));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(lo);
    expect(Math.max(...values)).toBeLessThanOrEqual(hi);
    tf.dispose([x, y]);
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const x = grid();
    const a = uniformDequantize(x, 5, { dataRange: range });
    const b = uniformDequantize(x, 5, { dataRange: range });
    const c = uniformDequantize(x, 6, { dataRange: range });
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([x, a, b, c]);
  });
});

describe('uniformDequantize input checks', () => {
  it('does not leak tensors', async () => {
    const x = tf.tensor2d([[0, 1 / 255, 1]]);
    await expectNoLeaks(() => uniformDequantize(x, 1));
    x.dispose();
  });

  it('rejects data outside the range, off the grid, and bad options', () => {
    const thrown = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        if (e instanceof SbmArgumentError) return e.message;
        throw e;
      }
      throw new Error('nothing thrown');
    };
    const centered = tf.tensor1d([-1, 0.5, 1]);
    const offGrid = tf.tensor1d([0.5 / 255]);
    const ints = tf.tensor1d([0, 1], 'int32');
    expect(thrown(() => uniformDequantize(centered, 1))).toMatch(
      /^x: expected values in \[0, 1\] \(options\.dataRange\), got -1/,
    );
    expect(thrown(() => uniformDequantize(offGrid, 1))).toMatch(/^x: expected 256-level data on the grid/);
    expect(thrown(() => uniformDequantize(ints, 1))).toMatch(/^x: expected a float32 tensor/);
    expect(thrown(() => uniformDequantize(centered, 1.5, { dataRange: [-1, 1] }))).toMatch(
      /^seed: expected a safe integer/,
    );
    expect(thrown(() => uniformDequantize(centered, 1, { levels: 1 }))).toMatch(
      /^options\.levels: expected an integer >= 2/,
    );
    expect(thrown(() => uniformDequantize(centered, 1, { dataRange: [1, -1] }))).toMatch(
      /^options\.dataRange: expected \[lo, hi\]/,
    );
    tf.dispose([centered, offGrid, ints]);
  });
});
