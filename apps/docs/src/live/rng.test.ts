import { describe, expect, it } from 'vitest';
import { createLiveRng } from './rng.js';

describe('createLiveRng', () => {
  it('draws uniforms and normals with the right first two moments (4 standard errors)', () => {
    const rng = createLiveRng(123);
    const n = 40000;
    let su = 0;
    let suu = 0;
    let sz = 0;
    let szz = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      su += u;
      suu += u * u;
      const z = rng.normal();
      sz += z;
      szz += z * z;
    }
    expect(outside).toBe(0);
    // U(0,1): mean 1/2 (sd 1/√12), E u² = 1/3 (sd √(1/5 − 1/9)); N(0,1): mean 0 (sd 1), E z² = 1 (sd √2).
    expect(Math.abs(su / n - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(suu / n - 1 / 3)).toBeLessThan(4 * Math.sqrt((1 / 5 - 1 / 9) / n));
    expect(Math.abs(sz / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(szz / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });

  it('repeats with the seed', () => {
    const a = createLiveRng(7);
    const b = createLiveRng(7);
    const c = createLiveRng(8);
    const xs = Array.from({ length: 5 }, () => a.normal());
    expect(Array.from({ length: 5 }, () => b.normal())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.normal())).not.toEqual(xs);
  });
});
