import { expectTensorsClose, linearSdeCoefficients, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { alphaBarsFromBetas } from './beta-schedules.js';
import { VPSDE } from './vp-sde.js';

beforeAll(useCpuBackend);

describe('VPSDE', () => {
  const sde = new VPSDE();
  const spec = { kind: 'vp', betaMin: 0.1, betaMax: 20 } as const;

  it('has the reference defaults and a standard normal prior', () => {
    expect([sde.betaMin, sde.betaMax, sde.N, sde.T, sde.priorStd]).toEqual([0.1, 20, 1000, 1, 1]);
  });

  it('discrete betas are β(t_i)/N on the grid t_i = i/(N−1), i.e. G² = g(t_i)² Δt (DDPM discretization)', () => {
    expect(sde.discreteBetas).toHaveLength(1000);
    for (const i of [0, 1, 250, 998, 999]) {
      const t = i / 999;
      expect(sde.discreteBetas[i]).toBeCloseTo(linearSdeCoefficients(spec, t).g ** 2 / 1000, 14);
    }
  });

  it('discretize gives f = (√(1 − β_i) − 1)x and G = √β_i with i = round(t(N−1))', () => {
    const x = tf.tensor2d([
      [1, -2],
      [0.5, 3],
      [2, 2],
    ]);
    const ts = [0, 0.5, 1];
    const { f, G } = sde.discretize(x, ts);
    const betas = ts.map((t) => linearSdeCoefficients(spec, Math.round(t * 999) / 999).g ** 2 / 1000);
    const xv = x.dataSync();
    expectTensorsClose(
      f,
      Array.from(xv, (v, k) => (Math.sqrt(1 - betas[Math.floor(k / 2)]!) - 1) * v),
      { rtol: 1e-5, atol: 1e-7 },
    );
    expectTensorsClose(G, betas.map(Math.sqrt), { rtol: 1e-6 });
    tf.dispose([x, f, G]);
  });

  it('the product of the discrete (1 − β_i) approaches α(1)² = exp(−∫β) as N grows', () => {
    const a1 = linearSdeCoefficients(spec, 1).alpha ** 2;
    const errors = [100, 1000, 10000].map((N) => {
      const ab = alphaBarsFromBetas(new VPSDE({ N }).discreteBetas);
      return Math.abs(Math.log(ab[N - 1]!) - Math.log(a1));
    });
    expect(errors[1]!).toBeLessThan(errors[0]!);
    expect(errors[2]!).toBeLessThan(errors[1]!);
    expect(errors[2]!).toBeLessThan(0.01);
  });

  it('tFromLogSNR uses a closed form that agrees with the definition to 1e-12', () => {
    for (const l of [12, 5, 0, -3, -9]) expect(sde.logSNR(sde.tFromLogSNR(l))).toBeCloseTo(l, 10);
    expect(sde.logSNR(0)).toBe(Number.POSITIVE_INFINITY);
  });
});
