import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectTensorsClose } from './expect-tensors-close.js';
import { useCpuBackend } from './setup-tf.js';

beforeAll(async () => {
  await useCpuBackend();
});

describe('expectTensorsClose', () => {
  it('passes for close tensors, arrays and scalars', () => {
    tf.tidy(() => {
      const a = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      expectTensorsClose(a, tf.tensor2d([1, 2, 3, 4.00001], [2, 2]));
      expectTensorsClose(a, [1, 2, 3, 4]);
      expectTensorsClose([1, 2, 3, 4], a);
      expectTensorsClose(tf.scalar(2), 2);
      expectTensorsClose(2, 2 + 1e-7);
      expectTensorsClose(tf.fill([3], 0.5), 0.5); // broadcast of a plain number
      expectTensorsClose(new Float64Array([1e6]), [1e6 + 5]); // 5 <= 1e-6 + 1e-5·1e6
    });
  });

  it('uses atol + rtol·|expected|', () => {
    expectTensorsClose([1.049], [1], { rtol: 0.05, atol: 0 });
    expect(() => expectTensorsClose([1.051], [1], { rtol: 0.05, atol: 0 })).toThrow();
    expectTensorsClose([0.001], [0], { atol: 1e-3, rtol: 0 });
    expect(() => expectTensorsClose([0.0011], [0], { atol: 1e-3, rtol: 10 })).toThrow();
  });

  it('reports the worst index, values and tolerance', () => {
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    let msg = '';
    try {
      expectTensorsClose(a, [1, 2.1, 3, 4, 5, 7], { message: 'my check', rtol: 0, atol: 0.01 });
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toContain('my check');
    expect(msg).toContain('2 of 6');
    expect(msg).toContain('[1, 2]');
    expect(msg).toContain('actual=6');
    expect(msg).toContain('expected=7');
    expect(msg).toContain('tolerance=0.01');
    tf.dispose(a);
  });

  it('checks shapes when both are tensors and sizes otherwise', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([3, 2]);
    expect(() => expectTensorsClose(a, b)).toThrow(/shape mismatch/);
    expect(() => expectTensorsClose(a, [0, 0, 0])).toThrow(/size mismatch/);
    expectTensorsClose(a, new Array(6).fill(0));
    tf.dispose([a, b]);
  });

  it('treats NaN and infinities strictly', () => {
    expectTensorsClose([Number.NaN, 1], [Number.NaN, 1]);
    expect(() => expectTensorsClose([Number.NaN], [1])).toThrow(/actual=NaN/);
    expect(() => expectTensorsClose([1], [Number.NaN])).toThrow();
    expectTensorsClose([Number.POSITIVE_INFINITY], [Number.POSITIVE_INFINITY]);
    expect(() => expectTensorsClose([Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY])).toThrow();
    expect(() => expectTensorsClose([Number.POSITIVE_INFINITY], [1e300])).toThrow();
    const nanT = tf.tensor1d([Number.NaN, 0]);
    expect(() => expectTensorsClose(nanT, 0)).toThrow(/1 of 2/);
    tf.dispose(nanT);
  });

  it('compares integer and bool tensors', () => {
    const i = tf.tensor1d([1, 2, 3], 'int32');
    const b = tf.tensor1d([1, 0], 'bool');
    expectTensorsClose(i, [1, 2, 3], { rtol: 0, atol: 0 });
    expectTensorsClose(b, [1, 0]);
    tf.dispose([i, b]);
  });
});
