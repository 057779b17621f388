import { describe, expect, it } from 'vitest';
import {
  alphaBarsFromBetas,
  cosineBetas,
  discreteSchedule,
  linearBetas,
  scaledLinearBetas,
} from './beta-schedules.js';

function expectIncreasing(values: readonly number[], strict = true): void {
  for (let i = 1; i < values.length; i++) {
    if (strict) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
    else expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
  }
}

describe('linearBetas', () => {
  it('has the DDPM endpoints 1e-4 and 0.02 and constant increments', () => {
    const b = linearBetas(1000);
    expect(b).toHaveLength(1000);
    expect(b[0]).toBe(1e-4);
    expect(b[999]).toBe(0.02);
    const step = (0.02 - 1e-4) / 999;
    for (let i = 1; i < 1000; i++) expect(b[i]! - b[i - 1]!).toBeCloseTo(step, 15);
  });

  it('gives ᾱ_T ≈ 4.0358e-5 for the DDPM schedule (published value of the CIFAR-10 schedule)', () => {
    // Π (1 − β_i) for linspace(1e-4, 0.02, 1000), a figure reported for DDPM (√ᾱ_T ≈ 0.00635).
    const ab = alphaBarsFromBetas(linearBetas(1000));
    expect(ab[999]!).toBeGreaterThan(4.03e-5);
    expect(ab[999]!).toBeLessThan(4.04e-5);
  });

  it('rejects bad arguments by name', () => {
    expect(() => linearBetas(0)).toThrow(/^N: expected an integer >= 1/);
    expect(() => linearBetas(10, 0.02, 1e-4)).toThrow(/^betaEnd: expected betaEnd >= betaStart/);
    expect(() => linearBetas(10, -1)).toThrow(/^betaStart: expected a number > 0/);
    expect(() => linearBetas(10, 0.5, 1.5)).toThrow(/^betaEnd: expected every beta in \(0, 1\)/);
  });
});

describe('scaledLinearBetas', () => {
  it('is linear in √β with the given endpoints', () => {
    const b = scaledLinearBetas(1000);
    expect(b[0]).toBeCloseTo(0.00085, 15);
    expect(b[999]).toBeCloseTo(0.012, 15);
    const r = b.map(Math.sqrt);
    const step = (Math.sqrt(0.012) - Math.sqrt(0.00085)) / 999;
    for (let i = 1; i < 1000; i++) expect(r[i]! - r[i - 1]!).toBeCloseTo(step, 12);
  });
});

describe('cosineBetas', () => {
  it('reproduces ᾱ(t) = cos²(((t/N)+s)/(1+s)·π/2)/cos²(s/(1+s)·π/2) where β is not clipped', () => {
    const N = 1000;
    const s = 0.008;
    const betas = cosineBetas(N);
    const ab = alphaBarsFromBetas(betas);
    const f = (t: number) => Math.cos(((t / N + s) / (1 + s)) * (Math.PI / 2)) ** 2;
    for (const i of [0, 1, 10, 100, 500, 900, 990]) {
      expect(ab[i]!).toBeCloseTo(f(i + 1) / f(0), 12);
    }
  });

  it('is non-decreasing, clipped at maxBeta = 0.999, and ends near pure noise', () => {
    const betas = cosineBetas(1000);
    expectIncreasing(betas, false);
    expect(Math.max(...betas)).toBeLessThanOrEqual(0.999);
    expect(betas[999]).toBe(0.999);
    const ab = alphaBarsFromBetas(betas);
    expect(ab[999]!).toBeLessThan(1e-6);
    expect(ab[0]!).toBeGreaterThan(0.9999);
  });

  it('rejects s <= 0 and maxBeta >= 1', () => {
    expect(() => cosineBetas(10, 0)).toThrow(/^s: /);
    expect(() => cosineBetas(10, 0.008, 1)).toThrow(/^maxBeta: expected maxBeta < 1/);
  });
});

describe('alphaBarsFromBetas / discreteSchedule', () => {
  it('ᾱ is the running product of 1 − β, strictly decreasing in (0, 1)', () => {
    const betas = [0.1, 0.2, 0.3, 0.4];
    const ab = alphaBarsFromBetas(betas);
    const direct = [0.9, 0.9 * 0.8, 0.9 * 0.8 * 0.7, 0.9 * 0.8 * 0.7 * 0.6];
    for (let i = 0; i < 4; i++) expect(ab[i]).toBeCloseTo(direct[i]!, 14);
    const s = discreteSchedule(betas);
    expect(s.N).toBe(4);
    expect(s.alphas).toEqual(betas.map((b) => 1 - b));
    expect(s.alphaBars).toEqual(ab);
    expect(Object.isFrozen(s.betas)).toBe(true);
  });

  it('rejects betas outside (0, 1) and empty schedules', () => {
    expect(() => alphaBarsFromBetas([0.1, 1])).toThrow(
      /^betas: expected every beta in \(0, 1\), got 1 at index 1/,
    );
    expect(() => discreteSchedule([])).toThrow(/^betas: expected a non-empty array/);
    expect(() => discreteSchedule([Number.NaN])).toThrow(/^betas: .*NaN at index 0/);
  });
});
