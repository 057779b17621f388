import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { useCpuBackend } from './setup-tf.js';

describe('useCpuBackend', () => {
  it('activates the cpu backend and functional ops work', async () => {
    await useCpuBackend();
    expect(tf.getBackend()).toBe('cpu');
    const y = tf.add(tf.scalar(1), tf.scalar(2));
    expect(y.dataSync()[0]).toBe(3);
    tf.dispose(y);
  });

  it('is idempotent', async () => {
    await useCpuBackend();
    await useCpuBackend();
    expect(tf.getBackend()).toBe('cpu');
  });
});
