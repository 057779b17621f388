import { describe, expect, it } from 'vitest';
import { deriveSeed, randomPermutation, SplitMix64, Xoshiro128StarStar } from './rng.js';

describe('SplitMix64', () => {
  it('reproduces the published reference outputs for seed 1234567', () => {
    // Widely published test vector of Vigna's splitmix64.c (seed 1234567, first five outputs).
    const sm = new SplitMix64(1234567);
    expect([sm.next(), sm.next(), sm.next(), sm.next(), sm.next()]).toEqual([
      6457827717110365317n,
      3203168211198807973n,
      9817491932198370423n,
      4593380528125082431n,
      16408922859458223821n,
    ]);
  });
});

describe('Xoshiro128StarStar', () => {
  it('reproduces the published reference outputs for state [1, 2, 3, 4]', () => {
    const g = new Xoshiro128StarStar([1, 2, 3, 4]);
    const out = Array.from({ length: 10 }, () => g.nextUint32());
    expect(out).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('rejects an all-zero or malformed state', () => {
    expect(() => new Xoshiro128StarStar([0, 0, 0, 0])).toThrow(/all zero/);
    expect(() => new Xoshiro128StarStar([1, 2, 3, 2 ** 32])).toThrow(/four uint32 words/);
  });

  it('is deterministic from a seed and differs between seeds', () => {
    const a = Xoshiro128StarStar.fromSeed(42);
    const b = Xoshiro128StarStar.fromSeed(42);
    const c = Xoshiro128StarStar.fromSeed(43);
    const xa = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xa);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xa);
  });

  it('nextFloat is in [0, 1) with mean ≈ 1/2 and variance ≈ 1/12', () => {
    const g = Xoshiro128StarStar.fromSeed(1);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = g.nextFloat();
      if (!(u >= 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    const mean = s / n;
    // Standard error of the mean of U(0,1) is √(1/12/n) ≈ 0.0009.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.004);
    expect(Math.abs(s2 / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it('nextInt(n) is uniform over [0, n) (chi-square, 7 bins)', () => {
    const g = Xoshiro128StarStar.fromSeed(2);
    const counts = new Array<number>(7).fill(0);
    const n = 70_000;
    for (let i = 0; i < n; i++) counts[g.nextInt(7)]!++;
    const e = n / 7;
    const chi2 = counts.reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(22.46); // 99.9th percentile of χ²(6)
    expect(() => g.nextInt(0)).toThrow(/n must be an integer/);
  });

  it('nextNormal has mean 0 and variance 1', () => {
    const g = Xoshiro128StarStar.fromSeed(3);
    const n = 100_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = g.nextNormal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.015); // 4.7 standard errors
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.02); // SE of the second moment is √(2/n) ≈ 0.0045
  });
});

describe('deriveSeed', () => {
  it('is a pure function of the whole list', () => {
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
    const seeds = new Set([
      deriveSeed(1, 2),
      deriveSeed(2, 1),
      deriveSeed(1, 2, 0),
      deriveSeed(1),
      deriveSeed(),
    ]);
    expect(seeds.size).toBe(5);
    expect(() => deriveSeed(0.5)).toThrow(/deriveSeed part 0: expected a safe integer/);
  });
});

describe('randomPermutation', () => {
  it('returns a permutation of 0…n−1, deterministic for a given generator seed', () => {
    const p = randomPermutation(1000, Xoshiro128StarStar.fromSeed(9));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(randomPermutation(1000, Xoshiro128StarStar.fromSeed(9))).toEqual(p);
    expect(randomPermutation(0, Xoshiro128StarStar.fromSeed(9)).length).toBe(0);
  });

  it('puts each element at each position equally often (n = 4, all 24 orders about equally likely)', () => {
    const g = Xoshiro128StarStar.fromSeed(11);
    const counts = new Map<string, number>();
    const trials = 24_000;
    for (let i = 0; i < trials; i++) {
      const key = Array.from(randomPermutation(4, g)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    const e = trials / 24;
    const chi2 = [...counts.values()].reduce((acc, c) => acc + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(49.7); // 99.9th percentile of χ²(23)
  });
});
