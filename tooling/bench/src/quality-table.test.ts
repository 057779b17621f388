import { describe, expect, it } from 'vitest';
import { bestAtBudget, nfeCell, stepsForBudget } from './quality-table.js';

describe('stepsForBudget', () => {
  it('takes the most steps whose cost perStep·steps + extra fits the budget', () => {
    expect(stepsForBudget(10, 1, 0)).toBe(10);
    expect(stepsForBudget(10, 3, 0)).toBe(3); // DPM-Solver-3: 9 NFE
    expect(stepsForBudget(10, 2, -1)).toBe(5); // EDM Heun: 2n − 1 = 9
    expect(stepsForBudget(5, 2, -1)).toBe(3); // 2·3 − 1 = 5
    expect(stepsForBudget(5, 1, 1)).toBe(4); // a final denoising evaluation
    expect(stepsForBudget(2, 3, 0)).toBeNull();
    for (const [budget, perStep, extra] of [
      [7, 2, -1],
      [50, 3, 0],
      [15, 2, 0],
    ] as const) {
      const s = stepsForBudget(budget, perStep, extra)!;
      expect(perStep * s + extra).toBeLessThanOrEqual(budget);
      expect(perStep * (s + 1) + extra).toBeGreaterThan(budget);
    }
    expect(() => stepsForBudget(0, 1, 0)).toThrow(/^budget/);
    expect(() => stepsForBudget(5, 0, 0)).toThrow(/^perStep/);
  });
});

describe('nfeCell / bestAtBudget', () => {
  it('shows the NFE only when below the budget and refuses one above it', () => {
    expect(nfeCell(4.126, 10, 10)).toBe('4.13');
    expect(nfeCell(4.126, 9, 10)).toBe('4.13 (9)');
    expect(() => nfeCell(1, 11, 10)).toThrow(/^nfe/);
  });

  it('picks the lowest finite energy within the budget', () => {
    const cells = [
      { label: 'a', nfe: 10, energy: 4 },
      { label: 'b', nfe: 9, energy: 3 },
      { label: 'c', nfe: 15, energy: 1 },
      { label: 'd', nfe: 5, energy: Number.NaN },
    ];
    expect(bestAtBudget(cells, 10)?.label).toBe('b');
    expect(bestAtBudget(cells, 20)?.label).toBe('c');
    expect(bestAtBudget(cells, 4)).toBeUndefined();
  });
});
