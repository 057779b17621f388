import * as tf from '@tensorflow/tfjs-core';

/** A value accepted by {@link expectTensorsClose}: a tensor, a flat array of numbers, or a scalar. */
export type TensorLike = tf.Tensor | ArrayLike<number> | number;

/** Options of {@link expectTensorsClose}. */
export interface TensorsCloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-6). */
  atol?: number;
  /** Prefix for the failure message. */
  message?: string;
}

interface Flat {
  values: ArrayLike<number>;
  shape: number[] | undefined;
}

function flatten(v: TensorLike, which: string): Flat {
  if (v instanceof tf.Tensor) {
    if (v.dtype === 'string' || v.dtype === 'complex64') {
      throw new Error(`expectTensorsClose: unsupported dtype ${v.dtype} for ${which}`);
    }
    return { values: v.dataSync() as ArrayLike<number>, shape: v.shape.slice() };
  }
  if (typeof v === 'number') return { values: [v], shape: undefined };
  return { values: v, shape: undefined };
}

function unravel(flat: number, shape: number[] | undefined): string {
  if (shape === undefined || shape.length <= 1) return `[${flat}]`;
  const idx = new Array<number>(shape.length);
  let r = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    const s = shape[i]!;
    idx[i] = r % s;
    r = Math.floor(r / s);
  }
  return `[${idx.join(', ')}] (flat ${flat})`;
}

/**
 * Asserts elementwise closeness `|a − e| ≤ atol + rtol·|e|` (numpy `allclose` convention, float64).
 *
 * - If both are tensors their shapes must be equal; otherwise only the element counts must match,
 *   except that a plain-number `expected` is broadcast to every element of `actual`.
 * - NaN in `actual` fails unless `expected` is NaN at the same place (and vice versa);
 *   equal infinities compare equal.
 *
 * @throws Error describing the number of failing elements, the worst index, both values and the tolerance.
 */
export function expectTensorsClose(
  actual: TensorLike,
  expected: TensorLike,
  opts: TensorsCloseOptions = {},
): void {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  const prefix = opts.message !== undefined ? `${opts.message}: ` : '';
  if (!(rtol >= 0 && atol >= 0)) throw new Error(`${prefix}expectTensorsClose: tolerances must be >= 0`);

  const a = flatten(actual, 'actual');
  const e = flatten(expected, 'expected');
  if (a.shape !== undefined && e.shape !== undefined) {
    const same = a.shape.length === e.shape.length && a.shape.every((s, i) => s === e.shape![i]);
    if (!same) {
      throw new Error(
        `${prefix}shape mismatch: actual [${a.shape.join(', ')}] vs expected [${e.shape.join(', ')}]`,
      );
    }
  }
  const n = a.values.length;
  const broadcast = typeof expected === 'number';
  if (!broadcast && e.values.length !== n) {
    throw new Error(`${prefix}size mismatch: actual has ${n} elements, expected has ${e.values.length}`);
  }

  let failures = 0;
  let worst = -1;
  let worstScore = -1;
  for (let i = 0; i < n; i++) {
    const av = a.values[i]!;
    const ev = broadcast ? (expected as number) : e.values[i]!;
    let score: number;
    if (Number.isNaN(ev) || Number.isNaN(av)) {
      score = Number.isNaN(ev) && Number.isNaN(av) ? 0 : Number.POSITIVE_INFINITY;
    } else if (av === ev) {
      score = 0; // covers equal infinities
    } else {
      const diff = Math.abs(av - ev);
      const tol = atol + rtol * Math.abs(ev);
      score = diff <= tol ? 0 : tol > 0 ? diff / tol : Number.POSITIVE_INFINITY;
      if (!Number.isFinite(diff)) score = Number.POSITIVE_INFINITY;
    }
    if (score > 0) {
      failures++;
      if (score > worstScore) {
        worstScore = score;
        worst = i;
      }
    }
  }
  if (failures === 0) return;

  const av = a.values[worst]!;
  const ev = broadcast ? (expected as number) : e.values[worst]!;
  const tol = atol + rtol * Math.abs(ev);
  throw new Error(
    `${prefix}tensors not close: ${failures} of ${n} elements out of tolerance; worst at index ` +
      `${unravel(worst, a.shape ?? e.shape)}: actual=${av}, expected=${ev}, |diff|=${Math.abs(av - ev)}, ` +
      `tolerance=${tol} (atol=${atol} + rtol=${rtol}·|expected|)`,
  );
}
