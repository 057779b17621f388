import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { single } from './primitive-layers.js';

/**
 * Sinusoidal embedding of time steps (Vaswani et al. 2017 as used by DDPM, Ho et al. 2020; score_sde
 * `get_timestep_embedding`): with h = dim/2 and ω_i = exp(−i·ln(10000)/(h − 1)), i = 0…h−1,
 * emb(t) = [sin(t·ω_0), …, sin(t·ω_{h−1}), cos(t·ω_0), …, cos(t·ω_{h−1})] (zero-padded if dim is odd).
 * The frequencies are rounded to float32 as in the reference.
 *
 * @param t - `[B]` time steps (any real values, e.g. 999·t for continuous VP training).
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
  dim: number;
}

/** Layer form of {@link positionalEmbedding}: t `[B]` → `[B, dim]`. No weights. */
export class PositionalEmbedding extends SbmLayer {
  static readonly className = 'sbm>PositionalEmbedding';
  readonly dim: number;

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
  embeddingSize: number;
  /** Std of the random frequencies W ~ N(0, scale²) (`model.fourier_scale`, 16 for NCSN++). */
  scale: number;
}

/**
 * Gaussian Fourier features of the noise level (Tancik et al. 2020; Song et al. 2021, NCSN++), applied to
 * log σ as in score_sde: with fixed W ~ N(0, scale²) `[n]`, emb(σ) = [sin(2π·log σ·W), cos(2π·log σ·W)].
 * W is not trained. σ `[B]` → `[B, 2n]`.
 */
export class GaussianFourierProjection extends SbmLayer {
  static readonly className = 'sbm>GaussianFourierProjection';
  readonly embeddingSize: number;
  readonly scale: number;

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
  numClasses: number;
  dim: number;
}

/**
 * Learned class embedding added to the time embedding, for class-conditional and classifier-free guided
 * models (Ho & Salimans 2022): temb + E[label], E `[numClasses + 1, dim]`, where label `numClasses` is the
 * null (unconditional) class. Not part of the score_sde reference. Inputs `[temb [B, dim], labels [B]]`.
 */
export class ClassEmbedding extends SbmLayer {
  static readonly className = 'sbm>ClassEmbedding';
  readonly numClasses: number;
  readonly dim: number;

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
