import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ProgressiveCombine } from './config.js';
import { convSpecs, SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { conv2dSame, skipSum } from './nn-ops.js';

/** Arguments of {@link Combine}. */
export interface CombineArgs extends SbmLayerArgs {
  /** Channels of the input-pyramid image. */
  dim1: number;
  /** Channels of the features. */
  dim2: number;
  method: ProgressiveCombine;
}

/**
 * Combines the input pyramid with features (score_sde `Combine`, NCSN++ progressive_input 'input_skip'):
 * p' = Conv_0(p) (1×1, dim1 → dim2); returns concat([p', h]) on channels ('cat') or p' + h ('sum').
 * Inputs `[p [B, H, W, dim1], h [B, H, W, dim2]]`.
 */
export class Combine extends SbmLayer {
  static readonly className = 'sbm>Combine';
  readonly dim1: number;
  readonly dim2: number;
  readonly method: ProgressiveCombine;

  constructor(args: CombineArgs) {
    super(args);
    this.dim1 = args.dim1;
    this.dim2 = args.dim2;
    this.method = args.method;
  }

  weightSpecs(): WeightSpec[] {
    return convSpecs('Conv_0.', 1, this.dim1, this.dim2);
  }

  override computeOutputShape(inputShape: tfl.Shape[]): tfl.Shape {
    const h = inputShape[1]!;
    return [...h.slice(0, 3), this.method === 'cat' ? 2 * this.dim2 : this.dim2];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [p, h] = inputs as tf.Tensor[];
      const projected = conv2dSame(p!, this.weight('Conv_0.weight'), this.weight('Conv_0.bias'));
      return this.method === 'cat' ? tf.concat([projected, h!], -1) : tf.add(projected, h!);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim1: this.dim1, dim2: this.dim2, method: this.method };
  }
}

/** Arguments of {@link SkipAdd}. */
export interface SkipAddArgs extends SbmLayerArgs {
  skipRescale: boolean;
}

/** Sum of two equal-shaped tensors, divided by √2 if `skipRescale` (progressive 'residual' paths). No weights. */
export class SkipAdd extends SbmLayer {
  static readonly className = 'sbm>SkipAdd';
  readonly skipRescale: boolean;

  constructor(args: SkipAddArgs) {
    super(args);
    this.skipRescale = args.skipRescale;
  }

  weightSpecs(): WeightSpec[] {
    return [];
  }

  override computeOutputShape(inputShape: tfl.Shape[]): tfl.Shape {
    return inputShape[0]!;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = inputs as tf.Tensor[];
    return skipSum(a!, b!, this.skipRescale);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), skipRescale: this.skipRescale };
  }
}
