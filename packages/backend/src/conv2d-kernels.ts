import type { Conv2DAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { BackendAdapter } from './backend-adapter.js';
import {
  type ConvGeometry,
  col2imAdd,
  examplesPerChunk,
  im2col,
  im2colTransposed,
  isPointwise,
  patchSize,
  transposeInto,
} from './im2col.js';

/** Largest patch matrix (float32 elements) built at once; bigger batches are processed in chunks. */
export const maxPatchElements = 1 << 23;

type Shape4 = [number, number, number, number];

/**
 * Convolution geometry from kernel attributes. `dilations` is optional because tfjs' gradient
 * kernels carry none (its Conv2D gradient requires dilation 1); the forward kernel passes its own.
 */
export function convGeometry(
  xShape: number[],
  filterShape: number[],
  attrs: Pick<Conv2DAttrs, 'strides' | 'pad' | 'dimRoundingMode'>,
  dilations: Conv2DAttrs['dilations'] = 1,
): ConvGeometry {
  return backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
}

/**
 * The patch matrix `[1, rows, K]` of examples `[b0, b1)` of `x`. For a pointwise convolution over
 * the whole batch it is `x` itself (`owned: false`, do not dispose).
 */
function patches(be: BackendAdapter, x: TensorInfo, g: ConvGeometry, b0: number, b1: number) {
  const rowsPerExample = g.outHeight * g.outWidth;
  const K = patchSize(g);
  const shape = [1, (b1 - b0) * rowsPerExample, K];
  if (isPointwise(g) && b0 === 0 && b1 === g.batchSize) {
    return { rows: { dataId: x.dataId, shape, dtype: x.dtype } as TensorInfo, owned: false };
  }
  const rows = be.alloc(shape);
  im2col(g, be.view(x), b0, b1, be.view(rows));
  return { rows, owned: true };
}

/** The filter `[KH,KW,Ci,Co]` as the matrix `[1, Co, K]` (its transpose), in a new tensor. */
function filterTransposed(be: BackendAdapter, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const K = patchSize(g);
  const wT = be.alloc([1, g.outChannels, K]);
  transposeInto(be.view(filter), K, g.outChannels, be.view(wT));
  return wT;
}

/**
 * Filter gradient of a 2-D convolution, `dW[kh,kw,ci,co] = Σ_{b,oh,ow} x[b, oh·sh−top+kh·dh,
 * ow·sw−left+kw·dw, ci] · dy[b,oh,ow,co]`, computed as `patches(x)ᵀ @ dy`: the transposed patch
 * matrix is built directly from a channels-first copy of `x`, so the one matrix multiply per chunk
 * of examples has both operands untransposed, the layout the backends' matrix multiplies are
 * fastest at (wasm's transposed path is ~10× slower). On wasm (a backend with aliases and XNNPACK)
 * a stride-1 gradient is one matrix product per tap on shifted windows of a padded copy of `x`
 * ({@link backpropFilterShifted}), and a strided one with dilation 1 is one forward convolution
 * ({@link backpropFilterAsConv}). `x [B,H,W,Ci]`, `dy [B,OH,OW,Co]` → `[KH,KW,Ci,Co]`.
 */
export function conv2dBackpropFilter(
  be: BackendAdapter,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const native =
    (be.alias === undefined ? undefined : backpropFilterShifted(be, x, dy, g)) ??
    (be.conv2d === undefined ? undefined : backpropFilterAsConv(be, x, dy, g));
  if (native !== undefined) return native;
  const K = patchSize(g);
  const co = g.outChannels;
  const rowsPerExample = g.outHeight * g.outWidth;
  const chunk = examplesPerChunk(g, maxPatchElements);
  const dwShape = [g.filterHeight, g.filterWidth, g.inChannels, co];
  let dw: TensorInfo | undefined;
  // x in channels-first layout [Ci,B,H,W], so that each patch-matrix row is copied in runs.
  const xT = new Float32Array(g.batchSize * g.inHeight * g.inWidth * g.inChannels);
  transposeInto(be.view(x), xT.length / g.inChannels, g.inChannels, xT);
  for (let b0 = 0; b0 < g.batchSize; b0 += chunk) {
    const b1 = Math.min(g.batchSize, b0 + chunk);
    const rows = (b1 - b0) * rowsPerExample;
    const colsT = be.alloc([1, K, rows]);
    im2colTransposed(g, xT, b0, b1, be.view(colsT));
    const dyRows = exampleRows(be, dy, b0, b1, rowsPerExample, co);
    const part = be.matMul(colsT, dyRows.rows);
    be.dispose(colsT);
    if (dyRows.owned) be.dispose(dyRows.rows);
    if (dw === undefined) {
      dw = { dataId: part.dataId, shape: dwShape, dtype: 'float32' };
    } else {
      const acc = be.view(dw);
      const p = be.view(part);
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + p[i]!;
      be.dispose(part);
    }
  }
  return dw as TensorInfo;
}

/** Rows `[b0·rowsPerExample, b1·rowsPerExample)` of `t` as a `[1, rows, cols]` tensor (`t` itself when all). */
function exampleRows(
  be: BackendAdapter,
  t: TensorInfo,
  b0: number,
  b1: number,
  rowsPerExample: number,
  cols: number,
) {
  const shape = [1, (b1 - b0) * rowsPerExample, cols];
  if (b0 === 0 && b1 === t.shape[0]) {
    return { rows: { dataId: t.dataId, shape, dtype: t.dtype } as TensorInfo, owned: false };
  }
  const rows = be.alloc(shape);
  be.view(rows).set(be.view(t).subarray(b0 * rowsPerExample * cols, b1 * rowsPerExample * cols));
  return { rows, owned: true };
}

/**
 * Input gradient of a 2-D convolution, `dx = col2im(dy @ Wᵀ)`: each output pixel's gradient is
 * spread back over the input positions its patch was read from. For stride 1 on a backend with a
 * fast native convolution (wasm: XNNPACK) it is one forward convolution with the flipped filter
 * instead ({@link backpropInputAsConv}). `dy [B,OH,OW,Co]`, `filter [KH,KW,Ci,Co]` → `[B,H,W,Ci]`.
 */
export function conv2dBackpropInput(
  be: BackendAdapter,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo {
  const viaConv = be.conv2d === undefined ? undefined : backpropInputAsConv(be, dy, filter, g);
  if (viaConv !== undefined) return viaConv;
  const co = g.outChannels;
  const rowsPerExample = g.outHeight * g.outWidth;
  const chunk = examplesPerChunk(g, maxPatchElements);
  const wT = filterTransposed(be, filter, g);
  const inShape = [g.batchSize, g.inHeight, g.inWidth, g.inChannels];
  if (isPointwise(g)) {
    const dyRows: TensorInfo = {
      dataId: dy.dataId,
      shape: [1, g.batchSize * rowsPerExample, co],
      dtype: 'float32',
    };
    const dx = be.matMul(dyRows, wT);
    be.dispose(wT);
    return { dataId: dx.dataId, shape: inShape, dtype: 'float32' };
  }
  const dx = be.alloc(inShape);
  for (let b0 = 0; b0 < g.batchSize; b0 += chunk) {
    const b1 = Math.min(g.batchSize, b0 + chunk);
    const dyRows = exampleRows(be, dy, b0, b1, rowsPerExample, co);
    const cols = be.matMul(dyRows.rows, wT);
    if (dyRows.owned) be.dispose(dyRows.rows);
    col2imAdd(g, be.view(cols), b0, b1, be.view(dx));
    be.dispose(cols);
  }
  be.dispose(wT);
  return dx;
}

/**
 * Forward 2-D convolution with strides, padding and dilation, `y = patches(x) @ W` (im2col and one
 * matrix multiply per chunk of examples). `x [B,H,W,Ci]`, `filter [KH,KW,Ci,Co]` → `[B,OH,OW,Co]`.
 */
export function conv2d(be: BackendAdapter, x: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const co = g.outChannels;
  const rowsPerExample = g.outHeight * g.outWidth;
  const w: TensorInfo = { dataId: filter.dataId, shape: [1, patchSize(g), co], dtype: 'float32' };
  const outShape = [g.batchSize, g.outHeight, g.outWidth, co];
  const chunk = examplesPerChunk(g, maxPatchElements);
  if (chunk >= g.batchSize) {
    const cols = patches(be, x, g, 0, g.batchSize);
    const y = be.matMul(cols.rows, w);
    if (cols.owned) be.dispose(cols.rows);
    return { dataId: y.dataId, shape: outShape, dtype: 'float32' };
  }
  const y = be.alloc(outShape);
  for (let b0 = 0; b0 < g.batchSize; b0 += chunk) {
    const b1 = Math.min(g.batchSize, b0 + chunk);
    const cols = patches(be, x, g, b0, b1);
    const part = be.matMul(cols.rows, w);
    if (cols.owned) be.dispose(cols.rows);
    be.view(y).set(be.view(part), b0 * rowsPerExample * co);
    be.dispose(part);
  }
  return y;
}

/** Largest padded-grid area, relative to the output's, for which {@link backpropFilterShifted} is used. */
const maxPaddedAreaRatio = 1.5;

/**
 * The filter gradient of a stride-1 convolution as one matrix multiply per filter tap, each on a
 * shifted window of one channels-first, zero-padded copy of `x` (no patch matrix is built). On the
 * grid `n = (b, r, c)` of `B × Hp × Wp` padded positions, with `x̃[ci, n] = x[b, r−top, c−left, ci]`
 * (zero in the padding) and `d̃y[n, co] = dy[b, r, c, co]` for `r < OH, c < OW` (zero elsewhere),
 * `dW[kh,kw] = x̃[:, n + kh·dh·Wp + kw·dw] @ d̃y`: every valid output position reads its input pixel
 * at a constant offset per tap, and the window's other entries meet zeros of `d̃y` (so an infinite
 * `x` can turn into NaN entries where the direct sum has ±∞). The windows are
 * aliases of the padded copy (wasm: XNNPACK's matrix multiply, fed without transposes). `undefined`
 * for strides > 1, negative padding, or (with a native convolution to fall back on) a padded grid
 * more than {@link maxPaddedAreaRatio} times the output's area.
 */
function backpropFilterShifted(
  be: BackendAdapter,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo | undefined {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = g;
  const { filterHeight: KH, filterWidth: KW, dilationHeight: dh, dilationWidth: dw } = g;
  const { outChannels: Co } = g;
  const { top, left } = g.padInfo;
  // Stride 1: the padded grid is exactly what the forward convolution swept.
  const Hp = OH + g.effectiveFilterHeight - 1;
  const Wp = OW + g.effectiveFilterWidth - 1;
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || top < 0 || left < 0 || Hp < H + top || Wp < W + left)
    return undefined;
  const P = Hp * Wp;
  // Small images pay for the padded border in every product (8×8 'same' 3×3: 100/64); there the
  // one-convolution form is as fast (measured on wasm, bench/results/backend.md's network).
  if (be.conv2d !== undefined && P > maxPaddedAreaRatio * OH * OW) return undefined;
  const L = B * P;
  const maxShift = (KH - 1) * dh * Wp + (KW - 1) * dw;
  // x̃ [C, L] plus a zero tail that the last windows run into.
  const xT = be.alloc([C * L + maxShift]);
  writePaddedChannelsFirst(be.view(x), B, H, W, C, Hp, Wp, top, left, be.view(xT));
  const padded = Hp !== OH || Wp !== OW;
  let dyP: TensorInfo = { dataId: dy.dataId, shape: [1, L, Co], dtype: 'float32' };
  if (padded) {
    dyP = be.alloc([1, L, Co]);
    const src = be.view(dy);
    const dst = be.view(dyP);
    const run = OW * Co;
    for (let b = 0; b < B; b++) {
      for (let oh = 0; oh < OH; oh++) {
        const s = (b * OH + oh) * run;
        dst.set(src.subarray(s, s + run), (b * P + oh * Wp) * Co);
      }
    }
  }
  const taps = KH * KW;
  const dw4 = taps === 1 ? undefined : be.alloc([KH, KW, C, Co]);
  let result: TensorInfo | undefined;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const window = be.alias!(xT, kh * dh * Wp + kw * dw, [1, C, L]);
      const part = be.matMul(window, dyP);
      be.releaseAlias!(window);
      if (dw4 === undefined) {
        result = { dataId: part.dataId, shape: [KH, KW, C, Co], dtype: 'float32' };
      } else {
        be.view(dw4).set(be.view(part), (kh * KW + kw) * C * Co);
        be.dispose(part);
      }
    }
  }
  be.dispose(xT);
  if (padded) be.dispose(dyP);
  return dw4 ?? result;
}

