import * as tf from '@tensorflow/tfjs-core';

/**
 * The 2-D FIR filter of a 1-D kernel k (StyleGAN2 `_setup_kernel`, as in score_sde's `up_or_down_sampling.py`):
 *
 * $$K = \frac{k k^\top}{\sum_{ij} (k k^\top)_{ij}},$$
 *
 * so that K sums to 1 (e.g. k = `[1, 3, 3, 1]` gives a 4×4 binomial filter). A 2-D kernel (array of rows) is only
 * divided by its sum. Returns the rows of K as float64 numbers.
 */
export function setupFirKernel(kernel: readonly number[] | readonly (readonly number[])[]): number[][] {
  const rows: number[][] = Array.isArray(kernel[0])
    ? (kernel as readonly (readonly number[])[]).map((r) => [...r])
    : (kernel as readonly number[]).map((a) => (kernel as readonly number[]).map((b) => a * b));
  const sum = rows.reduce((s, r) => s + r.reduce((u, v) => u + v, 0), 0);
  return rows.map((r) => r.map((v) => v / sum));
}

/**
 * upfirdn2d (StyleGAN2, Karras et al. 2020; score_sde `up_or_down_sampling.py` `upfirdn2d`), channel by channel:
 * upsample by zero insertion (factor u = `up`), zero-pad by $p_0$ = `pad0` before and $p_1$ = `pad1` after in H
 * and W, convolve with the FIR filter K (a true convolution, i.e. K flipped), keep every d-th pixel (d = `down`):
 *
 * $$y = \big(K * \operatorname{pad}_{p_0, p_1}(\uparrow_u x)\big)\downarrow_d, \qquad
 *   H' = \Big\lfloor \frac{u H + p_0 + p_1 - k_h}{d} \Big\rfloor + 1$$
 *
 * (and W' likewise with $k_w$).
 *
 * @param x - `[B, H, W, C]`.
 * @param kernel - 2-D filter rows `[kh][kw]` (already normalized and gained).
 * @param up - upsampling factor u ≥ 1 (1: none).
 * @param down - downsampling factor d ≥ 1 (1: none).
 * @param pad0 - zero padding before the first row and column, ≥ 0.
 * @param pad1 - zero padding after the last row and column, ≥ 0.
 * @returns `[B, H', W', C]`.
 */
export function upfirdn2d(
  x: tf.Tensor4D,
  kernel: readonly (readonly number[])[],
  up: number,
  down: number,
  pad0: number,
  pad1: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    let y: tf.Tensor4D = x;
    if (up > 1) {
      const z = tf.reshape(x, [b, h, 1, w, 1, c]);
      const padded = tf.pad(z, [
        [0, 0],
        [0, 0],
        [0, up - 1],
        [0, 0],
        [0, up - 1],
        [0, 0],
      ]);
      y = tf.reshape(padded, [b, h * up, w * up, c]);
    }
    if (pad0 < 0 || pad1 < 0) throw new Error('upfirdn2d: negative padding is not supported');
    if (pad0 > 0 || pad1 > 0) {
      y = tf.pad(y, [
        [0, 0],
        [pad0, pad1],
        [pad0, pad1],
        [0, 0],
      ]);
    }
    const kh = kernel.length;
    const kw = kernel[0]!.length;
    // True convolution = cross-correlation with the flipped filter.
    const flipped = new Float32Array(kh * kw);
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) flipped[i * kw + j] = kernel[kh - 1 - i]![kw - 1 - j]!;
    const filter = tf.tile(tf.tensor4d(flipped, [kh, kw, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    return tf.depthwiseConv2d(y, filter, [down, down], 'valid');
  });
}

/**
 * FIR upsampling by 2 (score_sde `up_or_down_sampling.py` `upsample_2d`): {@link upfirdn2d} with the filter 4K
 * (K from {@link setupFirKernel}; the gain 4 keeps the mean after zero insertion), up = 2 and pads
 * $p_0 = \lfloor (p+1)/2 \rfloor + 1$, $p_1 = \lfloor p/2 \rfloor$, where $p = k_h - 2$.
 * `[B, H, W, C]` → `[B, 2H, 2W, C]`.
 */
export function firUpsample2d(x: tf.Tensor4D, firKernel: readonly number[]): tf.Tensor4D {
  const factor = 2;
  const k = setupFirKernel(firKernel).map((r) => r.map((v) => v * factor * factor));
  const p = k.length - factor;
  return upfirdn2d(x, k, factor, 1, Math.floor((p + 1) / 2) + factor - 1, Math.floor(p / 2));
}

