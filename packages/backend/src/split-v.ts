import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendAdapter } from './backend-adapter.js';

/**
 * `SplitV` of a float32 `x` along `axis` into pieces of `sizes` (which sum to `x.shape[axis]`), each
 * written in one pass over its rows: with `outer` the product of the axes before `axis` and `inner`
 * that of the axes after it, piece `i` takes elements `[start_i·inner, (start_i + sizes_i)·inner)`
 * of every one of the `outer` rows of `x`. tfjs-backend-wasm's own `SplitV` slices each piece with
 * a general strided loop (5–10 ms for the gradient of a channel concat at 16×32×32×96 here).
 * `x [..., D, ...]` → `[..., sizes_i, ...]` for each `i`.
 */
export function splitV(
  be: BackendAdapter,
  x: TensorInfo,
  sizes: readonly number[],
  axis: number,
): TensorInfo[] {
  const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const rowLength = x.shape[axis]! * inner;
  const pieces: TensorInfo[] = [];
  let start = 0;
  for (const size of sizes) {
    const shape = x.shape.slice();
    shape[axis] = size;
    const piece = be.alloc(shape);
    const src = be.view(x);
    const dst = be.view(piece);
    const run = size * inner;
    if (run >= 64) {
      for (let r = 0; r < outer; r++) {
        const s = r * rowLength + start * inner;
        dst.set(src.subarray(s, s + run), r * run);
      }
    } else {
      for (let r = 0, d = 0; r < outer; r++) {
        for (let s = r * rowLength + start * inner, end = s + run; s < end; s++, d++) dst[d] = src[s]!;
      }
    }
    pieces.push(piece);
    start += size;
  }
  return pieces;
}
