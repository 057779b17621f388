import { createRng } from '@sbm/test-utils';
import { describe, expect, it } from 'vitest';
import { matMulInto } from './matmul.js';

describe('matMulInto', () => {
  it('equals a float64 triple loop for shapes around the four-row unrolling', () => {
    const rng = createRng(2);
    for (const [M, K, N] of [
      [1, 1, 1],
      [3, 5, 2],
      [4, 7, 3],
      [9, 4, 6],
      [13, 17, 1],
    ] as const) {
      const a = Float32Array.from(rng.normals(M * K));
      const b = Float32Array.from(rng.normals(K * N));
      const c = new Float32Array(M * N).fill(Number.NaN); // overwritten, not accumulated into
      matMulInto(a, b, M, K, N, c);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let sum = 0;
          for (let k = 0; k < K; k++) sum += a[i * K + k]! * b[k * N + j]!;
          expect(Math.abs(c[i * N + j]! - sum)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(sum)));
        }
      }
    }
  });
});