/**
 * FIR downsampling by 2 (score_sde `up_or_down_sampling.py` `downsample_2d`): {@link upfirdn2d} with the filter K
 * (from {@link setupFirKernel}), down = 2 and pads $p_0 = \lfloor (p+1)/2 \rfloor$, $p_1 = \lfloor p/2 \rfloor$,
 * where $p = k_h - 2$. `[B, H, W, C]` → `[B, H/2, W/2, C]`.
 */
export function firDownsample2d(x: tf.Tensor4D, firKernel: readonly number[]): tf.Tensor4D {
  const factor = 2;
  const k = setupFirKernel(firKernel);
  const p = k.length - factor;
  return upfirdn2d(x, k, 1, factor, Math.floor((p + 1) / 2), Math.floor(p / 2));
}

/**
 * Fused FIR filter and stride-2 convolution (score_sde `up_or_down_sampling.py` `conv_downsample_2d`): filter with
 * K (no resampling) and pads $p_0 = \lfloor (p+1)/2 \rfloor$, $p_1 = \lfloor p/2 \rfloor$, where
 * $p = (k_h - 2) + (k - 1)$ for the kernel size k of `weight`, then a stride-2 'valid' convolution with `weight`
 * `[k, k, Cin, Cout]` (no bias). `[B, H, W, Cin]` → `[B, H/2, W/2, Cout]`.
 */
export function firConvDownsample2d(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  firKernel: readonly number[],
): tf.Tensor4D {
  return tf.tidy(() => {
    const factor = 2;
    const k = setupFirKernel(firKernel);
    const p = k.length - factor + (weight.shape[0] - 1);
    const filtered = upfirdn2d(x, k, 1, 1, Math.floor((p + 1) / 2), Math.floor(p / 2));
    return tf.conv2d(filtered, weight, factor, 'valid');
  });
}

/**
 * Fused upsampling by 2 and convolution (score_sde `up_or_down_sampling.py` `upsample_conv_2d`): a stride-2
 * transposed convolution with `weight` `[k, k, Cin, Cout]` (no bias; output size $2(H - 1) + k$), then filtering
 * with 4K (no resampling) and pads $p_0 = \lfloor (p+1)/2 \rfloor + 1$, $p_1 = \lfloor p/2 \rfloor + 1$, where
 * $p = (k_h - 2) - (k - 1)$. `[B, H, W, Cin]` → `[B, 2H, 2W, Cout]`.
 */
export function firUpsampleConv2d(
  x: tf.Tensor4D,
  weight: tf.Tensor4D,
  firKernel: readonly number[],
): tf.Tensor4D {
  return tf.tidy(() => {
    const factor = 2;
    const [b, h, w] = x.shape;
    const [kh, kw, , cout] = weight.shape;
    const k = setupFirKernel(firKernel).map((r) => r.map((v) => v * factor * factor));
    const p = k.length - factor - (kw - 1);
    // The reference transposes the (spatially flipped) conv weight for conv_transpose2d; in tfjs's
    // conv2dTranspose filter layout [kh, kw, outC, inC] that is the flipped weight with its channel axes swapped.
    const filter = tf.transpose(tf.reverse(weight, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const outShape: [number, number, number, number] = [
      b,
      (h - 1) * factor + kh,
      (w - 1) * factor + kw,
      cout,
    ];
    const y = tf.conv2dTranspose(x, filter, outShape, factor, 'valid');
    return upfirdn2d(y, k, 1, 1, Math.floor((p + 1) / 2) + factor - 1, Math.floor(p / 2) + 1);
  });
}

/**
 * Nearest-neighbour upsampling by 2 (`F.interpolate(..., 'nearest')`, `naive_upsample_2d`):
 * y[b, 2i + di, 2j + dj, c] = x[b, i, j, c] for di, dj ∈ {0, 1}. `[B, H, W, C]` → `[B, 2H, 2W, C]`.
 *
 * Written as a rank-5 broadcast multiplication by ones (exact in float32), whose gradient (a sum over the
 * broadcast axes) tfjs has on every backend; a rank-6 `tile` has no gradient, and the stock
 * `ResizeNearestNeighborGrad` of the cpu and wasm backends is wrong for batches > 1.
 */
export function nearestUpsample2d(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    const z = tf.reshape(x, [b * h, 1, w, 1, c]);
    return tf.reshape(tf.mul(z, tf.ones([1, 2, 1, 2, 1])), [b, 2 * h, 2 * w, c]);
  });
}

/** 2×2 average pooling with stride 2 (`F.avg_pool2d(x, 2, 2)`, `naive_downsample_2d`). */
export function averageDownsample2d(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 2, 2, 'valid');
}
