import { describe, expect, it } from 'vitest';
import { createRng } from './rng.js';

describe('createRng', () => {
  it('is reproducible for the same seed', () => {
    const a = createRng(42);
    const b = createRng(42);
    for (let i = 0; i < 100; i++) expect(a.uniform()).toBe(b.uniform());
    expect(Array.from(a.normals(50))).toEqual(Array.from(b.normals(50)));
    expect(a.int(1000)).toBe(b.int(1000));
    expect(a.choice([1, 2, 3])).toBe(b.choice([1, 2, 3]));
  });

  it('gives different streams for different seeds', () => {
    const seeds = [0, 1, 2, -1, 2 ** 32, 2 ** 40 + 7];
    const firsts = seeds.map((s) => Array.from(createRng(s).uniforms(4)).join(','));
    expect(new Set(firsts).size).toBe(seeds.length);
  });

  it('produces uniforms in [0, 1) with mean 1/2 and variance 1/12', () => {
    const n = 100_000;
    const u = createRng(7).uniforms(n);
    let s = 0;
    let s2 = 0;
    let outOfRange = 0;
    for (const v of u) {
      if (!(v >= 0 && v < 1)) outOfRange++;
      s += v;
      s2 += v * v;
    }
    expect(outOfRange).toBe(0);
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    // Var of (U - 1/2)^2 is 1/80 - 1/144 = 1/180.
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt(1 / 180 / n));
  });

  it('produces standard normals (mean, variance, fourth moment within 5 SE)', () => {
    const n = 100_000;
    const z = createRng(123).normals(n);
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (const v of z) {
      s += v;
      s2 += v * v;
      s4 += v ** 4;
    }
    const mean = s / n;
    const m2 = s2 / n;
    const m4 = s4 / n;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    // Var(Z^2) = 2
    expect(Math.abs(m2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    // Var(Z^4) = 105 - 9 = 96
    expect(Math.abs(m4 - 3)).toBeLessThan(5 * Math.sqrt(96 / n));
  });

  it('normal() and normals() share the same stream', () => {
    const a = createRng(9);
    const b = createRng(9);
    const one = [a.normal(), a.normal(), a.normal()];
    expect(Array.from(b.normals(3))).toEqual(one);
  });

  it('choice matches the categorical frequencies within 5 SE', () => {
    const rng = createRng(2024);
    const weights = [0.5, 0, 2, 1.5]; // unnormalised
    const total = 4;
    const n = 100_000;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[rng.choice(weights)]!++;
    expect(counts[1]).toBe(0);
    weights.forEach((w, i) => {
      const p = w / total;
      const se = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(counts[i]! / n - p)).toBeLessThanOrEqual(5 * se);
    });
  });

  it('int(n) is uniform over {0..n-1}', () => {
    const rng = createRng(5);
    const n = 60_000;
    const k = 6;
    const counts = new Array<number>(k).fill(0);
    let invalid = 0;
    for (let i = 0; i < n; i++) {
      const v = rng.int(k);
      if (!(Number.isInteger(v) && v >= 0 && v < k)) invalid++;
      else counts[v]!++;
    }
    expect(invalid).toBe(0);
    const p = 1 / k;
    for (const c of counts) expect(Math.abs(c / n - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / n));
  });

  it('validates its arguments', () => {
    expect(() => createRng(1.5)).toThrow();
    expect(() => createRng(Number.NaN)).toThrow();
    const rng = createRng(1);
    expect(() => rng.choice([])).toThrow();
    expect(() => rng.choice([0, 0])).toThrow();
    expect(() => rng.choice([1, -1])).toThrow();
    expect(() => rng.int(0)).toThrow();
    expect(() => rng.normals(-1)).toThrow();
  });
});
