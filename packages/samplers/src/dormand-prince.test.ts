import { describe, expect, it } from 'vitest';
import { DORMAND_PRINCE } from './dormand-prince.js';

// The Runge–Kutta order conditions (Hairer, Nørsett & Wanner, Solving ODEs I, Sec. II.2): a 5th-order solution
// needs Σ b = 1, Σ b c^k = 1/(k+1) for k ≤ 4 and the tree conditions; the embedded 4th-order weights b4 = b − e
// satisfy them up to order 4; every row of a sums to its node c.
describe('DORMAND_PRINCE', () => {
  const { a, b, c, e } = DORMAND_PRINCE;
  const b7 = [...b, 0];
  const b4 = b7.map((v, i) => v - e[i]!);
  const dot = (u: readonly number[], v: readonly number[]) => u.reduce((s, x, i) => s + x * v[i]!, 0);

  it('has rows summing to their nodes and FSAL (the last row is b, at c = 1)', () => {
    for (let s = 1; s < 7; s++) expect(a[s]!.reduce((x, y) => x + y, 0)).toBeCloseTo(c[s]!, 14);
    expect(a[6]).toEqual(b);
    expect(c[6]).toBe(1);
  });

  it('satisfies the quadrature conditions: order 5 for b, order 4 for b − e', () => {
    for (let k = 0; k <= 4; k++)
      expect(
        dot(
          b7,
          c.map((x) => x ** k),
        ),
      ).toBeCloseTo(1 / (k + 1), 14);
    for (let k = 0; k <= 3; k++)
      expect(
        dot(
          b4,
          c.map((x) => x ** k),
        ),
      ).toBeCloseTo(1 / (k + 1), 14);
    // b4 is not 5th order: the error estimate e is not zero.
    expect(
      Math.abs(
        dot(
          b4,
          c.map((x) => x ** 4),
        ) -
          1 / 5,
      ),
    ).toBeGreaterThan(1e-4);
  });

  it('satisfies the tree condition Σ b_i a_ij c_j = 1/6 (order 3) for both weights', () => {
    const ac = a.map((row) => row.reduce((s, x, j) => s + x * c[j]!, 0));
    expect(dot(b7, ac)).toBeCloseTo(1 / 6, 14);
    expect(dot(b4, ac)).toBeCloseTo(1 / 6, 14);
  });
});
