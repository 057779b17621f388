import { describe, expect, it } from 'vitest';
import * as api from './index.js';

describe('@sbm/test-utils index', () => {
  it('re-exports the public API', () => {
    for (const name of [
      'useCpuBackend',
      'expectTensorsClose',
      'expectNoLeaks',
      'disposeDeep',
      'createRng',
      'cholesky',
      'choleskySolve',
      'logDetFromCholesky',
      'matVec',
      'matMul',
      'transpose',
      'identity',
      'addScaledIdentity',
      'scaleMatrix',
      'linearSdeCoefficients',
      'GaussianMixture',
      'sampleMean',
      'sampleCovariance',
      'energyDistance',
    ]) {
      expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
    }
  });
});
