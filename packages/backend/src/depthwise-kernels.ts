import type { DepthwiseConv2dNativeAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { BackendAdapter } from './backend-adapter.js';
import type { ConvGeometry } from './im2col.js';

type Shape4 = [number, number, number, number];

/** Geometry of a depthwise convolution (`filter [KH,KW,C,M]`, `outChannels = C·M`) from kernel attributes. */
export function depthwiseGeometry(
  xShape: number[],
  filterShape: number[],
  attrs: Pick<DepthwiseConv2dNativeAttrs, 'strides' | 'pad' | 'dilations' | 'dimRoundingMode'>,
): ConvGeometry {
  return backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
    'channelsLast',
  );
}

/**
 * Calls `visit(xOffset, yOffset, wOffset)` for every (output pixel, filter tap) pair that reads
 * inside the input: offsets of the first channel of `x [B,H,W,C]`, `y [B,OH,OW,C·M]` and the tap's
 * `filter [KH,KW,C,M]` slice.
 */
function forEachTap(g: ConvGeometry, visit: (xo: number, yo: number, wo: number) => void): void {
  const {
    batchSize: B,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: CO,
  } = g;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = g;
  const { filterHeight: KH, filterWidth: KW } = g;
  const { top, left } = g.padInfo;
  for (let b = 0; b < B; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const yo = ((b * OH + oh) * OW + ow) * CO;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - top + kh * dh;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - left + kw * dw;
            if (iw < 0 || iw >= W) continue;
            visit(((b * H + ih) * W + iw) * C, yo, (kh * KW + kw) * CO);
          }
        }
      }
    }
  }
}

/**
 * Input gradient of a depthwise convolution (missing from tfjs-backend-wasm 4.22; NCSN++'s FIR
 * resampling needs it), `dx[b,ih,iw,c] = Σ_{kh,kw,m} dy[b,oh,ow,c·M+m] · w[kh,kw,c,m]` over the
 * output pixels that read `(ih, iw)` through tap `(kh, kw)`. `dy [B,OH,OW,C·M]`, `filter [KH,KW,C,M]`
 * → `[B,H,W,C]`. Direct summation: depthwise filters are small.
 */
export function depthwiseBackpropInput(
  be: BackendAdapter,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const C = g.inChannels;
  const M = g.outChannels / C;
  const dx = be.alloc([g.batchSize, g.inHeight, g.inWidth, C]);
  const out = be.view(dx);
  const gy = be.view(dy);
  const w = be.view(filter);
  forEachTap(g, (xo, yo, wo) => {
    for (let c = 0; c < C; c++) {
      let sum = 0;
      for (let m = 0; m < M; m++) sum += gy[yo + c * M + m]! * w[wo + c * M + m]!;
      out[xo + c] = out[xo + c]! + sum;
    }
  });
  return dx;
}

/**
 * Filter gradient of a depthwise convolution (missing from tfjs-backend-wasm 4.22),
 * `dW[kh,kw,c,m] = Σ_{b,oh,ow} x[b, oh·sh−top+kh·dh, ow·sw−left+kw·dw, c] · dy[b,oh,ow,c·M+m]`.
 * `x [B,H,W,C]`, `dy [B,OH,OW,C·M]` → `[KH,KW,C,M]`. Direct summation.
 */
export function depthwiseBackpropFilter(
  be: BackendAdapter,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const C = g.inChannels;
  const M = g.outChannels / C;
  const dw = be.alloc([g.filterHeight, g.filterWidth, C, M]);
  const out = be.view(dw);
  const xs = be.view(x);
  const gy = be.view(dy);
  forEachTap(g, (xo, yo, wo) => {
    for (let c = 0; c < C; c++) {
      const xv = xs[xo + c]!;
      for (let m = 0; m < M; m++) out[wo + c * M + m] = out[wo + c * M + m]! + xv * gy[yo + c * M + m]!;
    }
  });
  return dw;
}

/**
 * Forward depthwise convolution by direct summation, `y[b,oh,ow,c·M+m] = Σ_{kh,kw} x[b,
 * oh·sh−top+kh·dh, ow·sw−left+kw·dw, c] · w[kh,kw,c,m]`; used on wasm only where XNNPACK is wrong
 * (`'same'` padding with a stride larger than the filter). `x [B,H,W,C]`, `filter [KH,KW,C,M]` →
 * `[B,OH,OW,C·M]`.
 */
export function depthwiseConv2d(
  be: BackendAdapter,
  x: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const C = g.inChannels;
  const M = g.outChannels / C;
  const y = be.alloc([g.batchSize, g.outHeight, g.outWidth, g.outChannels]);
  const out = be.view(y);
  const xs = be.view(x);
  const w = be.view(filter);
  forEachTap(g, (xo, yo, wo) => {
    for (let c = 0; c < C; c++) {
      const xv = xs[xo + c]!;
      for (let m = 0; m < M; m++) out[yo + c * M + m] = out[yo + c * M + m]! + xv * w[wo + c * M + m]!;
    }
  });
  return y;
}
