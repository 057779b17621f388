import {
  createRng,
  expectNoLeaks,
  expectTensorsClose,
  type LinearSdeSpec,
  linearSdeCoefficients,
  useCpuBackend,
} from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SbmArgumentError } from './errors.js';
import { SDE } from './sde.js';
import { SubVPSDE } from './subvp-sde.js';
import { VESDE } from './ve-sde.js';
import { VPSDE } from './vp-sde.js';

beforeAll(useCpuBackend);

const cases: { name: string; make: () => SDE; spec: LinearSdeSpec }[] = [
  { name: 'VPSDE', make: () => new VPSDE(), spec: { kind: 'vp', betaMin: 0.1, betaMax: 20 } },
  { name: 'SubVPSDE', make: () => new SubVPSDE(), spec: { kind: 'subvp', betaMin: 0.1, betaMax: 20 } },
  { name: 'VESDE', make: () => new VESDE(), spec: { kind: 've', sigmaMin: 0.01, sigmaMax: 50 } },
  {
    name: 'VPSDE(0.5, 5)',
    make: () => new VPSDE({ betaMin: 0.5, betaMax: 5, N: 50 }),
    spec: { kind: 'vp', betaMin: 0.5, betaMax: 5 },
  },
  {
    name: 'VESDE(0.1, 8)',
    make: () => new VESDE({ sigmaMin: 0.1, sigmaMax: 8, N: 30 }),
    spec: { kind: 've', sigmaMin: 0.1, sigmaMax: 8 },
  },
];

const TIMES = [0, 1e-4, 0.05, 0.3, 0.5, 0.9, 1];

