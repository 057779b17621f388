import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { convSpecs, SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { conv2dSame } from './nn-ops.js';
import { single } from './primitive-layers.js';
import {
  averageDownsample2d,
  firConvDownsample2d,
  firDownsample2d,
  firUpsample2d,
  firUpsampleConv2d,
  nearestUpsample2d,
} from './upfirdn2d.js';

/** Arguments of {@link Upsample} and {@link Downsample}. */
export interface ResampleArgs extends SbmLayerArgs {
  /** Input channels Cin. */
  inCh: number;
  /** Output channels Cout (default inCh); only a convolution (`withConv`) can change them. */
  outCh?: number;
  /**
   * Add a learned 3×3 convolution (`model.resamp_with_conv`, score_sde's `with_conv`): weights `Conv_0.*`
   * (`ddpm_conv3x3`) for plain resampling, `Conv2d_0.*` (fused with the FIR filter) when `fir`.
   */
  withConv: boolean;
  /**
   * Resample with the FIR filter of `firKernel` (`model.fir`, StyleGAN2's upfirdn2d) instead of nearest neighbour /
   * average pooling.
   */
  fir: boolean;
  /**
   * 1-D FIR kernel k (`model.fir_kernel`), default `[1, 3, 3, 1]`; the 2-D filter is
   * $K = k k^\top / \sum_{ij} (k k^\top)_{ij}$ (see {@link setupFirKernel}). Only used with `fir`.
   */
  firKernel?: number[];
}

abstract class ResampleBase extends SbmLayer {
  /** Input channels Cin. */
  readonly inCh: number;
  /** Output channels Cout (equal to Cin without a convolution). */
  readonly outCh: number;
  /** Whether a learned 3×3 convolution is part of the resampling. */
  readonly withConv: boolean;
  /** Whether the FIR filter is used (else nearest neighbour / average pooling). */
  readonly fir: boolean;
  /** The 1-D FIR kernel (a copy of the argument, default `[1, 3, 3, 1]`). */
  readonly firKernel: number[];

  /** Creates the layer from `args`: `inCh`, `withConv`, `fir`, optional `outCh`, `firKernel`, `name`, `trainable`. */
  constructor(args: ResampleArgs) {
    super(args);
    this.inCh = args.inCh;
    this.outCh = args.outCh ?? args.inCh;
    this.withConv = args.withConv;
    this.fir = args.fir;
    this.firKernel = [...(args.firKernel ?? [1, 3, 3, 1])];
  }

  weightSpecs(): WeightSpec[] {
    if (!this.withConv) return [];
    // Plain resampling uses `Conv_0` (ddpm_conv3x3), FIR resampling the fused StyleGAN2 `Conv2d_0`.
    return convSpecs(this.fir ? 'Conv2d_0.' : 'Conv_0.', 3, this.inCh, this.outCh);
  }

  /** The output size of a spatial dimension of size `n` (2n or n/2). */
  protected abstract factor(n: number): number;

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    const f = (n: number | null) => (n === null ? null : this.factor(n));
    return [inputShape[0]!, f(inputShape[1]!), f(inputShape[2]!), this.outCh];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inCh: this.inCh,
      outCh: this.outCh,
      withConv: this.withConv,
      fir: this.fir,
      firKernel: this.firKernel,
    };
  }
}

/**
 * Upsampling by 2 (score_sde `layers.py` / `layerspp.py` `Upsample`). Without `fir`: nearest neighbour,
 * $y_{2i+a,\,2j+b} = x_{ij}$ for $a, b \in \lbrace 0, 1 \rbrace$, then an optional 3×3 convolution `Conv_0`. With
 * `fir`: the FIR upsampling of StyleGAN2 (Karras et al. 2020, `up_or_down_sampling.py` `upsample_2d`),
 * $y = \operatorname{upfirdn2d}(x, 4K, \mathrm{up} = 2)$ ({@link firUpsample2d}), or, when `withConv`, a stride-2
 * 3×3 transposed convolution `Conv2d_0` followed by the same filter (`upsample_conv_2d`,
 * {@link firUpsampleConv2d}). `[B, H, W, Cin]` → `[B, 2H, 2W, Cout]`.
 */
export class Upsample extends ResampleBase {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>Upsample` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>Upsample';

  /** Output size 2n of a spatial dimension of size `n`. */
  protected factor(n: number): number {
    return n * 2;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      if (this.fir) {
        return this.withConv
          ? tf.add(
              firUpsampleConv2d(x, this.weight('Conv2d_0.weight') as tf.Tensor4D, this.firKernel),
              this.weight('Conv2d_0.bias'),
            )
          : firUpsample2d(x, this.firKernel);
      }
      const h = nearestUpsample2d(x);
      return this.withConv ? conv2dSame(h, this.weight('Conv_0.weight'), this.weight('Conv_0.bias')) : h;
    });
  }
}

/**
 * Downsampling by 2 (score_sde `layers.py` / `layerspp.py` `Downsample`). Without `fir`: a stride-2 3×3 convolution
 * `Conv_0` after zero padding (0, 1) in H and W ('SAME' as in TensorFlow) when `withConv`, else 2×2 average
 * pooling, $y_{ij} = \tfrac14 \sum_{a,b \in \lbrace 0,1 \rbrace} x_{2i+a,\,2j+b}$. With `fir`: the FIR downsampling
 * of StyleGAN2 (`up_or_down_sampling.py` `downsample_2d`), $y = \operatorname{upfirdn2d}(x, K, \mathrm{down} = 2)$
 * ({@link firDownsample2d}), or, when `withConv`, the same filter followed by a stride-2 3×3 convolution `Conv2d_0`
 * (`conv_downsample_2d`, {@link firConvDownsample2d}). `[B, H, W, Cin]` → `[B, H/2, W/2, Cout]`.
 */
export class Downsample extends ResampleBase {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>Downsample` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>Downsample';

  /** Output size n/2 of a spatial dimension of size `n`. */
  protected factor(n: number): number {
    return n / 2;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs) as tf.Tensor4D;
      if (this.fir) {
        return this.withConv
          ? tf.add(
              firConvDownsample2d(x, this.weight('Conv2d_0.weight') as tf.Tensor4D, this.firKernel),
              this.weight('Conv2d_0.bias'),
            )
          : firDownsample2d(x, this.firKernel);
      }
      if (!this.withConv) return averageDownsample2d(x);
      const padded = tf.pad(x, [
        [0, 0],
        [0, 1],
        [0, 1],
        [0, 0],
      ]);
      return tf.add(
        tf.conv2d(padded, this.weight('Conv_0.weight') as tf.Tensor4D, 2, 'valid'),
        this.weight('Conv_0.bias'),
      );
    });
  }
}
