import { SbmArgumentError, VESDE, VPSDE } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import { resolveTimeFormat, timeInputFunction, timeInputShape } from './time-input-function.js';

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

describe('resolveTimeFormat and timeInputShape', () => {
  it('defaults the shape to the declared rank and the dtype to the declared dtype, else vector float32', () => {
    expect(resolveTimeFormat({}, undefined, 't')).toEqual({ shape: 'vector', dtype: 'float32' });
    expect(resolveTimeFormat({}, { rank: 0, dtype: 'int32' }, 't')).toEqual({
      shape: 'scalar',
      dtype: 'int32',
    });
    expect(resolveTimeFormat({}, { rank: 2 }, 't')).toEqual({ shape: 'column', dtype: 'float32' });
    expect(resolveTimeFormat({}, { rank: 1 }, 't')).toEqual({ shape: 'vector', dtype: 'float32' });
    // Requested values win over an undeclared time input.
    expect(resolveTimeFormat({ timeShape: 'scalar', timeDtype: 'int32' }, { rank: 1 }, 't')).toEqual({
      shape: 'scalar',
      dtype: 'int32',
    });
    expect(timeInputShape('vector', 5)).toEqual([5]);
    expect(timeInputShape('column', 5)).toEqual([5, 1]);
    expect(timeInputShape('scalar', 5)).toEqual([]);
  });

  it('names the option that is wrong, and the input whose declared dtype differs', () => {
    const bad = (o: object) => () => resolveTimeFormat(o as never, undefined, 't');
    expect(bad({ timeShape: 'row' })).toThrow(/^options\.timeShape: expected 'vector', 'column' or 'scalar'/);
    expect(bad({ timeDtype: 'float64' })).toThrow(/^options\.timeDtype: expected 'float32' or 'int32'/);
    expect(() =>
      resolveTimeFormat({ timeDtype: 'float32' }, { dtype: 'int32' }, "the time input 't' of m"),
    ).toThrow("options.timeDtype: the time input 't' of m is declared int32, got 'float32'");
  });
});