describe.each(cases)('$name', ({ make, spec }) => {
  const sde = make();

  it('has the scalar coefficients of the independent oracle (float64, 1e-12 relative)', () => {
    for (const t of TIMES) {
      const o = linearSdeCoefficients(spec, t);
      expect(sde.driftCoefficient(t)).toBeCloseTo(o.f, 12);
      expect(Math.abs(sde.diffusionCoefficient(t) - o.g)).toBeLessThanOrEqual(1e-12 * Math.max(1, o.g));
      expect(Math.abs(sde.alpha(t) - o.alpha)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(sde.sigma(t) - o.sigma)).toBeLessThanOrEqual(1e-12 * Math.max(1, o.sigma));
    }
  });

  it('sde(x, t) gives drift f(t)·x and diffusion g(t) per example', () => {
    const ts = [0, 0.25, 0.5, 1];
    const x = tf.tensor4d(
      Array.from({ length: 4 * 2 * 2 * 1 }, (_, i) => i / 7 - 1),
      [4, 2, 2, 1],
    );
    const { drift, diffusion } = sde.sde(x, tf.tensor1d(ts));
    const xv = x.dataSync();
    const expected = Array.from(xv, (v, i) => v * linearSdeCoefficients(spec, ts[Math.floor(i / 4)]!).f);
    expectTensorsClose(drift, expected, { rtol: 1e-5, atol: 1e-6 });
    expect(drift.shape).toEqual([4, 2, 2, 1]);
    expectTensorsClose(
      diffusion,
      ts.map((t) => linearSdeCoefficients(spec, t).g),
      { rtol: 1e-6 },
    );
    tf.dispose([x, drift, diffusion]);
  });

  it('marginalProb matches a Monte-Carlo simulation of the forward SDE (Euler–Maruyama from fixed x0)', () => {
    // 10000 paths in 2 dimensions from x0 = (1.5, −0.7), 500 Euler–Maruyama steps of sde().
    // Tolerances: 5 standard errors (mean: std/√M, std: std/√(2M)) plus 2% for the O(Δt) bias.
    const M = 10000;
    const steps = 500;
    const rng = createRng(1000);
    const tEnd = [0.3, 1];
    const x0 = tf.tile(tf.tensor2d([[1.5, -0.7]]), [M, 1]);
    let x: tf.Tensor = tf.clone(x0);
    const dt = 1 / steps;
    const checkpoints = new Map<number, tf.Tensor>();
    for (let i = 0; i < steps; i++) {
      const t = i * dt;
      const next = tf.tidy(() => {
        const { drift, diffusion } = sde.sde(x, t);
        const z = tf.tensor2d(Float32Array.from(rng.normals(2 * M)), [M, 2]);
        return tf.add(
          tf.add(x, tf.mul(drift, dt)),
          tf.mul(tf.reshape(diffusion, [M, 1]), tf.mul(z, Math.sqrt(dt))),
        );
      });
      x.dispose();
      x = next;
      const tNext = (i + 1) * dt;
      for (const te of tEnd) if (Math.abs(tNext - te) < 1e-9) checkpoints.set(te, tf.clone(x));
    }
    x.dispose();
    for (const te of tEnd) {
      const xt = checkpoints.get(te)!;
      const { mean, std } = sde.marginalProb(tf.slice(x0, [0, 0], [1, 2]), te);
      const mc = tf.moments(xt, 0);
      const mcMean = mc.mean.dataSync();
      const mcStd = Array.from(mc.variance.dataSync(), Math.sqrt);
      const m = mean.dataSync();
      const s = std.dataSync()[0]!;
      for (let d = 0; d < 2; d++) {
        expect(Math.abs(mcMean[d]! - m[d]!)).toBeLessThanOrEqual(
          (5 * s) / Math.sqrt(M) + 0.02 * Math.abs(m[d]!),
        );
        expect(Math.abs(mcStd[d]! - s)).toBeLessThanOrEqual((5 * s) / Math.sqrt(2 * M) + 0.02 * s);
      }
      tf.dispose([xt, mean, std, mc.mean, mc.variance]);
    }
    x0.dispose();
  });

  it('perturb(x0, t, z) = α(t)·x0 + σ(t)·z', () => {
    const x0 = tf.tensor2d([
      [1, 2],
      [-3, 0.5],
    ]);
    const z = tf.tensor2d([
      [0.1, -0.2],
      [1.3, 0.7],
    ]);
    const ts = [0.2, 0.8];
    const out = sde.perturb(x0, ts, z);
    const x0v = x0.dataSync();
    const zv = z.dataSync();
    const expected = Array.from(x0v, (v, i) => {
      const o = linearSdeCoefficients(spec, ts[Math.floor(i / 2)]!);
      return o.alpha * v + o.sigma * zv[i]!;
    });
    expectTensorsClose(out, expected, { rtol: 1e-5, atol: 1e-6 });
    tf.dispose([x0, z, out]);
  });

  it('priorLogp equals the Gaussian log-density N(0, priorStd² I), one value per example', () => {
    const rng = createRng(3);
    const values = Array.from({ length: 4 * 3 * 2 }, () => rng.normal() * sde.priorStd * 1.3);
    const z = tf.tensor3d(values, [4, 3, 2]);
    const logp = sde.priorLogp(z);
    expect(logp.shape).toEqual([4]);
    const s = spec.kind === 've' ? spec.sigmaMax : 1;
    const expected = [0, 1, 2, 3].map((b) => {
      let acc = 0;
      for (let i = 0; i < 6; i++) {
        const v = values[b * 6 + i]!;
        acc += -0.5 * Math.log(2 * Math.PI) - Math.log(s) - (v * v) / (2 * s * s);
      }
      return acc;
    });
    expectTensorsClose(logp, expected, { rtol: 1e-5 });
    tf.dispose([z, logp]);
  });

  it('priorSampling draws N(0, priorStd² I) reproducibly from a seed', () => {
    const a = sde.priorSampling([5000, 4], 11);
    const b = sde.priorSampling([5000, 4], 11);
    expectTensorsClose(a, b, { rtol: 0, atol: 0 });
    const { mean, variance } = tf.moments(a);
    const s = sde.priorStd;
    // 20000 draws: 5 standard errors.
    expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan((5 * s) / Math.sqrt(20000));
    expect(Math.abs(Math.sqrt(variance.dataSync()[0]!) - s)).toBeLessThan((5 * s) / Math.sqrt(40000));
    tf.dispose([a, b, mean, variance]);
  });

  it('logSNR is decreasing and tFromLogSNR inverts it (closed form agrees with bisection)', () => {
    let prev = Number.POSITIVE_INFINITY;
    for (const t of [1e-3, 0.01, 0.1, 0.4, 0.7, 1]) {
      const l = sde.logSNR(t);
      expect(l).toBeLessThan(prev);
      prev = l;
      expect(sde.tFromLogSNR(l)).toBeCloseTo(t, 9);
      expect(SDE.prototype.tFromLogSNR.call(sde, l)).toBeCloseTo(t, 9);
    }
    expect(() => sde.tFromLogSNR(sde.logSNR(1) - 1)).toThrow(/logSnr/);
  });

  it('does not leak tensors', async () => {
    const x = tf.ones([3, 2, 2, 1]);
    const t = tf.tensor1d([0.1, 0.5, 0.9]);
    await expectNoLeaks(() => sde.sde(x, t));
    await expectNoLeaks(() => sde.sde(x, 0.3));
    await expectNoLeaks(() => sde.marginalProb(x, t));
    await expectNoLeaks(() => sde.perturb(x, t, x));
    await expectNoLeaks(() => sde.priorSampling([3, 2], 1));
    await expectNoLeaks(() => sde.priorLogp(x));
    await expectNoLeaks(() => sde.discretize(x, t));
    tf.dispose([x, t]);
  });
});

