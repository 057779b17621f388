import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { referenceSigmas } from './config.js';
import { SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { single } from './primitive-layers.js';

/** Maps data in [0, 1] to [−1, 1]: x ↦ 2x − 1 (the reference's `not config.data.centered`). No weights. */
export class CenterInput extends SbmLayer {
  static readonly className = 'sbm>CenterInput';

  weightSpecs(): WeightSpec[] {
    return [];
  }

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.sub(tf.mul(single(inputs), 2), 1));
  }
}

/** Arguments of {@link ScaleBySigma}. */
export interface ScaleBySigmaArgs extends SbmLayerArgs {
  /**
   * `'continuous'`: the time input is σ itself (Fourier embedding); `'table'`: it is an index into the
   * reference's σ table (positional embedding), σ = sigmas[⌊t⌋].
   */
  mode: 'continuous' | 'table';
  sigmaMin: number;
  sigmaMax: number;
  numScales: number;
}

/**
 * Divides the network output by σ (score_sde `scale_by_sigma`, the NCSN parameterization s(x, σ) = f(x, σ)/σ).
 * Inputs `[h [B, H, W, C], t [B]]` → `[B, H, W, C]`.
 */
export class ScaleBySigma extends SbmLayer {
  static readonly className = 'sbm>ScaleBySigma';
  readonly mode: 'continuous' | 'table';
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  readonly numScales: number;

  constructor(args: ScaleBySigmaArgs) {
    super(args);
    this.mode = args.mode;
    this.sigmaMin = args.sigmaMin;
    this.sigmaMax = args.sigmaMax;
    this.numScales = args.numScales;
  }

  weightSpecs(): WeightSpec[] {
    return [];
  }

  override computeOutputShape(inputShape: tfl.Shape[]): tfl.Shape {
    return inputShape[0]!;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [h, t] = inputs as tf.Tensor[];
      const sigma =
        this.mode === 'continuous'
          ? t!
          : tf.gather(tf.tensor1d(referenceSigmas(this)), tf.cast(tf.floor(t!), 'int32'));
      return tf.div(h!, tf.reshape(sigma, [-1, 1, 1, 1]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      mode: this.mode,
      sigmaMin: this.sigmaMin,
      sigmaMax: this.sigmaMax,
      numScales: this.numScales,
    };
  }
}
