/**
 * Cache-blocked float64 matrix product `C += X Yᵀ` on row-major `Float64Array`s, the one dense
 * kernel behind the feature co-moments, the Fréchet distance and the KID Gram matrices.
 * @internal
 */

/** Options of {@link gemmNT}. */
export interface GemmNTOptions {
  /** Only compute `C[i][j]` for `j ≤ i` (the lower triangle of a symmetric result); default false. */
  lowerOnly?: boolean;
  /**
   * First possibly non-zero column of each row of `X` (`xLo[i]`: `X[i][k] = 0` for `k < xLo[i]`), e.g.
   * the rows of a transposed lower-triangular factor. Only used to skip work; default: all 0.
   */
  xLo?: Int32Array;
  /** The same for the rows of `Y`. */
  yLo?: Int32Array;
  /** Scale of the product: `C += alpha X Yᵀ` (default 1; −1 for a downdate). */
  alpha?: number;
}

// k-chunk (row segments of 2 KiB) and j-block (a 256 KiB panel of Y that stays in L2).
const KC = 256;
const JC = 128;
// Row stride of the packed copies: KC plus one cache line, so that packed rows do not alias in cache.
const PACK_STRIDE = KC + 8;

/**
 * `C[i][j] += alpha Σ_k X[i][k] Y[j][k]` for `X [m, kTotal]`, `Y [n, kTotal]`, `C [m, n]`, all row-major
 * with the given row strides (in elements). Blocked over `k` and `j` with a 4×2 register kernel so
 * that every inner loop reads contiguous rows of both operands and keeps its 8 sums in registers.
 */
export function gemmNT(
  x: Float64Array,
  xStride: number,
  y: Float64Array,
  yStride: number,
  c: Float64Array,
  cStride: number,
  m: number,
  n: number,
  kTotal: number,
  options: GemmNTOptions = {},
): void {
  const lowerOnly = options.lowerOnly ?? false;
  const xLo = options.xLo;
  const yLo = options.yLo;
  const alpha = options.alpha ?? 1;
  const rowLo = (lo: Int32Array | undefined, r0: number, r1: number): number => {
    if (lo === undefined) return 0;
    let v = kTotal;
    for (let r = r0; r < r1; r++) v = Math.min(v, lo[r]!);
    return v;
  };
  // Packed copies of the current Y panel [JC, KC] and X row group [4, KC]: row strides of a power of
  // two (e.g. 2048 doubles) would map all rows to the same cache sets.
  const packedY = new Float64Array(JC * PACK_STRIDE);
  const packedX = new Float64Array(4 * PACK_STRIDE);
  for (let k0 = 0; k0 < kTotal; k0 += KC) {
    const k1 = Math.min(kTotal, k0 + KC);
    for (let j0 = 0; j0 < n; j0 += JC) {
      const j1 = Math.min(n, j0 + JC);
      const kY = Math.max(k0, rowLo(yLo, j0, j1));
      if (kY >= k1) continue;
      for (let j = j0; j < j1; j++) {
        const src = j * yStride;
        const dst = (j - j0) * PACK_STRIDE - k0;
        for (let k = kY; k < k1; k++) packedY[dst + k] = y[src + k]!;
      }
      for (let i = lowerOnly ? j0 - (j0 % 4) : 0; i < m; i += 4) {
        const iEnd = Math.min(m, i + 4);
        const kX = Math.max(kY, rowLo(xLo, i, iEnd));
        if (kX >= k1) continue;
        for (let r = i; r < iEnd; r++) {
          const src = r * xStride;
          const dst = (r - i) * PACK_STRIDE - k0;
          for (let k = kX; k < k1; k++) packedX[dst + k] = x[src + k]!;
        }
        const jEnd = lowerOnly ? Math.min(j1, iEnd) : j1;
        for (let j = j0; j < jEnd; j += 2) {
          const jPairEnd = Math.min(jEnd, j + 2);
          const kStart = Math.max(kX, rowLo(yLo, j, jPairEnd));
          if (kStart >= k1) continue;
          if (iEnd - i === 4 && jPairEnd - j === 2 && (!lowerOnly || j + 1 <= i)) {
            kernel4x2(
              packedX,
              kStart - k0,
              packedY,
              (j - j0) * PACK_STRIDE + kStart - k0,
              c,
              cStride,
              i,
              j,
              k1 - kStart,
              alpha,
            );
          } else {
            for (let r = i; r < iEnd; r++) {
              const cEnd = lowerOnly ? Math.min(jPairEnd, r + 1) : jPairEnd;
              for (let q = j; q < cEnd; q++) {
                let s = 0;
                const xr = (r - i) * PACK_STRIDE - k0;
                const yq = (q - j0) * PACK_STRIDE - k0;
                for (let k = kStart; k < k1; k++) s += packedX[xr + k]! * packedY[yq + k]!;
                c[r * cStride + q]! += alpha * s;
              }
            }
          }
        }
      }
    }
  }
}

/** `C[i..i+3][j..j+1] += alpha Σ_{t < len} X[·][xStart + t] Y[·][yStart + t]` on packed rows (stride PACK_STRIDE). */
function kernel4x2(
  x: Float64Array,
  xStart: number,
  y: Float64Array,
  yStart: number,
  c: Float64Array,
  cStride: number,
  i: number,
  j: number,
  len: number,
  alpha: number,
): void {
  const a0 = xStart;
  const a1 = a0 + PACK_STRIDE;
  const a2 = a1 + PACK_STRIDE;
  const a3 = a2 + PACK_STRIDE;
  const b0 = yStart;
  const b1 = b0 + PACK_STRIDE;
  let s00 = 0;
  let s01 = 0;
  let s10 = 0;
  let s11 = 0;
  let s20 = 0;
  let s21 = 0;
  let s30 = 0;
  let s31 = 0;
  for (let k = 0; k < len; k++) {
    const y0 = y[b0 + k]!;
    const y1 = y[b1 + k]!;
    let t = x[a0 + k]!;
    s00 += t * y0;
    s01 += t * y1;
    t = x[a1 + k]!;
    s10 += t * y0;
    s11 += t * y1;
    t = x[a2 + k]!;
    s20 += t * y0;
    s21 += t * y1;
    t = x[a3 + k]!;
    s30 += t * y0;
    s31 += t * y1;
  }
  let q = i * cStride + j;
  c[q]! += alpha * s00;
  c[q + 1]! += alpha * s01;
  q += cStride;
  c[q]! += alpha * s10;
  c[q + 1]! += alpha * s11;
  q += cStride;
  c[q]! += alpha * s20;
  c[q + 1]! += alpha * s21;
  q += cStride;
  c[q]! += alpha * s30;
  c[q + 1]! += alpha * s31;
}
