import { VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { denoisingScoreMatchingLoss } from './denoising-score-matching.js';
import { ddpmLoss } from './discrete-losses.js';
import { dropLabels } from './label-dropout.js';
import type { ModelFn } from './model.js';

beforeAll(useCpuBackend);

describe('dropLabels', () => {
  const n = 10000;
  const labels = tf.tensor1d(
    Int32Array.from({ length: n }, (_, i) => i % 7),
    'int32',
  );

  it('replaces each label by the null label with probability p, keeping the others and the dtype', () => {
    const dropped = dropLabels(labels, { prob: 0.2, nullLabel: 7 }, 3);
    expect(dropped.dtype).toBe('int32');
    const original = labels.dataSync();
    const out = dropped.dataSync();
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      if (out[i] === 7) nulls++;
      else expect(out[i]).toBe(original[i]);
    }
    // Binomial(10000, 0.2): mean 2000, sd 40; allow 4 sd.
    expect(Math.abs(nulls - 2000)).toBeLessThan(160);
    dropped.dispose();
  });

  it('drops nothing at p = 0 and everything at p = 1; the same seed drops the same positions', () => {
    const none = dropLabels(labels, { prob: 0, nullLabel: -1 });
    const all = dropLabels(labels, { prob: 1, nullLabel: -1 });
    expect(Array.from(none.dataSync())).toEqual(Array.from(labels.dataSync()));
    expect(all.dataSync().every((v) => v === -1)).toBe(true);
    const a = dropLabels(labels, { prob: 0.5, nullLabel: 9 }, 11);
    const b = dropLabels(labels, { prob: 0.5, nullLabel: 9 }, 11);
    const c = dropLabels(labels, { prob: 0.5, nullLabel: 9 }, 12);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(c.dataSync()));
    tf.dispose([none, all, a, b, c]);
  });

  it('rejects bad arguments and leaks no tensors', async () => {
    expect(() => dropLabels(tf.zeros([2, 2]) as unknown as tf.Tensor1D, { prob: 0.1, nullLabel: 0 })).toThrow(
      /^labels: /,
    );
    expect(() => dropLabels(labels, { prob: -0.1, nullLabel: 0 })).toThrow(/^dropout\.prob: /);
    expect(() => dropLabels(labels, { prob: 0.1, nullLabel: 0.5 })).toThrow(
      /^dropout\.nullLabel: expected an integer/,
    );
    await expectNoLeaks(() => dropLabels(labels, { prob: 0.3, nullLabel: 7 }, 1));
  });
});

describe('label dropout inside the losses', () => {
  it('the model sees the batch labels, with a fraction p replaced by the null label', () => {
    const seen: number[] = [];
    const spy: ModelFn = (x, _t, l) => {
      seen.push(...(l === undefined ? [] : Array.from(l.dataSync())));
      return tf.zerosLike(x);
    };
    const x = tf.zeros([4000, 2]);
    const labels = tf.tensor1d(
      Int32Array.from({ length: 4000 }, (_, i) => i % 3),
      'int32',
    );
    ddpmLoss({ labelDropout: { prob: 0.1, nullLabel: 3 } })(spy, { x, labels }, 5).dispose();
    expect(seen.length).toBe(4000);
    const nulls = seen.filter((v) => v === 3).length;
    expect(Math.abs(nulls - 400)).toBeLessThan(4 * Math.sqrt(4000 * 0.1 * 0.9)); // 4 sd of Binomial(4000, 0.1)
    seen.forEach((v, i) => {
      if (v !== 3) expect(v).toBe(i % 3);
    });
    seen.length = 0;
    denoisingScoreMatchingLoss({ sde: new VPSDE() })(spy, { x, labels }, 5).dispose();
    expect(seen).toEqual(Array.from({ length: 4000 }, (_, i) => i % 3)); // no dropout: labels as given
    tf.dispose([x, labels]);
  });
});
