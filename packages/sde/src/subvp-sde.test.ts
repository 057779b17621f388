import { expectTensorsClose, linearSdeCoefficients, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { SubVPSDE } from './subvp-sde.js';
import { VPSDE } from './vp-sde.js';

beforeAll(useCpuBackend);

describe('SubVPSDE', () => {
  const sde = new SubVPSDE();
  const spec = { kind: 'subvp', betaMin: 0.1, betaMax: 20 } as const;

  it('shares the VP mean and has a smaller standard deviation (Song et al. 2021, Sec. 3.4)', () => {
    const vp = new VPSDE();
    for (const t of [0.01, 0.2, 0.6, 1]) {
      expect(sde.alpha(t)).toBe(vp.alpha(t));
      expect(sde.sigma(t)).toBeLessThan(vp.sigma(t));
    }
  });

  it('discretize is Euler–Maruyama with Δt = 1/N', () => {
    const x = tf.tensor2d([
      [1, -2],
      [0.5, 3],
    ]);
    const ts = [0.3, 0.9];
    const { f, G } = sde.discretize(x, ts);
    const xv = x.dataSync();
    expectTensorsClose(
      f,
      Array.from(xv, (v, k) => (linearSdeCoefficients(spec, ts[Math.floor(k / 2)]!).f * v) / 1000),
      { rtol: 1e-5, atol: 1e-8 },
    );
    expectTensorsClose(
      G,
      ts.map((t) => linearSdeCoefficients(spec, t).g / Math.sqrt(1000)),
      { rtol: 1e-6 },
    );
    tf.dispose([x, f, G]);
  });
});