describe('argument checks', () => {
  const sde = new VPSDE();
  const x = tf.zeros([2, 3]);

  it('rejects t outside [0, T] and non-finite t, naming t', () => {
    for (const bad of [-0.1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => sde.sde(x, bad)).toThrow(SbmArgumentError);
      expect(() => sde.sde(x, bad)).toThrow(/^t: expected times in \[0, 1\]/);
    }
    expect(() => sde.marginalProb(x, [0.5, 2])).toThrow(/t: .*got 2 at index 1/);
    const tt = tf.tensor1d([0.2, -1]);
    expect(() => sde.discretize(x, tt)).toThrow(/t: .*got -1 at index 1/);
    tt.dispose();
  });

  it('rejects t of the wrong shape or batch size', () => {
    const t2 = tf.tensor2d([[0.1, 0.2]]);
    expect(() => sde.sde(x, t2 as unknown as tf.Tensor1D)).toThrow(
      /t: expected a tensor of shape \[2\].*got shape \[1,2\]/,
    );
    const t3 = tf.tensor1d([0.1, 0.2, 0.3]);
    expect(() => sde.sde(x, t3)).toThrow(/t: expected a tensor of shape \[2\]/);
    expect(() => sde.marginalProb(x, [0.1])).toThrow(/t: expected 2 times.*length 1/);
    expect(() => sde.sde(x, 'a' as unknown as number)).toThrow(/t: expected a number/);
    tf.dispose([t2, t3]);
  });

  it('rejects a scalar x and a noise of the wrong shape', () => {
    const s = tf.scalar(1);
    expect(() => sde.sde(s, 0.1)).toThrow(/x: expected a tensor of rank >= 1/);
    expect(() => sde.perturb(x, 0.1, tf.zeros([2, 4]))).toThrow(
      /noise: expected a tensor of the shape of x0 \[2,3\]/,
    );
    expect(() => sde.priorSampling([2, 0])).toThrow(/shape: expected a non-empty array of positive integers/);
    s.dispose();
  });

  it('rejects bad SDE parameters, naming them', () => {
    expect(() => new VPSDE({ betaMin: 20, betaMax: 0.1 })).toThrow(
      /options.betaMax: expected betaMax > betaMin/,
    );
    expect(() => new VPSDE({ betaMin: 1, betaMax: 1 })).toThrow(/options.betaMax/);
    expect(() => new VPSDE({ betaMin: Number.NaN })).toThrow(
      /options.betaMin: expected a finite number, got NaN/,
    );
    expect(() => new SubVPSDE({ betaMax: Number.POSITIVE_INFINITY })).toThrow(
      /options.betaMax: expected a finite/,
    );
    expect(() => new VPSDE({ N: 10.5 })).toThrow(/options.N: expected an integer >= 1/);
    expect(() => new VPSDE({ N: 10 })).toThrow(/options.N: expected N > betaMax/);
    expect(() => new VESDE({ sigmaMin: 0 })).toThrow(/options.sigmaMin: expected a number > 0/);
    expect(() => new VESDE({ sigmaMin: 5, sigmaMax: 5 })).toThrow(
      /options.sigmaMax: expected sigmaMax > sigmaMin/,
    );
    expect(() => new VESDE({ sigmaMax: Number.NaN })).toThrow(/options.sigmaMax: expected a finite number/);
  });
});