/**
 * Writes `x [B,H,W,C]` into `out [C, B·Hp·Wp]` at rows `r = h + top`, columns `c = w + left` of each
 * example's `Hp × Wp` plane (the rest of `out` is left as it is: zero): one transpose per image row.
 */
function writePaddedChannelsFirst(
  x: Float32Array,
  B: number,
  H: number,
  W: number,
  C: number,
  Hp: number,
  Wp: number,
  top: number,
  left: number,
  out: Float32Array,
): void {
  const L = B * Hp * Wp;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const rowIn = (b * H + h) * W * C;
      transposeInto(x.subarray(rowIn, rowIn + W * C), W, C, out, L, (b * Hp + h + top) * Wp + left);
    }
  }
}

/**
 * The filter gradient as one forward convolution on the backend's own conv (wasm: XNNPACK), for
 * dilation 1: with `x` viewed as `[Ci,H,W,B]` (examples as channels) and `dy` as a filter
 * `[OH,OW,B,Co]` dilated by the stride, `dW[kh,kw,ci,co] = Σ x'[ci, kh−top+oh·sh, kw−left+ow·sw, b]
 * dy'[oh,ow,b,co]` is a stride-1 convolution whose output `[Ci,KH,KW,Co]` is transposed into place.
 * `undefined` when the geometry does not fit (trailing rows the forward conv never read).
 */
