import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExponentialMovingAverage } from './ema.js';

beforeAll(useCpuBackend);

/** θ_k, k = 0..n: the weights at construction (k = 0) and after each of n optimizer updates. */
const thetaAt = (k: number): number[] => [1 + 0.5 * k, -2 + 0.25 * k * k, Math.sin(k)];

/**
 * Closed form of n EMA updates with decays d_1..d_n from s_0 = θ_0:
 * s_n = (Π_k d_k) θ_0 + Σ_k (1 − d_k) (Π_{j>k} d_j) θ_k (float64).
 */
function closedForm(decays: number[]): number[] {
  const n = decays.length;
  const prodAfter = (k: number) => decays.slice(k).reduce((a, b) => a * b, 1); // Π_{j>k} d_j (1-based k)
  return thetaAt(0).map((_, i) => {
    let s = prodAfter(0) * thetaAt(0)[i]!;
    for (let k = 1; k <= n; k++) s += (1 - decays[k - 1]!) * prodAfter(k) * thetaAt(k)[i]!;
    return s;
  });
}

describe('ExponentialMovingAverage (score_sde_pytorch models/ema.py)', () => {
  it('warm-up decay min(d, (1 + n)/(10 + n)): closed form of 5 updates', () => {
    const w = tf.variable(tf.tensor1d(thetaAt(0)));
    const ema = new ExponentialMovingAverage({ w }, { decay: 0.9 });
    const used: number[] = [];
    for (let k = 1; k <= 5; k++) {
      w.assign(tf.tensor1d(thetaAt(k)));
      used.push(ema.update({ w }));
    }
    // n counts this update: d_1 = 2/11, d_2 = 3/12, ... (all below 0.9 until n = 80).
    expect(used).toEqual([2 / 11, 3 / 12, 4 / 13, 5 / 14, 6 / 15]);
    expect(ema.numUpdates).toBe(5);
    expectTensorsClose(ema.getState().shadow['w']!, closedForm(used), { rtol: 1e-6, atol: 1e-6 });
    // With a large n the configured decay wins.
    ema.setState({ ...ema.getState(), numUpdates: 1000 });
    expect(ema.nextDecay()).toBe(0.9);
    ema.dispose();
    w.dispose();
  });

  it('useNumUpdates false: constant decay d, closed form (1 − d) Σ d^(n−k) θ_k + d^n θ_0', () => {
    const w = tf.variable(tf.tensor1d(thetaAt(0)));
    const ema = new ExponentialMovingAverage({ w }, { decay: 0.7, useNumUpdates: false });
    for (let k = 1; k <= 4; k++) {
      w.assign(tf.tensor1d(thetaAt(k)));
      expect(ema.update({ w })).toBe(0.7);
    }
    expect(ema.numUpdates).toBeNull();
    expectTensorsClose(ema.getState().shadow['w']!, closedForm([0.7, 0.7, 0.7, 0.7]), {
      rtol: 1e-6,
      atol: 1e-6,
    });
    ema.dispose();
    w.dispose();
  });

  it('store → copyTo → restore gives the EMA weights in between and the training weights back', () => {
    const w = tf.variable(tf.tensor1d([1, 2]));
    const ema = new ExponentialMovingAverage({ w }, { decay: 0.5, useNumUpdates: false });
    w.assign(tf.tensor1d([3, 6]));
    ema.update({ w }); // shadow = 0.5·[1,2] + 0.5·[3,6] = [2, 4]
    ema.store({ w });
    ema.copyTo({ w });
    expectTensorsClose(w, [2, 4], { rtol: 0, atol: 0 });
    ema.restore({ w });
    expectTensorsClose(w, [3, 6], { rtol: 0, atol: 0 });
    expect(() => ema.restore({ w })).toThrow(SbmArgumentError);
    ema.dispose();
    w.dispose();
  });

  it('getState/setState restore exactly into a new EMA (continuing gives the uninterrupted result)', () => {
    const w = tf.variable(tf.tensor1d(thetaAt(0)));
    const a = new ExponentialMovingAverage({ w }, { decay: 0.95 });
    const b = new ExponentialMovingAverage({ w }, { decay: 0.95 });
    for (let k = 1; k <= 3; k++) {
      w.assign(tf.tensor1d(thetaAt(k)));
      a.update({ w });
    }
    const saved = a.getState();
    b.setState({
      decay: saved.decay,
      numUpdates: saved.numUpdates,
      shadow: { w: Float32Array.from(saved.shadow['w']!) },
    });
    for (let k = 4; k <= 6; k++) {
      w.assign(tf.tensor1d(thetaAt(k)));
      a.update({ w });
      b.update({ w });
    }
    expect(b.numUpdates).toBe(6);
    expectTensorsClose(b.getState().shadow['w']!, a.getState().shadow['w']!, { rtol: 0, atol: 0 });
    a.dispose();
    b.dispose();
    w.dispose();
  });

  it('rejects bad arguments with SbmArgumentError naming them', () => {
    const w = tf.variable(tf.zeros([2]));
    const name = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SbmArgumentError);
        return (e as SbmArgumentError).argument;
      }
      return 'no error';
    };
    expect(name(() => new ExponentialMovingAverage({ w }, { decay: 1.5 }))).toBe('options.decay');
    expect(name(() => new ExponentialMovingAverage({}, { decay: 0.9 }))).toBe('variables');
    const ema = new ExponentialMovingAverage({ w }, { decay: 0.9 });
    const u = tf.variable(tf.zeros([3]));
    expect(name(() => ema.update({ w: u }))).toBe("variables['w']");
    expect(name(() => ema.update({ w, u }))).toBe("variables['u']");
    expect(name(() => ema.setState({ decay: 0.9, numUpdates: 0, shadow: { w: new Float32Array(3) } }))).toBe(
      "state.shadow['w']",
    );
    expect(name(() => ema.setState({ decay: 0.9, numUpdates: -1, shadow: { w: new Float32Array(2) } }))).toBe(
      'state.numUpdates',
    );
    ema.dispose();
    tf.dispose([w, u]);
  });

  it('leaks no tensors (update, copyTo, store/restore, getState/setState)', async () => {
    const w = tf.variable(tf.ones([2, 3]));
    const ema = new ExponentialMovingAverage({ w }, { decay: 0.9 });
    await expectNoLeaks(() => {
      ema.update({ w });
      ema.store({ w });
      ema.copyTo({ w });
      ema.restore({ w });
      ema.setState(ema.getState());
    });
    ema.dispose();
    w.dispose();
    const before = tf.memory().numTensors;
    const v = tf.tidy(() => tf.variable(tf.ones([2])));
    const e2 = new ExponentialMovingAverage({ v }, { decay: 0.9 });
    e2.store({ v });
    e2.dispose();
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
