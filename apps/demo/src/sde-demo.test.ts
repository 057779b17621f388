import { createRng, energyDistance, useCpuBackend } from '@sbm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { demoMixture, runSdeDemo } from './sde-demo.js';

beforeAll(useCpuBackend);

describe('runSdeDemo', () => {
  it('every sampler lands within a small energy distance of the mixture; a wrong sample does not', () => {
    const n = 600;
    const { truth, results } = runSdeDemo({ samples: n, steps: 300, odeSteps: 200, seed: 3 });
    expect(results).toHaveLength(6);
    // Two independent samples of the mixture at n = 600 give about 0.01; a sample of a single
    // component, or of the mixture shifted by 0.5, gives well above 0.1.
    for (const r of results) expect(r.energy, `${r.sde} ${r.sampler}`).toBeLessThan(0.05);
    const shifted = Float32Array.from(demoMixture.sample(n, createRng(9)).x, (v) => v + 0.5);
    expect(energyDistance(shifted, truth, n, n, 2)).toBeGreaterThan(0.1);
  });
});
