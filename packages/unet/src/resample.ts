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
  inCh: number;
  /** Output channels (default inCh); only a convolution can change them. */
  outCh?: number;
  withConv: boolean;
  fir: boolean;
  firKernel?: number[];
}

abstract class ResampleBase extends SbmLayer {
  readonly inCh: number;
  readonly outCh: number;
  readonly withConv: boolean;
  readonly fir: boolean;
  readonly firKernel: number[];

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
 * Upsampling by 2 (score_sde `Upsample`): nearest neighbour then an optional 3×3 conv, or with `fir` the FIR
 * upsampling of StyleGAN2 (Karras et al. 2020), fused with a 3×3 transposed conv when `withConv`.
 * `[B, H, W, Cin]` → `[B, 2H, 2W, Cout]`.
 */
export class Upsample extends ResampleBase {
  static readonly className = 'sbm>Upsample';

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
 * Downsampling by 2 (score_sde `Downsample`): a stride-2 3×3 conv after padding (0, 1) ('SAME' as in
 * TensorFlow) or 2×2 average pooling; with `fir`, FIR downsampling, fused with a stride-2 conv when `withConv`.
 * `[B, H, W, Cin]` → `[B, H/2, W/2, Cout]`.
 */
export class Downsample extends ResampleBase {
  static readonly className = 'sbm>Downsample';

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
