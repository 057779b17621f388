import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ProgressiveCombine } from './config.js';
import { convSpecs, SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { conv2dSame, skipSum } from './nn-ops.js';

/** Arguments of {@link Combine}. */
export interface CombineArgs extends SbmLayerArgs {
  /** Channels of the input-pyramid image. */
  dim1: number;
  /** Channels of the features (and of the projected pyramid image). */
  dim2: number;
  /** `'cat'`: concatenate on channels (output dim2 · 2 channels); `'sum'`: add (`model.progressive_combine`). */
  method: ProgressiveCombine;
}

/**
 * Combines the input pyramid with features (score_sde `layerspp.py` `Combine`, NCSN++ with
 * `progressive_input = 'input_skip'`): with the 1×1 convolution $p' = \mathrm{Conv}_0(p)$ (dim1 → dim2, weight
 * `[1, 1, dim1, dim2]`), the output is the channel concatenation $[p', h]$ (`'cat'`) or $p' + h$ (`'sum'`).
 * Inputs `[p [B, H, W, dim1], h [B, H, W, dim2]]` → `[B, H, W, 2·dim2]` ('cat') or `[B, H, W, dim2]` ('sum').
 */
export class Combine extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>Combine` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>Combine';
  /** Channels of the input-pyramid image. */
  readonly dim1: number;
  /** Channels of the features. */
  readonly dim2: number;
  /** `'cat'` (concatenate) or `'sum'` (add). */
  readonly method: ProgressiveCombine;

  /** Creates the layer from `args`: `dim1`, `dim2`, `method`, optional `name`, `trainable`. */
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
  /** Divide the sum by $\sqrt{2}$ (score_sde's `skip_rescale`). */
  skipRescale: boolean;
}

/**
 * Sum of two equal-shaped tensors for the progressive `'residual'` paths of NCSN++ (`ncsnpp.py`):
 * $(a + b)/\sqrt{2}$ if `skipRescale`, else $a + b$. No weights. Inputs `[a, b]`, both `[B, H, W, C]` →
 * `[B, H, W, C]`.
 */
export class SkipAdd extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>SkipAdd` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>SkipAdd';
  /** Whether the sum is divided by $\sqrt{2}$. */
  readonly skipRescale: boolean;

  /** Creates the layer from `args`: `skipRescale`, optional `name`, `trainable`. */
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
