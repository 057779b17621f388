import { describe, expect, it } from 'vitest';
import {
  addScaledIdentity,
  cholesky,
  choleskySolve,
  identity,
  inverseSpd,
  logDetFromCholesky,
  type Matrix,
  matMul,
  matVec,
  scaleMatrix,
  solveLowerTriangular,
  transpose,
} from './linalg.js';

function expectMatrixClose(A: Matrix, B: Matrix, tol = 1e-12): void {
  expect(A.length).toBe(B.length);
  A.forEach((row, i) => {
    expect(row.length).toBe(B[i]!.length);
    row.forEach((v, j) => {
      expect(Math.abs(v - B[i]![j]!)).toBeLessThanOrEqual(tol);
    });
  });
}

describe('linalg', () => {
  it('identity, transpose, scale, addScaledIdentity', () => {
    expect(identity(2)).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(identity(0)).toEqual([]);
    expect(
      transpose([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    ).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(scaleMatrix([[1, -2]], 3)).toEqual([[3, -6]]);
    expect(
      addScaledIdentity(
        [
          [1, 2],
          [3, 4],
        ],
        0.5,
      ),
    ).toEqual([
      [1.5, 2],
      [3, 4.5],
    ]);
  });

  it('matVec and matMul on hand-computed examples', () => {
    const A = [
      [1, 2],
      [3, 4],
      [5, 6],
    ];
    expect(matVec(A, [1, -1])).toEqual([-1, -1, -1]);
    expect(
      matMul(A, [
        [1, 0, 2],
        [0, 1, -1],
      ]),
    ).toEqual([
      [1, 2, 0],
      [3, 4, 2],
      [5, 6, 4],
    ]);
    expect(() => matVec(A, [1, 2, 3])).toThrow();
    expect(() => matMul(A, A)).toThrow();
  });

  it('cholesky of a 2×2 matrix', () => {
    // [[4, 2], [2, 3]] = L Lᵀ with L = [[2, 0], [1, √2]]
    const L = cholesky([
      [4, 2],
      [2, 3],
    ]);
    expectMatrixClose(L, [
      [2, 0],
      [1, Math.SQRT2],
    ]);
    // det = 12 - 4 = 8
    expect(logDetFromCholesky(L)).toBeCloseTo(Math.log(8), 14);
    // A x = b with b = [2, 1] -> x = A⁻¹ b = (1/8)[[3,-2],[-2,4]]·[2,1] = [0.5, 0]
    const x = choleskySolve(L, [2, 1]);
    expect(x[0]).toBeCloseTo(0.5, 14);
    expect(x[1]).toBeCloseTo(0, 14);
  });

  it('cholesky of a 3×3 matrix', () => {
    // Classic example: [[4,12,-16],[12,37,-43],[-16,-43,98]] = L Lᵀ, L = [[2,0,0],[6,1,0],[-8,5,3]]
    const A = [
      [4, 12, -16],
      [12, 37, -43],
      [-16, -43, 98],
    ];
    const L = cholesky(A);
    expectMatrixClose(L, [
      [2, 0, 0],
      [6, 1, 0],
      [-8, 5, 3],
    ]);
    expectMatrixClose(matMul(L, transpose(L)), A);
    expect(logDetFromCholesky(L)).toBeCloseTo(Math.log(36), 12);
    expect(solveLowerTriangular(L, [2, 7, -3])).toEqual([1, 1, 0]);
  });

  it('A · (A⁻¹ b) = b and inverseSpd', () => {
    const A = [
      [2.5, 0.3, -0.4],
      [0.3, 1.2, 0.1],
      [-0.4, 0.1, 0.9],
    ];
    const b = [1, -2, 0.5];
    const x = choleskySolve(cholesky(A), b);
    matVec(A, x).forEach((v, i) => {
      expect(v).toBeCloseTo(b[i]!, 13);
    });
    expectMatrixClose(matMul(A, inverseSpd(A)), identity(3), 1e-13);
  });

  it('throws on non positive-definite or non-square input', () => {
    expect(() =>
      cholesky([
        [1, 2],
        [2, 1],
      ]),
    ).toThrow(/positive definite/);
    expect(() =>
      cholesky([
        [0, 0],
        [0, 1],
      ]),
    ).toThrow(/positive definite/);
    expect(() => cholesky([[Number.NaN]])).toThrow(/positive definite/);
    expect(() => cholesky([[1, 0]])).toThrow(/square/);
  });
});
