import { describe, expect, it } from 'vitest';
import { geometricSigmas, karrasSigmas } from './sigma-schedules.js';

describe('geometricSigmas', () => {
  it('runs from sigmaMin to sigmaMax with a constant ratio', () => {
    const s = geometricSigmas(10, 0.01, 50);
    expect(s[0]).toBe(0.01);
    expect(s[9]).toBe(50);
    const ratio = (50 / 0.01) ** (1 / 9);
    for (let i = 1; i < 10; i++) expect(s[i]! / s[i - 1]!).toBeCloseTo(ratio, 10);
  });

  it('rejects sigmaMax <= sigmaMin', () => {
    expect(() => geometricSigmas(10, 1, 1)).toThrow(/^sigmaMax: expected sigmaMax > sigmaMin/);
  });
});

describe('karrasSigmas', () => {
  it('has n + 1 values from sigmaMax down to sigmaMin, then 0 (EDM Eq. 5)', () => {
    const s = karrasSigmas(18, 0.002, 80);
    expect(s).toHaveLength(19);
    expect(s[0]).toBe(80);
    expect(s[17]).toBe(0.002);
    expect(s[18]).toBe(0);
    for (let i = 1; i < 19; i++) expect(s[i]!).toBeLessThan(s[i - 1]!);
  });

  it('is uniform in σ^(1/ρ), and ρ = 1 is a uniform grid in σ', () => {
    const rho = 7;
    const s = karrasSigmas(10, 0.002, 80, rho);
    const r = s.slice(0, 10).map((v) => v ** (1 / rho));
    for (let i = 2; i < 10; i++) expect(r[i]! - r[i - 1]!).toBeCloseTo(r[1]! - r[0]!, 12);
    const lin = karrasSigmas(5, 1, 5, 1);
    expect(lin).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it('matches the closed form for σ_1 on the EDM CIFAR-10 grid (n = 18)', () => {
    const s = karrasSigmas(18, 0.002, 80);
    const expected = (80 ** (1 / 7) + (1 / 17) * (0.002 ** (1 / 7) - 80 ** (1 / 7))) ** 7;
    expect(s[1]).toBeCloseTo(expected, 12);
  });

  it('rejects bad arguments by name', () => {
    expect(() => karrasSigmas(0, 0.002, 80)).toThrow(/^n: /);
    expect(() => karrasSigmas(5, 0.002, 80, 0)).toThrow(/^rho: /);
    expect(() => karrasSigmas(5, 80, 0.002)).toThrow(/^sigmaMax: /);
  });
});
