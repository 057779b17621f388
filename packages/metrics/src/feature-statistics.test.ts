import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FeatureStatistics } from './feature-statistics.js';
import { randomMatrix, statsReference } from './stats.test-support.js';

beforeAll(useCpuBackend);

const ref = statsReference.statistics;
const d = ref.dim;
// The script's features: randomMatrix(seed, n, d) · scale + offset (numpy computed mean and np.cov).
const features = randomMatrix(ref.seed, ref.n, d).map((v) => v * ref.scale + ref.offset);

function expectMatchesNumpy(stats: FeatureStatistics) {
  expect(stats.count).toBe(ref.n);
  const mean = stats.mean();
  const cov = stats.covariance();
  let meanError = 0;
  let covError = 0;
  for (let j = 0; j < d; j++) meanError = Math.max(meanError, Math.abs(mean[j]! - ref.mean[j]!));
  for (let i = 0; i < d * d; i++) covError = Math.max(covError, Math.abs(cov[i]! - ref.cov[i]!));
  // float64 rounding of sums of 300 terms of size ~5 (mean) and ~9 (covariance entries).
  expect(meanError).toBeLessThan(1e-13);
  expect(covError).toBeLessThan(1e-13);
}

function rows(from: number, to: number): Float64Array {
  return features.slice(from * d, to * d);
}

describe('FeatureStatistics', () => {
  it('one batch of 300 rows (more than one internal block) equals numpy mean and np.cov(rowvar=False)', () => {
    expectMatchesNumpy(new FeatureStatistics(d).add(features));
  });

  it('uneven batches, in permuted order and one row at a time, give the same statistics', () => {
    const uneven = new FeatureStatistics(d);
    for (const [a, b] of [
      [0, 1],
      [1, 18],
      [18, 275],
      [275, 300],
    ] as const) {
      uneven.add(rows(a, b), b - a);
    }
    expectMatchesNumpy(uneven);
    const permuted = new FeatureStatistics(d);
    for (const [a, b] of [
      [200, 300],
      [0, 7],
      [50, 200],
      [7, 50],
    ] as const) {
      permuted.add(rows(a, b));
    }
    expectMatchesNumpy(permuted);
    const single = new FeatureStatistics(d);
    for (let i = 299; i >= 0; i--) single.add(rows(i, i + 1));
    expectMatchesNumpy(single);
  });

  it('merged shards (including an empty one) equal the one-shot statistics', () => {
    const a = new FeatureStatistics(d).add(rows(0, 120));
    const b = new FeatureStatistics(d).add(rows(120, 121));
    const c = new FeatureStatistics(d).add(rows(121, 300));
    const empty = new FeatureStatistics(d);
    expectMatchesNumpy(empty.merge(c).merge(a).merge(b).merge(new FeatureStatistics(d)));
  });

  it('float32 input and tensors [n, d] are accepted (addTensor leaks no tensor)', async () => {
    const x = tf.tensor2d(Float32Array.from(features), [ref.n, d]);
    const fromTensor = new FeatureStatistics(d).addTensor(x);
    const fromArray = new FeatureStatistics(d).add(Float32Array.from(features));
    expect(fromTensor.mean()).toEqual(fromArray.mean());
    expect(fromTensor.covariance()).toEqual(fromArray.covariance());
    // float32 rounding of the inputs (relative 6e-8 of values ~8) shows up at ~1e-6 in the covariance.
    const cov = fromTensor.covariance();
    for (let i = 0; i < d * d; i += 97) expect(Math.abs(cov[i]! - ref.cov[i]!)).toBeLessThan(1e-5);
    await expectNoLeaks(() => {
      new FeatureStatistics(d).addTensor(x);
    });
    x.dispose();
  });

  it('toFidStatistics returns { mu, sigma, dim } copies', () => {
    const s = new FeatureStatistics(d).add(features);
    const fid = s.toFidStatistics();
    expect(fid.dim).toBe(d);
    expect(fid.mu).toEqual(s.mean());
    expect(fid.sigma).toEqual(s.covariance());
    fid.mu[0] = 1e9;
    expect(s.mean()[0]).not.toBe(1e9);
  });

  describe('errors', () => {
    it('bad dimension, lengths and shapes', () => {
      expect(() => new FeatureStatistics(0)).toThrow(/dim: expected an integer >= 1, got 0/);
      const s = new FeatureStatistics(3);
      expect(() => s.add(new Float64Array(7))).toThrow(
        /features: expected a multiple of the feature dimension 3 values, got 7/,
      );
      expect(() => s.add(new Float64Array(6), 3)).toThrow(/n · dim = 3 · 3 = 9 values, got 6/);
      const t = tf.zeros([2, 4]) as tf.Tensor2D;
      expect(() => s.addTensor(t)).toThrow(/expected a tensor of shape \[n, 3\], got \[2, 4\]/);
      t.dispose();
      expect(() => s.merge(new FeatureStatistics(4))).toThrow(
        /other: expected FeatureStatistics of dimension 3, got dimension 4/,
      );
    });

    it('non-finite features name the row of the batch, and nothing is added', () => {
      const s = new FeatureStatistics(2);
      expect(() => s.add(Float64Array.of(1, 2, 3, Number.NaN))).toThrow(SbmArgumentError);
      expect(() => s.add(Float64Array.of(1, 2, 3, Number.NaN))).toThrow(
        /NaN in row 1 \(column 1\) of this batch/,
      );
      expect(s.count).toBe(0);
    });

    it('mean needs 1 sample and covariance 2', () => {
      const s = new FeatureStatistics(2);
      expect(() => s.mean()).toThrow(/count: expected at least 1 sample/);
      s.add(Float64Array.of(1, 2));
      expect(s.mean()).toEqual(Float64Array.of(1, 2));
      expect(() => s.covariance()).toThrow(/count: expected at least 2 samples for a covariance, got 1/);
    });
  });
});
