import { createRng, expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cosineBetas, discreteSchedule, linearBetas } from './beta-schedules.js';
import { convertPrediction, discreteMarginals, type Parameterization } from './parameterization.js';
import type { SDE } from './sde.js';
import { SubVPSDE } from './subvp-sde.js';
import { VESDE } from './ve-sde.js';
import { VPSDE } from './vp-sde.js';

beforeAll(useCpuBackend);

const sdes: [string, SDE][] = [
  ['VP', new VPSDE()],
  ['sub-VP', new SubVPSDE()],
  ['VE', new VESDE()],
];
const KINDS: Parameterization[] = ['score', 'eps', 'x0', 'v'];

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Array.from({ length: n }, () => rng.normal() * scale),
    shape,
  );
}

describe.each(sdes)('convertPrediction (%s)', (_name, sde) => {
  const t = [0.02, 0.3, 0.7, 1];

  function roundTrip(t: number[], rtol: number): void {
    const x = randomTensor([4, 3, 3, 2], 1);
    // Start from a noise prediction, which is O(1) for every SDE, and go out and back.
    const eps = randomTensor([4, 3, 3, 2], 2);
    for (const from of KINDS) {
      const value = convertPrediction({ sde, x, t, value: eps, from: 'eps', to: from });
      for (const to of KINDS) {
        const there = convertPrediction({ sde, x, t, value, from, to });
        const back = convertPrediction({ sde, x, t, value: there, from: to, to: from });
        expectTensorsClose(back, value, { rtol, atol: rtol, message: `${from} → ${to} → ${from}` });
        tf.dispose([there, back]);
      }
      value.dispose();
    }
    tf.dispose([x, eps]);
  }

  it('round-trips every pair of parameterizations to 1e-5 on t in [0.3, 0.9]', () => {
    roundTrip([0.3, 0.5, 0.7, 0.9], 1e-5);
  });

  it('round-trips to 1e-3 at the ill-conditioned ends t = 0.02 and t = 1', () => {
    // In float32, x0 ↔ score loses digits in proportion to |x|/σ(t) as σ → 0 and to 1/α(t) where α(T)
    // is small (VP: α(1) ≈ 0.0066), so the ends get a looser tolerance.
    roundTrip([0.02, 1, 0.02, 1], 1e-3);
  });

  it('is consistent with x = α x0 + σ ε and v = α ε − σ x0 built from known x0 and ε', () => {
    const x0 = randomTensor([4, 5], 3);
    const eps = randomTensor([4, 5], 4);
    const a = t.map((s) => sde.alpha(s));
    const s = t.map((u) => sde.sigma(u));
    const x0v = x0.dataSync();
    const ev = eps.dataSync();
    const xv = Array.from(x0v, (v, i) => a[Math.floor(i / 5)]! * v + s[Math.floor(i / 5)]! * ev[i]!);
    const vv = Array.from(x0v, (v, i) => a[Math.floor(i / 5)]! * ev[i]! - s[Math.floor(i / 5)]! * v);
    const scorev = Array.from(ev, (e, i) => -e / s[Math.floor(i / 5)]!);
    const x = tf.tensor2d(xv, [4, 5]);
    const truth: Record<Parameterization, tf.Tensor> = {
      score: tf.tensor2d(scorev, [4, 5]),
      eps,
      x0,
      v: tf.tensor2d(vv, [4, 5]),
    };
    for (const from of KINDS) {
      for (const to of KINDS) {
        const out = convertPrediction({ sde, x, t, value: truth[from], from, to });
        expectTensorsClose(out, truth[to], { rtol: 2e-4, atol: 2e-4, message: `${from} → ${to}` });
        out.dispose();
      }
    }
    tf.dispose([x, truth.score, truth.v, x0, eps]);
  });

  it('Tweedie: the exact score of Gaussian data gives E[x0 | x_t] in closed form', () => {
    // Data x0 ~ N(m, c² I): p_t = N(α m, (α² c² + σ²) I), score = −(x − α m)/(α² c² + σ²),
    // and E[x0 | x_t] = m + α c² (x − α m)/(α² c² + σ²).
    const m = 0.7;
    const c = 0.4;
    const x = randomTensor([4, 6], 5, 2);
    const xv = x.dataSync();
    const score = tf.tensor2d(
      Array.from(xv, (v, i) => {
        const tt = t[Math.floor(i / 6)]!;
        const al = sde.alpha(tt);
        return -(v - al * m) / (al * al * c * c + sde.sigma(tt) ** 2);
      }),
      [4, 6],
    );
    const expected = Array.from(xv, (v, i) => {
      const tt = t[Math.floor(i / 6)]!;
      const al = sde.alpha(tt);
      return m + (al * c * c * (v - al * m)) / (al * al * c * c + sde.sigma(tt) ** 2);
    });
    const x0 = convertPrediction({ sde, x, t, value: score, from: 'score', to: 'x0' });
    expectTensorsClose(x0, expected, { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([x, score, x0]);
  });

  it('does not leak tensors', async () => {
    const x = tf.ones([4, 2]);
    const tt = tf.tensor1d(t);
    for (const to of KINDS)
      await expectNoLeaks(() => convertPrediction({ sde, x, t: tt, value: x, from: 'eps', to }));
    await expectNoLeaks(() => convertPrediction({ sde, x, t: 0.5, value: x, from: 'v', to: 'score' }));
    tf.dispose([x, tt]);
  });
});

describe('convertPrediction argument checks', () => {
  const sde = new VPSDE();
  const x = tf.ones([2, 3]);

  it('names the argument', () => {
    expect(() =>
      convertPrediction({ sde, x, t: 0.5, value: tf.ones([2, 4]), from: 'eps', to: 'score' }),
    ).toThrow(/^value: expected a prediction of the shape of x \[2,3\], got a tensor of shape \[2,4\]/);
    expect(() =>
      convertPrediction({ sde, x, t: 0.5, value: x, from: 'noise' as 'eps', to: 'score' }),
    ).toThrow(/^from: expected one of score, eps, x0, v, got string/);
    expect(() => convertPrediction({ sde, x, t: 0.5, value: x, from: 'eps', to: 'x' as 'v' })).toThrow(
      /^to: /,
    );
    expect(() => convertPrediction({ sde, x, t: 2, value: x, from: 'eps', to: 'v' })).toThrow(/^t: /);
  });

  it('refuses to divide by σ(t) = 0 (VP at t = 0)', () => {
    expect(() => convertPrediction({ sde, x, t: [0.5, 0], value: x, from: 'eps', to: 'score' })).toThrow(
      /^t: cannot convert eps to score where sigma\(t\) = 0 \(t = 0 at index 1\)/,
    );
    // eps → x0 at t = 0 is fine (σ = 0, α = 1): x0 = x.
    const out = convertPrediction({ sde, x, t: 0, value: x, from: 'eps', to: 'x0' });
    expectTensorsClose(out, x);
    out.dispose();
  });
});

describe('discreteMarginals', () => {
  it('gives α_i = √ᾱ_i and σ_i = √(1 − ᾱ_i) at integer steps and interpolates log ᾱ between them', () => {
    const s = discreteSchedule(linearBetas(1000));
    const m = discreteMarginals(s);
    expect(m.T).toBe(999);
    for (const i of [0, 1, 500, 999]) {
      expect(m.alpha(i)).toBeCloseTo(Math.sqrt(s.alphaBars[i]!), 14);
      expect(m.sigma(i)).toBeCloseTo(Math.sqrt(1 - s.alphaBars[i]!), 14);
    }
    const mid = 0.5 * (Math.log(s.alphaBars[10]!) + Math.log(s.alphaBars[11]!));
    expect(m.alpha(10.5)).toBeCloseTo(Math.exp(0.5 * mid), 14);
  });

  it('gives the log-SNR log(ᾱ/(1 − ᾱ)) and its exact inverse, also between steps', () => {
    const s = discreteSchedule(linearBetas(1000));
    const m = discreteMarginals(s);
    for (const i of [0, 1, 37, 500, 999]) {
      const ab = s.alphaBars[i]!;
      expect(m.logSNR(i)).toBeCloseTo(Math.log(ab / (1 - ab)), 10);
      expect(m.tFromLogSNR(m.logSNR(i))).toBeCloseTo(i, 9);
    }
    for (const t of [0.25, 3.7, 123.456, 998.9]) {
      const l = m.logSNR(t);
      expect(l).toBeCloseTo(2 * Math.log(m.alpha(t) / m.sigma(t)), 10);
      expect(m.tFromLogSNR(l)).toBeCloseTo(t, 9);
    }
    expect(m.logSNR(10)).toBeGreaterThan(m.logSNR(10.5));
    expect(() => m.tFromLogSNR(m.logSNR(0) + 1)).toThrow(/^logSnr: expected a log-SNR in/);
  });

  it('drives the conversions: eps → x0 with a cosine schedule at step indices', () => {
    const s = discreteSchedule(cosineBetas(100));
    const m = discreteMarginals(s);
    const x0 = tf.tensor2d([[0.5, -1]]);
    const eps = tf.tensor2d([[0.3, 0.2]]);
    const i = 40;
    const ab = s.alphaBars[i]!;
    const x = tf.tensor2d([
      [Math.sqrt(ab) * 0.5 + Math.sqrt(1 - ab) * 0.3, -Math.sqrt(ab) + Math.sqrt(1 - ab) * 0.2],
    ]);
    const out = convertPrediction({ sde: m, x, t: [i], value: eps, from: 'eps', to: 'x0' });
    expectTensorsClose(out, x0, { rtol: 1e-5, atol: 1e-5 });
    tf.dispose([x0, eps, x, out]);
  });
});
