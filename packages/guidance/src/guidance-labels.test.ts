import { setupBackend } from '@sbm/backend';
import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkClassLabels } from './guidance-labels.js';

beforeAll(() => setupBackend({ prefer: 'cpu', importModule: (n) => import(n) }));

describe('checkClassLabels', () => {
  it('accepts int32 and integer-valued float32 class ids in range', () => {
    const ints = tf.tensor1d([0, 2, 1], 'int32');
    const floats = tf.tensor1d([0, 2, 1]);
    expect(() => checkClassLabels(ints, 3, { numClasses: 3, nullLabel: 3 })).not.toThrow();
    expect(() => checkClassLabels(floats, 3, { numClasses: 3 })).not.toThrow();
    expect(() => checkClassLabels(ints, 3)).not.toThrow();
    tf.dispose([ints, floats]);
  });

  it('names the argument and says what was expected', () => {
    const cases: [tf.Tensor | undefined, number, Parameters<typeof checkClassLabels>[2], RegExp][] = [
      [undefined, 2, {}, /labels: expected class labels \[2\]/],
      [tf.tensor1d([0, 1, 2], 'int32'), 2, {}, /shape \[2\] \(one per sample\), got a tensor of shape \[3\]/],
      [tf.tensor2d([0, 1], [2, 1], 'int32'), 2, {}, /shape \[2\]/],
      [tf.tensor1d([true, false], 'bool'), 2, {}, /int32 or float32 tensor, got dtype bool/],
      [tf.tensor1d([0, 0.5]), 2, {}, /integers >= 0\), got 0.5 at index 1/],
      [tf.tensor1d([-2, 0], 'int32'), 2, {}, /got -2 at index 0/],
      [tf.tensor1d([0, 5], 'int32'), 2, { numClasses: 5 }, /in \[0, 5\), got 5 at index 1/],
      [tf.tensor1d([7, 0], 'int32'), 2, { nullLabel: 7 }, /label 7 at index 0 is the null/],
      [undefined, 1, { argument: 'options.labels' }, /^options.labels: /],
    ];
    for (const [labels, batch, check, message] of cases) {
      let error: unknown;
      try {
        checkClassLabels(labels, batch, check);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(SbmArgumentError);
      expect((error as SbmArgumentError).argument).toBe(check?.argument ?? 'labels');
      expect((error as Error).message).toMatch(message);
      labels?.dispose();
    }
  });
});
