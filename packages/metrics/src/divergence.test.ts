// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { setupBackend } from '@sbm/backend';
import { SbmArgumentError } from '@sbm/sde';
import { createRng, expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreAndDivergence } from './divergence.js';

beforeAll(useCpuBackend);

// A linear field s(x) = A x + t·b on x [B, 3, 2] (D = 6, flattened row-major) with a non-symmetric A:
// ∂s/∂x = A, so the exact divergence is tr A and the Hutchinson estimate is εᵀ A ε (closed forms in float64).
const D = 6;
const A = Array.from({ length: D }, (_, i) =>
  Array.from({ length: D }, (_, j) => Math.sin(3 * i + j + 1) + (i === j ? 1 : 0)),
);
const bias = [0.5, -1, 2, 0, 1, -0.5];
const linear = (x: tf.Tensor, t: tf.Tensor) =>
  tf.tidy(() => {
    const B = x.shape[0]!;
    const flat = tf.reshape(x, [B, D]);
    const s = tf.add(
      tf.matMul(flat, tf.tensor2d(A), false, true),
      tf.mul(tf.reshape(t, [B, 1]), tf.tensor1d(bias)),
    );
    return tf.reshape(s, x.shape);
  });

describe('scoreAndDivergence', () => {
  const rng = createRng(5);
  const values = Array.from(rng.normals(3 * D));
  const x = () => tf.tensor3d(values, [3, 3, 2]);

  it.each([1, 4, 6, 10])('gives the exact trace in passes of %i directions, and the score itself', (m) => {
    const input = x();
    const { score, divergence } = scoreAndDivergence(linear, input, 0.25, {
      exact: true,
      directionsPerPass: m,
    });
    const trace = A.reduce((s, row, i) => s + row[i]!, 0);
    for (const v of divergence.dataSync()) expect(v).toBeCloseTo(trace, 4);
    const expected = linear(input, tf.fill([3], 0.25));
    expect(score.shape).toEqual([3, 3, 2]);
    expect(Math.max(...tf.abs(tf.sub(score, expected)).dataSync())).toBeLessThan(1e-6);
    tf.dispose([input, score, divergence, expected]);
  });

  it('gives the exact trace on the wasm backend too (whose OneHot cannot build float32 cotangents)', async () => {
    await setupBackend({ prefer: 'wasm', importModule: (name) => import(name) });
    try {
      const input = x();
      const { score, divergence } = scoreAndDivergence(linear, input, 0.25, {
        exact: true,
        directionsPerPass: 4,
      });
      const trace = A.reduce((s, row, i) => s + row[i]!, 0);
      for (const v of divergence.dataSync()) expect(v).toBeCloseTo(trace, 4);
      tf.dispose([input, score, divergence]);
    } finally {
      await useCpuBackend();
    }
  });

  it('gives εᵀ A ε per example for a probe ε', () => {
    const input = x();
    const eps = Array.from(createRng(6).normals(3 * D));
    const probe = tf.tensor3d(eps, [3, 3, 2]);
    const { score, divergence } = scoreAndDivergence(linear, input, 0.5, { probe });
    const d = divergence.dataSync();
    for (let b = 0; b < 3; b++) {
      let quad = 0;
      for (let i = 0; i < D; i++)
        for (let j = 0; j < D; j++) quad += eps[b * D + i]! * A[i]![j]! * eps[b * D + j]!;
      expect(d[b]).toBeCloseTo(quad, 4);
    }
    tf.dispose([input, probe, score, divergence]);
  });

  it('does not leak tensors', async () => {
    const input = x();
    const probe = tf.onesLike(input);
    await expectNoLeaks(() => scoreAndDivergence(linear, input, 0.5, { probe }));
    await expectNoLeaks(() => scoreAndDivergence(linear, input, 0.5, { exact: true, directionsPerPass: 4 }));
    tf.dispose([input, probe]);
  });

  it('rejects bad input with errors naming it', () => {
    const input = x();
    const thrown = (f: () => unknown): SbmArgumentError => {
      try {
        f();
      } catch (e) {
        if (e instanceof SbmArgumentError) return e;
        throw e;
      }
      throw new Error('nothing thrown');
    };
    const vector = tf.tensor1d([1, 2]);
    const wrong = tf.ones([3, 6]);
    expect(thrown(() => scoreAndDivergence(linear, vector, 0.5, { exact: true })).message).toMatch(
      /^x: expected a tensor \[B, \.\.\.\] with B >= 1 and rank >= 2/,
    );
    expect(thrown(() => scoreAndDivergence(linear, input, 0.5, { probe: wrong })).message).toMatch(
      /^estimator\.probe: expected a tensor of the shape of x \[3,3,2\]/,
    );
    expect(
      thrown(() => scoreAndDivergence(linear, input, 0.5, { exact: true, directionsPerPass: 0 })).message,
    ).toMatch(/^estimator\.directionsPerPass: expected an integer >= 1/);
    expect(
      thrown(() => scoreAndDivergence((v) => tf.sum(v, 1), input, 0.5, { exact: true })).message,
    ).toMatch(/^scoreFn: expected a score of the shape of x \[18,3,2\]/);
    tf.dispose([input, vector, wrong]);
  });
});