function backpropFilterAsConv(
  be: BackendAdapter,
  x: TensorInfo,
  dy: TensorInfo,
  g: ConvGeometry,
): TensorInfo | undefined {
  const {
    batchSize: B,
    inHeight: H,
    inWidth: W,
    inChannels: C,
    outHeight: OH,
    outWidth: OW,
    outChannels: Co,
  } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = g;
  const { top, left } = g.padInfo;
  const bottom = KH + (OH - 1) * sh - H - top;
  const right = KW + (OW - 1) * sw - W - left;
  if (g.dilationHeight !== 1 || g.dilationWidth !== 1 || bottom < 0 || right < 0 || top < 0 || left < 0)
    return undefined;
  const HW = H * W;
  const xT = be.alloc([C, H, W, B]);
  const xs = be.view(x);
  const xd = be.view(xT);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < HW; p++) {
      const src = (b * HW + p) * C;
      for (let ci = 0; ci < C; ci++) xd[(ci * HW + p) * B + b] = xs[src + ci]!;
    }
  }
  const OHW = OH * OW;
  const dyT = be.alloc([OH, OW, B, Co]);
  const ds = be.view(dy);
  const dd = be.view(dyT);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < OHW; p++)
      dd.set(ds.subarray((b * OHW + p) * Co, (b * OHW + p + 1) * Co), (p * B + b) * Co);
  }
  const y = be.conv2d!(xT, dyT, [top, bottom, left, right], [sh, sw]);
  be.dispose(xT);
  be.dispose(dyT);
  // y [Ci, KH·KW, Co] → dW [KH·KW, Ci, Co]
  const dw = be.alloc([KH, KW, C, Co]);
  const ys = be.view(y);
  const out = be.view(dw);
  const taps = KH * KW;
  for (let ci = 0; ci < C; ci++) {
    for (let k = 0; k < taps; k++)
      out.set(ys.subarray((ci * taps + k) * Co, (ci * taps + k + 1) * Co), (k * C + ci) * Co);
  }
  be.dispose(y);
  return dw;
}

