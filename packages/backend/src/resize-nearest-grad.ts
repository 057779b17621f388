import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendAdapter } from './backend-adapter.js';

/**
 * Source index along one axis of every output position of a nearest-neighbour resize from `inSize`
 * to `outSize`, with TensorFlow's `alignCorners` / `halfPixelCenters` conventions (those of the
 * forward `ResizeNearestNeighbor` kernel).
 */
export function nearestSourceIndices(
  inSize: number,
  outSize: number,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Int32Array {
  const corners = alignCorners && outSize > 1;
  const ratio = corners ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const idx = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
    idx[i] = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  }
  return idx;
}

/**
 * Gradient of a nearest-neighbour resize with respect to its input: every output gradient is added
 * to the input pixel it was copied from (the adjoint of the forward kernel). `images [B,H,W,C]`
 * (for its shape), `dy [B,OH,OW,C]` → `[B,H,W,C]`. Replaces the kernels of tfjs-backend-cpu and
 * -wasm 4.22, which are wrong for batches larger than one.
 */
export function resizeNearestNeighborGrad(
  be: BackendAdapter,
  images: TensorInfo,
  dy: TensorInfo,
  alignCorners: boolean,
  halfPixelCenters: boolean,
): TensorInfo {
  const [B, H, W, C] = images.shape as [number, number, number, number];
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const rows = nearestSourceIndices(H, OH, alignCorners, halfPixelCenters);
  const cols = nearestSourceIndices(W, OW, alignCorners, halfPixelCenters);
  const dx = be.alloc([B, H, W, C]);
  const out = be.view(dx);
  const g = be.view(dy);
  let src = 0;
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < OH; r++) {
      const rowBase = (b * H + rows[r]!) * W;
      for (let c = 0; c < OW; c++, src += C) {
        const dst = (rowBase + cols[c]!) * C;
        for (let ch = 0; ch < C; ch++) out[dst + ch] = out[dst + ch]! + g[src + ch]!;
      }
    }
  }
  return dx;
}
