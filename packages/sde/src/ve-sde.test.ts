import { expectTensorsClose, linearSdeCoefficients, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { VESDE } from './ve-sde.js';

beforeAll(useCpuBackend);

describe('VESDE', () => {
  const sde = new VESDE();
  const spec = { kind: 've', sigmaMin: 0.01, sigmaMax: 50 } as const;

  it('has the reference defaults and prior N(0, σ_max² I)', () => {
    expect([sde.sigmaMin, sde.sigmaMax, sde.N, sde.priorStd]).toEqual([0.01, 50, 1000, 50]);
  });

  it('discrete sigmas are σ(t_i) on the grid t_i = i/(N−1)', () => {
    for (const i of [0, 1, 500, 999]) {
      expect(sde.discreteSigmas[i]! / linearSdeCoefficients(spec, i / 999).sigma).toBeCloseTo(1, 12);
    }
  });

  it('discretize: f = 0 and the step variances G_j² add up to σ_i² (SMLD, telescoping)', () => {
    const N = 30;
    const small = new VESDE({ sigmaMin: 0.1, sigmaMax: 8, N });
    const ts = Array.from({ length: N }, (_, i) => i / (N - 1));
    const x = tf.ones([N, 3]);
    const { f, G } = small.discretize(x, ts);
    expectTensorsClose(f, 0, { atol: 0 });
    const g = G.dataSync();
    let acc = 0;
    for (let i = 0; i < N; i++) {
      acc += g[i]! ** 2;
      const sigma = linearSdeCoefficients({ kind: 've', sigmaMin: 0.1, sigmaMax: 8 }, ts[i]!).sigma;
      expect(Math.sqrt(acc) / sigma).toBeCloseTo(1, 5);
    }
    tf.dispose([x, f, G]);
  });

  it('tFromLogSNR is the closed form t = log(σ/σ_min)/log(σ_max/σ_min) with σ = e^{−λ/2}', () => {
    for (const t of [0, 0.1, 0.5, 1]) expect(sde.tFromLogSNR(-2 * Math.log(sde.sigma(t)))).toBeCloseTo(t, 12);
  });
});