/**
 * The input gradient of a stride-1 convolution as one forward convolution on the backend's own conv
 * (wasm: XNNPACK): `dx = conv(dy, W')` with the filter rotated by 180° and its channel axes swapped,
 * `W'[kh,kw,co,ci] = W[KH−1−kh, KW−1−kw, ci, co]`, the same dilation, and padding `effK − 1 − pad` on
 * each side. `undefined` for strides > 1 or padding wider than the filter.
 */
function backpropInputAsConv(
  be: BackendAdapter,
  dy: TensorInfo,
  filter: TensorInfo,
  g: ConvGeometry,
): TensorInfo | undefined {
  const { filterHeight: KH, filterWidth: KW, inChannels: C, outChannels: Co } = g;
  const { top, bottom, left, right } = g.padInfo;
  const pad: [number, number, number, number] = [
    g.effectiveFilterHeight - 1 - top,
    g.effectiveFilterHeight - 1 - bottom,
    g.effectiveFilterWidth - 1 - left,
    g.effectiveFilterWidth - 1 - right,
  ];
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || pad.some((p) => p < 0)) return undefined;
  const w2 = be.alloc([KH, KW, Co, C]);
  const ws = be.view(filter);
  const wd = be.view(w2);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * C * Co;
      const dst = (kh * KW + kw) * Co * C;
      for (let ci = 0; ci < C; ci++) {
        for (let co = 0; co < Co; co++) wd[dst + co * C + ci] = ws[src + ci * Co + co]!;
      }
    }
  }
  const dx = be.conv2d!(dy, w2, pad, [g.dilationHeight, g.dilationWidth]);
  be.dispose(w2);
  return dx;
}
