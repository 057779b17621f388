import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendAdapter } from './backend-adapter.js';

/**
 * `UnsortedSegmentSum` (missing from tfjs-backend-wasm 4.22): `out[s, …] = Σ_{i : ids[i] = s} x[i, …]` for
 * `x [N, ...rest]` float32, `segmentIds [N]` int32 and `numSegments` S → `[S, ...rest]`; ids outside `[0, S)` are
 * dropped, as TensorFlow drops them. It is the gradient of `tf.gather` along axis 0, so without it nothing with an
 * embedding lookup (e.g. @sbm/unet's class embedding) trains on wasm.
 */
export function unsortedSegmentSum(
  be: BackendAdapter,
  x: TensorInfo,
  segmentIds: TensorInfo,
  numSegments: number,
): TensorInfo {
  if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32' || segmentIds.shape.length !== 1) {
    throw new Error(
      `UnsortedSegmentSum (@sbm/backend, wasm): expected float32 x and int32 segmentIds [N], got ${x.dtype} x [${x.shape}] and ${segmentIds.dtype} segmentIds [${segmentIds.shape}]`,
    );
  }
  if (segmentIds.shape[0] !== x.shape[0]) {
    throw new Error(
      `UnsortedSegmentSum (@sbm/backend, wasm): expected one segment id per row of x [${x.shape}], got ${segmentIds.shape[0]}`,
    );
  }
  const [N, ...rest] = x.shape;
  const inner = rest.reduce((a, b) => a * b, 1);
  const out = be.alloc([numSegments, ...rest]);
  const o = be.view(out);
  const v = be.view(x);
  const idsView = be.view(segmentIds);
  const ids = new Int32Array(idsView.buffer, idsView.byteOffset, idsView.length);
  for (let i = 0; i < N!; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const from = i * inner;
    const to = s * inner;
    for (let j = 0; j < inner; j++) o[to + j] = o[to + j]! + v[from + j]!;
  }
  return out;
}
