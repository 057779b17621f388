import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { referenceSigmas } from './config.js';
import { SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { single } from './primitive-layers.js';

/**
 * Maps data in [0, 1] to [−1, 1], $x \mapsto 2x - 1$: the input scaling score_sde's networks apply when
 * `config.data.centered` is false. No weights. `[B, H, W, C]` → `[B, H, W, C]`.
 */
export class CenterInput extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>CenterInput` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
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
   * `'continuous'`: the time input t is σ itself (Fourier embedding); `'table'`: it is an index into the
   * reference's σ table (positional embedding), $\sigma = \sigma_{\lfloor t \rfloor}$ with $\sigma_i$ from
   * {@link referenceSigmas}.
   */
  mode: 'continuous' | 'table';
  /** Smallest σ of the table (`model.sigma_min`); used only in `'table'` mode. */
  sigmaMin: number;
  /** Largest σ of the table (`model.sigma_max`); used only in `'table'` mode. */
  sigmaMax: number;
  /** Length N of the table (`model.num_scales`); t must lie in [0, N). Used only in `'table'` mode. */
  numScales: number;
}

/**
 * Divides the network output by σ (score_sde's `model.scale_by_sigma`, the NCSN parameterization of Song & Ermon
 * 2020): $s_\theta(x, \sigma) = f_\theta(x, \sigma) / \sigma$, σ broadcast over H, W and C. No weights.
 * Inputs `[h [B, H, W, C], t [B]]` → `[B, H, W, C]`.
 */
export class ScaleBySigma extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>ScaleBySigma` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>ScaleBySigma';
  /**
   * How σ is obtained from the time input: the input itself (`'continuous'`) or a lookup in the σ table
   * (`'table'`).
   */
  readonly mode: 'continuous' | 'table';
  /** Smallest σ of the table. */
  readonly sigmaMin: number;
  /** Largest σ of the table. */
  readonly sigmaMax: number;
  /** Length of the table. */
  readonly numScales: number;

  /** Creates the layer from `args`: `mode`, `sigmaMin`, `sigmaMax`, `numScales`, optional `name`, `trainable`. */
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
