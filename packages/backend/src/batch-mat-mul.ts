import type { TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendAdapter } from './backend-adapter.js';
import { transposeInto } from './im2col.js';

/** Product of the batch axes (all but the last two) of `shape`. */
function batchSize(shape: readonly number[]): number {
  return tf.util.sizeFromShape(shape.slice(0, -2));
}

/**
 * Whether {@link batchMatMul} takes these operands: both float32 and non-empty, and batch axes that
 * are equal or absent/size 1 on one side (tfjs broadcasts further; those calls stay on the original
 * kernel).
 */
export function batchMatMulFits(a: TensorInfo, b: TensorInfo): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  if (tf.util.sizeFromShape(a.shape) === 0 || tf.util.sizeFromShape(b.shape) === 0) return false;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  if (batchSize(a.shape) === 1 || batchSize(b.shape) === 1) return true;
  return batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
}

/** `t [batch, rows, cols]` (float32) as `[batch, cols, rows]`: a new tensor. */
function transposedCopy(
  be: BackendAdapter,
  t: TensorInfo,
  batch: number,
  rows: number,
  cols: number,
): TensorInfo {
  const out = be.alloc([batch, cols, rows]);
  const src = be.view(t);
  const dst = be.view(out);
  const n = rows * cols;
  for (let i = 0; i < batch; i++)
    transposeInto(src.subarray(i * n, (i + 1) * n), rows, cols, dst, rows, i * n);
  return out;
}

/**
 * Batched matrix product `C[i] = op(A[i]) · op(B[i])` with `op` a transpose where asked, on the
 * backend's untransposed single-matrix multiply (wasm: XNNPACK): transposed operands are copied
 * into place first, and a batch runs one multiply per matrix on aliases of its slices.
 * tfjs-backend-wasm 4.22 sends every transposed or batched product to a plain loop (3.5–5 ms for
 * the 64-channel attention products of a 32×32 U-Net at batch 16, against 0.2–0.4 ms here).
 * `a [..., M, K]` (`[..., K, M]` when `transposeA`), `b [..., K, N]` (`[..., N, K]` when
 * `transposeB`) → `[..., M, N]`, the batch axes of the operand that has them.
 */
export function batchMatMul(
  be: BackendAdapter,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo {
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const [M, K] = transposeA ? [ca, ra] : [ra, ca];
  const N = transposeB ? rb : cb;
  const batchA = batchSize(a.shape);
  const batchB = batchSize(b.shape);
  const batch = Math.max(batchA, batchB);
  const outShape = [...(batchA >= batchB ? a.shape : b.shape).slice(0, -2), M, N];
  const aN = transposeA ? transposedCopy(be, a, batchA, ra, ca) : a;
  const bN = transposeB ? transposedCopy(be, b, batchB, rb, cb) : b;
  let out: TensorInfo;
  if (batch === 1) {
    const y = be.matMul({ ...aN, shape: [1, M, K] }, { ...bN, shape: [1, K, N] });
    out = { dataId: y.dataId, shape: outShape, dtype: 'float32' };
  } else {
    out = be.alloc(outShape);
    for (let i = 0; i < batch; i++) {
      const ai = batchA === 1 ? { ...aN, shape: [1, M, K] } : be.alias!(aN, i * M * K, [1, M, K]);
      const bi = batchB === 1 ? { ...bN, shape: [1, K, N] } : be.alias!(bN, i * K * N, [1, K, N]);
      const y = be.matMul(ai, bi);
      be.view(out).set(be.view(y), i * M * N);
      be.dispose(y);
      if (batchA !== 1) be.releaseAlias!(ai);
      if (batchB !== 1) be.releaseAlias!(bi);
    }
  }
  if (transposeA) be.dispose(aN);
  if (transposeB) be.dispose(bN);
  return out;
}
