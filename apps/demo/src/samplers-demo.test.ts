import { createRng, energyDistance, useCpuBackend } from '@sbm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSamplersDemo } from './samplers-demo.js';
import { demoMixture } from './sde-demo.js';

beforeAll(useCpuBackend);

describe('runSamplersDemo', () => {
  it('every sampler lands within a small energy distance of the mixture; a wrong sample does not', async () => {
    const n = 300;
    const { truth, results } = await runSamplersDemo({ samples: n, seed: 3 });
    expect(results).toHaveLength(13);
    // Two independent samples of the mixture at n = 300 give about 0.01–0.02; a shifted mixture well above 0.1.
    for (const r of results) {
      expect(r.energy, r.sampler).toBeLessThan(0.05);
      expect(r.nfe, r.sampler).toBeGreaterThan(0);
    }
    const shifted = Float32Array.from(demoMixture.sample(n, createRng(9)).x, (v) => v + 0.5);
    expect(energyDistance(shifted, truth, n, n, 2)).toBeGreaterThan(0.1);
  });
});
