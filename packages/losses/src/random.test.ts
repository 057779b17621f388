import { describe, expect, it } from 'vitest';
import { randomStream } from './random.js';

describe('randomStream', () => {
  const n = 20000;

  it('draws uniforms with mean 1/2 and variance 1/12, normals with mean 0 and variance 1 (4 SE)', () => {
    const rng = randomStream(42);
    const u = Array.from({ length: n }, () => rng.uniform());
    const z = Array.from({ length: n }, () => rng.normal());
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(Math.abs(mean(u) - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(mean(u.map((v) => (v - 0.5) ** 2)) - 1 / 12)).toBeLessThan(4 * Math.sqrt(1 / 180 / n));
    expect(Math.abs(mean(z))).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(mean(z.map((v) => v * v)) - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(mean(z.map((v) => v ** 4)) - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
  });

  it('draws integers uniformly in {0..n−1}; a seed reproduces its stream and different seeds differ', () => {
    const rng = randomStream(1);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < n; i++) counts[rng.int(5)]++;
    for (const c of counts) expect(Math.abs(c - n / 5)).toBeLessThan(4 * Math.sqrt(n * 0.2 * 0.8));
    const a = randomStream(7);
    const b = randomStream(7);
    const c = randomStream(8);
    const d = randomStream(7.5);
    const first = [a.uniform(), a.tfSeed()];
    expect([b.uniform(), b.tfSeed()]).toEqual(first);
    expect(c.uniform()).not.toBe(first[0]);
    expect(d.uniform()).not.toBe(first[0]);
  });

  it('rejects a non-finite seed', () => {
    expect(() => randomStream(Number.POSITIVE_INFINITY)).toThrow(/^seed: expected a finite number/);
  });
});
