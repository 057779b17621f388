import { describe, expect, it } from 'vitest';
import { bisect, linspace, softplus } from './numeric.js';

describe('numeric helpers', () => {
  it('linspace has exact endpoints and n points', () => {
    expect(linspace(0, 1, 5)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(3, 3, 1)).toEqual([3]);
  });

  it('softplus = log(1 + e^x) without overflow', () => {
    for (const x of [-30, -1, 0, 1, 30]) expect(softplus(x)).toBeCloseTo(Math.log(1 + Math.exp(x)), 12);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
  });

  it('bisect finds the root of a monotone function to float64 resolution', () => {
    expect(bisect((x) => x * x - 2, 0, 2)).toBeCloseTo(Math.SQRT2, 14);
    expect(bisect((x) => 1 - x, 0, 5)).toBeCloseTo(1, 14);
  });
});
