import type { backend_util } from '@tensorflow/tfjs-core';

/** Geometry of a 2-D NHWC convolution, as computed by `backend_util.computeConv2DInfo`. */
export type ConvGeometry = backend_util.Conv2DInfo;

/** Elements of one patch row: `filterHeight · filterWidth · inChannels`, ordered (kh, kw, ci). */
export function patchSize(g: ConvGeometry): number {
  return g.filterHeight * g.filterWidth * g.inChannels;
}

/** Whether the patch matrix of a convolution is its input itself (1×1 filter, stride 1, no padding). */
export function isPointwise(g: ConvGeometry): boolean {
  return (
    g.filterHeight === 1 &&
    g.filterWidth === 1 &&
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.padInfo.top === 0 &&
    g.padInfo.left === 0 &&
    g.outHeight === g.inHeight &&
    g.outWidth === g.inWidth
  );
}

/**
 * Visits every (output pixel, filter tap) pair of examples `[b0, b1)`, calling
 * `run(colOffset, xOffset, length)` for each run of patch-matrix entries that maps onto a
 * contiguous run of the input (`xOffset = -1`: the run lies in the zero padding). The patch matrix
 * has one row per output pixel (example-major, then oh, ow) and {@link patchSize} columns.
 * When the dilation is 1 and a row of taps lies inside the image, the whole row (kw, ci) is one run.
 */
function forEachPatchRun(
  g: ConvGeometry,
  b0: number,
  b1: number,
  run: (colOffset: number, xOffset: number, length: number) => void,
): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = g;
  const { filterHeight: KH, filterWidth: KW } = g;
  const top = g.padInfo.top;
  const left = g.padInfo.left;
  const K = KH * KW * C;
  const rowRun = KW * C;
  let col = 0;
  for (let b = b0; b < b1; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * sw - left;
        const wholeRow = dw === 1 && iw0 >= 0 && iw0 + KW <= W;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - top + kh * dh;
          const dst = col + kh * rowRun;
          if (ih < 0 || ih >= H) {
            run(dst, -1, rowRun);
            continue;
          }
          const rowBase = (b * H + ih) * W;
          if (wholeRow) {
            run(dst, (rowBase + iw0) * C, rowRun);
            continue;
          }
          for (let kw = 0; kw < KW; kw++) {
            const iw = iw0 + kw * dw;
            run(dst + kw * C, iw < 0 || iw >= W ? -1 : (rowBase + iw) * C, C);
          }
        }
        col += K;
      }
    }
  }
}

/** Writes the patch matrix of examples `[b0, b1)` of `x [B,H,W,C]` into `cols` (rows × patchSize). */
export function im2col(g: ConvGeometry, x: Float32Array, b0: number, b1: number, cols: Float32Array): void {
  forEachPatchRun(g, b0, b1, (dst, src, n) => {
    if (src < 0) {
      cols.fill(0, dst, dst + n);
    } else if (n >= 16) {
      cols.set(x.subarray(src, src + n), dst);
    } else {
      for (let i = 0; i < n; i++) cols[dst + i] = x[src + i]!;
    }
  });
}

/**
 * Adjoint of {@link im2col}: adds every patch-matrix entry of examples `[b0, b1)` into the input
 * position it was read from, `dx [B,H,W,C] += col2im(cols)`.
 */
export function col2imAdd(
  g: ConvGeometry,
  cols: Float32Array,
  b0: number,
  b1: number,
  dx: Float32Array,
): void {
  forEachPatchRun(g, b0, b1, (src, dst, n) => {
    if (dst < 0) return;
    for (let i = 0; i < n; i++) dx[dst + i]! += cols[src + i]!;
  });
}

/** Examples per chunk so that one chunk's patch matrix stays under `maxElements` (at least one example). */
export function examplesPerChunk(g: ConvGeometry, maxElements: number): number {
  return Math.max(1, Math.floor(maxElements / (g.outHeight * g.outWidth * patchSize(g))));
}

/**
 * Writes the transposed patch matrix (patchSize × rows) of examples `[b0, b1)` into `colsT`, reading
 * the input in channels-first layout `xT [C,B,H,W]`. Row (kh, kw, ci) of `colsT` is the `ci` plane
 * shifted by the tap's offset and subsampled by the stride, so it is written in contiguous runs.
 */
export function im2colTransposed(
  g: ConvGeometry,
  xT: Float32Array,
  b0: number,
  b1: number,
  colsT: Float32Array,
): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = g;
  const { filterHeight: KH, filterWidth: KW } = g;
  const rows = (b1 - b0) * OH * OW;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const offW = kw * dw - g.padInfo.left;
      // Output columns whose input column ow·sw + offW lies inside [0, W).
      const owLo = Math.min(OW, Math.max(0, Math.ceil(-offW / sw)));
      const owHi = Math.max(owLo, Math.min(OW, Math.floor((W - 1 - offW) / sw) + 1));
      for (let ci = 0; ci < C; ci++) {
        let dst = ((kh * KW + kw) * C + ci) * rows;
        const plane = ci * B * H * W;
        for (let b = b0; b < b1; b++) {
          for (let oh = 0; oh < OH; oh++, dst += OW) {
            const ih = oh * sh - g.padInfo.top + kh * dh;
            if (ih < 0 || ih >= H) {
              colsT.fill(0, dst, dst + OW);
              continue;
            }
            const src = plane + (b * H + ih) * W + offW;
            colsT.fill(0, dst, dst + owLo);
            for (let ow = owLo; ow < owHi; ow++) colsT[dst + ow] = xT[src + ow * sw]!;
            colsT.fill(0, dst + owHi, dst + OW);
          }
        }
      }
    }
  }
}

/**
 * `dst [cols, rows] = srcᵀ` for a row-major `src [rows, cols]`: blocks of 128 rows, four columns
 * per pass, so that each pass writes four contiguous runs and reads rows in order (about 3× faster
 * here than square 32×32 tiles, whose column writes all fall into the same cache sets). Column `c`
 * of `src` goes to `dst[dstOffset + c·dstStride + r]` (default: packed, `dstStride = rows`).
 */
export function transposeInto(
  src: Float32Array,
  rows: number,
  cols: number,
  dst: Float32Array,
  dstStride = rows,
  dstOffset = 0,
): void {
  const block = 128;
  for (let r0 = 0; r0 < rows; r0 += block) {
    const r1 = Math.min(rows, r0 + block);
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      let d0 = dstOffset + c * dstStride + r0;
      let d1 = d0 + dstStride;
      let d2 = d1 + dstStride;
      let d3 = d2 + dstStride;
      for (let r = r0, s = r0 * cols + c; r < r1; r++, s += cols) {
        dst[d0++] = src[s]!;
        dst[d1++] = src[s + 1]!;
        dst[d2++] = src[s + 2]!;
        dst[d3++] = src[s + 3]!;
      }
    }
    for (; c < cols; c++) {
      let d = dstOffset + c * dstStride + r0;
      for (let r = r0, s = r0 * cols + c; r < r1; r++, s += cols) dst[d++] = src[s]!;
    }
  }
}
