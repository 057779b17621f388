import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeDeep, expectNoLeaks } from './no-leaks.js';
import { useCpuBackend } from './setup-tf.js';

beforeAll(async () => {
  await useCpuBackend();
});

describe('disposeDeep', () => {
  it('disposes tensors nested in arrays, objects, maps and sets', () => {
    const before = tf.memory().numTensors;
    const cyclic: Record<string, unknown> = { t: tf.scalar(1) };
    cyclic['self'] = cyclic;
    const value = {
      a: tf.scalar(1),
      b: [tf.zeros([2]), { c: tf.ones([3]), d: 'text', e: 5 }],
      m: new Map([['k', tf.scalar(2)]]),
      s: new Set([tf.scalar(3)]),
      cyclic,
      nothing: null,
    };
    expect(tf.memory().numTensors).toBe(before + 6);
    disposeDeep(value);
    disposeDeep(value); // idempotent
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ignores non-tensor values', () => {
    expect(() => disposeDeep(undefined)).not.toThrow();
    expect(() => disposeDeep(3)).not.toThrow();
    expect(() => disposeDeep(new Float32Array(3))).not.toThrow();
  });
});

describe('expectNoLeaks', () => {
  it('accepts a function whose only tensors are returned (sync and async)', async () => {
    await expectNoLeaks(() => tf.tidy(() => tf.add(tf.ones([4]), tf.scalar(2))));
    await expectNoLeaks(async () => {
      const x = tf.ones([2, 2]);
      const y = tf.mul(x, x);
      x.dispose();
      await y.data();
      return { y, list: [tf.scalar(1)] };
    });
  });

  it('allows a cache filled during warmup', async () => {
    let cache: tf.Tensor | undefined;
    await expectNoLeaks(() => {
      cache ??= tf.keep(tf.ones([3]));
      return tf.tidy(() => tf.mul(cache!, 2));
    });
    cache?.dispose();
  });

  it('reports leaks per call', async () => {
    const leaked: tf.Tensor[] = [];
    const leaky = () => {
      leaked.push(tf.ones([2]), tf.zeros([2]));
      return tf.scalar(0);
    };
    await expect(expectNoLeaks(leaky, { warmup: 0, repeats: 3 })).rejects.toThrow(
      /6 tensor\(s\) leaked over 3 call\(s\) = 2 per call/,
    );
    tf.dispose(leaked);
  });

  it('propagates errors thrown by fn', async () => {
    await expect(
      expectNoLeaks(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });
});
