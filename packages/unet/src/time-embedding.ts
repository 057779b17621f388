import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { single } from './primitive-layers.js';

/**
 * Sinusoidal embedding of time steps (Vaswani et al. 2017 as used by DDPM, Ho et al. 2020; score_sde
 * `layers.py` `get_timestep_embedding`): with $h = \lfloor \mathrm{dim}/2 \rfloor$ frequencies
 *
 * $$\omega_i = \exp\Big(-\frac{i \ln 10000}{h - 1}\Big), \quad i = 0, \dots, h - 1,$$
 *
 * $$\operatorname{emb}(t) = \big[\sin(t\omega_0), \dots, \sin(t\omega_{h-1}),
 *   \cos(t\omega_0), \dots, \cos(t\omega_{h-1})\big],$$
 *
 * zero-padded by one column if dim is odd. The frequencies are rounded to float32 as in the reference.
 *
 * @param t - `[B]` time steps (any real values, e.g. 999·t for continuous VP training).
 * @param dim - embedding width (score_sde uses `nf`); at least 4 so that $h - 1 > 0$.
 * @returns `[B, dim]`.
 */
export function positionalEmbedding(t: tf.Tensor1D, dim: number): tf.Tensor2D {
  const half = Math.floor(dim / 2);
  const step = Math.fround(-Math.log(10000) / (half - 1));
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp(Math.fround(i * step)));
  return tf.tidy(() => {
    const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), tf.tensor2d(freqs, [1, half]));
    const emb = tf.concat([tf.sin(args), tf.cos(args)], 1);
    return (
      dim % 2 === 1
        ? tf.pad(emb, [
            [0, 0],
            [0, 1],
          ])
        : emb
    ) as tf.Tensor2D;
  });
}

/** Arguments of {@link PositionalEmbedding}. */
export interface PositionalEmbeddingArgs extends SbmLayerArgs {
  /** Embedding width (score_sde uses `nf`). */
  dim: number;
}

/** Layer form of {@link positionalEmbedding} (the DDPM/DDPM++ time embedding): t `[B]` → `[B, dim]`. No weights. */
export class PositionalEmbedding extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>PositionalEmbedding` in a saved `model.json`;
   * see {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>PositionalEmbedding';
  /** Embedding width. */
  readonly dim: number;

  /** Creates the layer from `args`: `dim`, optional `name`, `trainable`. */
  constructor(args: PositionalEmbeddingArgs) {
    super(args);
    this.dim = args.dim;
  }

  weightSpecs(): WeightSpec[] {
    return [];
  }

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return [inputShape[0]!, this.dim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return positionalEmbedding(single(inputs) as tf.Tensor1D, this.dim);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), dim: this.dim };
  }
}

/** Arguments of {@link GaussianFourierProjection}. */
export interface GaussianFourierProjectionArgs extends SbmLayerArgs {
  /** Number n of random frequencies (score_sde's `embedding_size`, `nf` in NCSN++); the output has 2n features. */
  embeddingSize: number;
  /**
   * Standard deviation s of the random frequencies $W \sim \mathcal{N}(0, s^2)$ (`model.fourier_scale`, 16 for
   * NCSN++).
   */
  scale: number;
}

/**
 * Gaussian Fourier features of the noise level (Tancik et al. 2020; Song et al. 2021, NCSN++; score_sde
 * `layerspp.py` `GaussianFourierProjection`), applied to $\log \sigma$ as score_sde's NCSN++ does: with fixed
 * random frequencies $W \sim \mathcal{N}(0, s^2 I)$, weight `W` `[n]`,
 *
 * $$\operatorname{emb}(\sigma) = \big[\sin(2\pi W \log\sigma),\ \cos(2\pi W \log\sigma)\big].$$
 *
 * W is not trained (`requires_grad=False`). σ `[B]` (σ > 0) → `[B, 2n]`.
 */
export class GaussianFourierProjection extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>GaussianFourierProjection` in a saved
   * `model.json`; see {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>GaussianFourierProjection';
  /** Number n of frequencies (output width 2n). */
  readonly embeddingSize: number;
  /** Standard deviation of the frequencies at initialization. */
  readonly scale: number;

  /** Creates the layer from `args`: `embeddingSize`, `scale`, optional `name`, `trainable`. */
  constructor(args: GaussianFourierProjectionArgs) {
    super(args);
    this.embeddingSize = args.embeddingSize;
    this.scale = args.scale;
  }

  weightSpecs(): WeightSpec[] {
    return [
      { name: 'W', shape: [this.embeddingSize], init: { kind: 'normal', std: this.scale }, trainable: false },
    ];
  }

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return [inputShape[0]!, 2 * this.embeddingSize];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const logSigma = tf.reshape(tf.log(single(inputs)), [-1, 1]);
      const proj = tf.mul(tf.mul(logSigma, tf.reshape(this.weight('W'), [1, -1])), 2 * Math.PI);
      return tf.concat([tf.sin(proj), tf.cos(proj)], 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), embeddingSize: this.embeddingSize, scale: this.scale };
  }
}

/** Arguments of {@link ClassEmbedding}. */
export interface ClassEmbeddingArgs extends SbmLayerArgs {
  /** Number K of real classes; the table has K + 1 rows, row K being the null class. */
  numClasses: number;
  /** Width of the time embedding the class embedding is added to (4·nf in the U-Net). */
  dim: number;
}

/**
 * Learned class embedding added to the time embedding, for class-conditional and classifier-free guided
 * models (Ho & Salimans 2022): $t_{\mathrm{emb}} + E_y$ for label $y \in \lbrace 0, \dots, K \rbrace$, with the table
 * `weight` E `[K + 1, dim]` (init $\mathcal{N}(0, 1)$, K = numClasses), where label K is the null (unconditional)
 * class. Not part of the score_sde reference. Inputs `[temb [B, dim], labels [B]]` → `[B, dim]`.
 */
export class ClassEmbedding extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>ClassEmbedding` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>ClassEmbedding';
  /** Number K of real classes (label K is the null class). */
  readonly numClasses: number;
  /** Embedding width. */
  readonly dim: number;

  /** Creates the layer from `args`: `numClasses`, `dim`, optional `name`, `trainable`. */
  constructor(args: ClassEmbeddingArgs) {
    super(args);
    this.numClasses = args.numClasses;
    this.dim = args.dim;
  }

  weightSpecs(): WeightSpec[] {
    return [{ name: 'weight', shape: [this.numClasses + 1, this.dim], init: { kind: 'normal', std: 1 } }];
  }

  override computeOutputShape(inputShape: tfl.Shape[]): tfl.Shape {
    return inputShape[0]!;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [temb, labels] = inputs as tf.Tensor[];
      const ids = tf.cast(labels!, 'int32');
      return tf.add(temb!, tf.gather(this.weight('weight'), ids));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numClasses: this.numClasses, dim: this.dim };
  }
}
