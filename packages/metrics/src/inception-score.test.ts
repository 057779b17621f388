import { SbmArgumentError } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import { inceptionScore } from './inception-score.js';
import { randomMatrix, statsReference } from './stats.test-support.js';

/** Logits of a confident prediction of `label` (softmax 1 up to e^−200). */
function oneHotLogits(labels: number[], numClasses: number): Float64Array {
  const out = new Float64Array(labels.length * numClasses);
  labels.forEach((label, i) => {
    out[i * numClasses + label] = 200;
  });
  return out;
}

describe('inceptionScore', () => {
  it.each(statsReference.inceptionScore.map((c) => [c.n, c.numClasses, c.splits, c] as const))(
    '%i samples, %i classes, %i splits: equals the improved-gan / TTUR computation in numpy',
    (_, __, ___, c) => {
      const logits = randomMatrix(c.seed, c.n, c.numClasses).map((v) => v * c.scale);
      const got = inceptionScore(logits, c.n, { numClasses: c.numClasses, splits: c.splits });
      expect(Math.abs(got.mean - c.mean)).toBeLessThan(1e-12 * c.mean);
      expect(Math.abs(got.std - c.std)).toBeLessThan(1e-10 * c.mean);
    },
  );

  it('confident predictions spread uniformly over C classes in every split score exactly C (std 0)', () => {
    const labels = Array.from({ length: 40 }, (_, i) => i % 4);
    const got = inceptionScore(oneHotLogits(labels, 4), 40, { numClasses: 4, splits: 10 });
    expect(got.mean).toBeCloseTo(4, 12);
    expect(got.std).toBeLessThan(1e-12);
    // The default 1008 classes, 1008 samples in one split, every class once: IS = 1008.
    const all = Array.from({ length: 1008 }, (_, i) => i);
    expect(inceptionScore(oneHotLogits(all, 1008), 1008, { splits: 1 }).mean).toBeCloseTo(1008, 8);
  });

  it('identical predictions for all samples score 1', () => {
    const logits = new Float64Array(30);
    for (let i = 0; i < 10; i++) logits.set([0.3, -1, 2], i * 3);
    const got = inceptionScore(logits, 10, { numClasses: 3, splits: 2 });
    expect(got.mean).toBeCloseTo(1, 14);
    expect(got.std).toBeCloseTo(0, 14);
  });

  it('two classes by hand: p = (3/4, 1/4) and (1/4, 3/4) → exp(¾ ln 1.5 + ¼ ln 0.5)', () => {
    const logits = Float32Array.of(Math.log(3), 0, 0, Math.log(3)); // softmax (3/4, 1/4), (1/4, 3/4)
    const got = inceptionScore(logits, 2, { numClasses: 2, splits: 1 });
    expect(got.mean).toBeCloseTo(Math.exp(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5)), 7); // float32 logits
    expect(got.std).toBe(0);
  });

  it('splits are ⌊k n / splits⌋ boundaries: 5 samples in 2 splits are 2 + 3', () => {
    // Split 0 = rows 0-1 (classes 0, 1 → IS 2); split 1 = rows 2-4 (classes 0, 0, 0 → IS 1).
    const got = inceptionScore(oneHotLogits([0, 1, 0, 0, 0], 2), 5, { numClasses: 2, splits: 2 });
    expect(got.mean).toBeCloseTo(1.5, 12);
    expect(got.std).toBeCloseTo(0.5, 12);
  });

  it('errors: lengths, non-finite logits (naming the row), too few samples, bad options', () => {
    expect(() => inceptionScore(new Float64Array(10), 3, { numClasses: 3, splits: 1 })).toThrow(
      /logits: expected n · numClasses = 3 · 3 = 9 values, got 10/,
    );
    const bad = new Float64Array(12);
    bad[7] = Number.NaN;
    expect(() => inceptionScore(bad, 4, { numClasses: 3, splits: 2 })).toThrow(/NaN in row 2 \(class 1\)/);
    expect(() => inceptionScore(new Float64Array(9), 3, { numClasses: 3 })).toThrow(
      /n: expected an integer >= splits \(10\), got 3/,
    );
    expect(() => inceptionScore(new Float64Array(9), 3, { numClasses: 3, splits: 0 })).toThrow(
      SbmArgumentError,
    );
    expect(() => inceptionScore(new Float64Array(9), 3, { numClasses: 0 })).toThrow(/options.numClasses/);
  });
});
