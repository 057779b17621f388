import { SbmArgumentError, VESDE, VPSDE } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import { timeInputFunction } from './time-input-function.js';

describe('timeInputFunction', () => {
  const vp = new VPSDE({ N: 1000 });
  const ve = new VESDE({ sigmaMin: 0.01, sigmaMax: 50 });

  it('gives t, the DDPM index t·(N − 1)/T, σ(t) or the function itself', () => {
    expect(timeInputFunction(undefined, vp)(0.37)).toBe(0.37);
    expect(timeInputFunction('index', vp)(0.5)).toBeCloseTo(499.5, 12);
    expect(timeInputFunction('index', vp, 100)(1)).toBeCloseTo(99, 12);
    // VE: σ(t) = σmin (σmax/σmin)^t
    expect(timeInputFunction('sigma', ve)(0.3)).toBeCloseTo(0.01 * 5000 ** 0.3, 10);
    expect(timeInputFunction((t) => 2 * t, vp)(0.25)).toBe(0.5);
  });

  it('names the option that is wrong', () => {
    expect(() => timeInputFunction('index', vp, 1)).toThrow(SbmArgumentError);
    expect(() => timeInputFunction('index', vp, 1.5)).toThrow(
      /options.numTrainSteps: expected an integer >= 2/,
    );
    expect(() => timeInputFunction('seconds' as never, vp)).toThrow(
      /options.timeInput: expected 'continuous'/,
    );
  });
});
