import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchSize, coefficientTensor, expandToRank, readTimes, timesToTensor } from './time-input.js';

beforeAll(useCpuBackend);

describe('readTimes', () => {
  it('accepts a number, an array, a typed array and a [B] tensor', () => {
    expect(Array.from(readTimes(0.5, 3, 1))).toEqual([0.5, 0.5, 0.5]);
    expect(Array.from(readTimes([0, 0.25], 2, 1))).toEqual([0, 0.25]);
    expect(Array.from(readTimes(new Float32Array([1, 0.5]), 2, 1))).toEqual([1, 0.5]);
    const t = tf.tensor1d([0.125, 0.75]);
    expect(Array.from(readTimes(t, 2, 1))).toEqual([0.125, 0.75]);
    t.dispose();
  });

  it('clamps float32 rounding just above T and rejects anything further out', () => {
    expect(readTimes([1 + 1e-7], 1, 1)[0]).toBe(1);
    expect(() => readTimes([1 + 1e-4], 1, 1)).toThrow(
      /^t: expected times in \[0, 1\], got 1.0001 at index 0/,
    );
    expect(() => readTimes(-1e-9, 1, 1, 'tEnd')).toThrow(/^tEnd: /);
  });
});

describe('helpers', () => {
  it('batchSize names a non-tensor argument', () => {
    expect(() => batchSize([1, 2] as unknown as tf.Tensor, 'x0')).toThrow(
      /^x0: expected a tf.Tensor, got an array/,
    );
  });

  it('expandToRank reshapes [B] to [B,1,...,1] and does not leak', async () => {
    const v = tf.tensor1d([1, 2]);
    const e = expandToRank(v, 4);
    expect(e.shape).toEqual([2, 1, 1, 1]);
    e.dispose();
    await expectNoLeaks(() => expandToRank(v, 3));
    await expectNoLeaks(() => coefficientTensor(new Float64Array([0.1, 0.2]), Math.sqrt));
    await expectNoLeaks(() => timesToTensor(new Float64Array([0.1])));
    v.dispose();
  });
});
