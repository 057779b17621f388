import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Nonlinearity } from './config.js';
import {
  activate,
  convSpecs,
  denseSpecs,
  groupNormSpecs,
  SbmLayer,
  type SbmLayerArgs,
  type WeightSpec,
} from './layer-base.js';
import { conv2dSame, groupNorm, linear } from './nn-ops.js';

/** Arguments of {@link Conv2d}. */
export interface Conv2dArgs extends SbmLayerArgs {
  /** Input channels Cin (last axis of the input). */
  inCh: number;
  /** Output channels Cout. */
  outCh: number;
  /** Kernel size k: 3 (`ddpm_conv3x3`) or 1 (`ddpm_conv1x1`). */
  kernelSize: number;
  /** Scale s of the weight's `default_init(s)` (see {@link WeightInit}); default 1, 0 for zero-ish output layers. */
  initScale?: number;
}

/**
 * score_sde's `ddpm_conv3x3` / `ddpm_conv1x1` (`layers.py`): a stride-1 convolution with zero padding
 * $\lfloor k/2 \rfloor$ (PyTorch `padding=k//2`, i.e. 'same'), $y = W \star x + b$, with weight `weight`
 * `[k, k, Cin, Cout]` (OIHW in PyTorch) initialized by `default_init(initScale)` and bias `bias` `[Cout]` = 0.
 * `[B, H, W, Cin]` → `[B, H, W, Cout]`.
 */
export class Conv2d extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>Conv2d` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>Conv2d';
  /** Input channels Cin. */
  readonly inCh: number;
  /** Output channels Cout. */
  readonly outCh: number;
  /** Kernel size k (1 or 3). */
  readonly kernelSize: number;
  /** Scale of the weight's `default_init` (default 1). */
  readonly initScale: number;

  /**
   * Creates the convolution from `args`: `inCh`, `outCh`, `kernelSize`, optional `initScale`, `name`, `trainable`.
   */
  constructor(args: Conv2dArgs) {
    super(args);
    this.inCh = args.inCh;
    this.outCh = args.outCh;
    this.kernelSize = args.kernelSize;
    this.initScale = args.initScale ?? 1;
  }

  weightSpecs(): WeightSpec[] {
    return convSpecs('', this.kernelSize, this.inCh, this.outCh, this.initScale);
  }

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return [...inputShape.slice(0, 3), this.outCh];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => conv2dSame(single(inputs), this.weight('weight'), this.weight('bias')));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inCh: this.inCh,
      outCh: this.outCh,
      kernelSize: this.kernelSize,
      initScale: this.initScale,
    };
  }
}

/** Arguments of {@link GroupNorm}. */
export interface GroupNormArgs extends SbmLayerArgs {
  /** Channels C (last axis of the input); must be divisible by `numGroups`. */
  channels: number;
  /**
   * Number of groups G: 32 in DDPM (`layers.py`), $\min(\lfloor C/4 \rfloor, 32)$ in NCSN++/DDPM++ (`layerspp.py`).
   */
  numGroups: number;
  /** Default 1e−6, as everywhere in score_sde. */
  epsilon?: number;
  /** Nonlinearity applied after the normalization (the reference's `act(GroupNorm(h))`), or none. */
  activation?: Nonlinearity | null;
}

/**
 * Group normalization (Wu & He 2018) as score_sde's `nn.GroupNorm(numGroups, channels, eps=1e-6)`, optionally
 * followed by the network nonlinearity. For each example and each group $g$ of $C/G$ consecutive channels, with
 * $\mu_g$ and $\sigma_g^2$ the mean and biased variance of the group's $n = HWC/G$ values, every channel $c$ of the
 * group gives
 *
 * $$y_c = \gamma_c \, \frac{x_c - \mu_g}{\sqrt{\sigma_g^2 + \epsilon}} + \beta_c,$$
 *
 * then $y \mapsto \operatorname{act}(y)$ if `activation` is set (the reference's `act(GroupNorm(h))`). Weights
 * `weight` ($\gamma$, init 1) and `bias` ($\beta$, init 0), both `[C]`. `[B, H, W, C]` → `[B, H, W, C]`; computed by
 * {@link groupNorm}.
 */
export class GroupNorm extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>GroupNorm` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>GroupNorm';
  /** Channels C. */
  readonly channels: number;
  /** Number of groups G (divides C). */
  readonly numGroups: number;
  /** $\epsilon$ added to the variance (default 1e−6). */
  readonly epsilon: number;
  /** Nonlinearity applied after normalizing, or null for none (default). */
  readonly activation: Nonlinearity | null;

  /**
   * Creates the layer from `args`: `channels`, `numGroups`, optional `epsilon`, `activation`, `name`, `trainable`.
   */
  constructor(args: GroupNormArgs) {
    super(args);
    this.channels = args.channels;
    this.numGroups = args.numGroups;
    this.epsilon = args.epsilon ?? 1e-6;
    this.activation = args.activation ?? null;
  }

  weightSpecs(): WeightSpec[] {
    return groupNormSpecs('', this.channels);
  }

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const h = groupNorm(
        single(inputs),
        this.weight('weight'),
        this.weight('bias'),
        this.numGroups,
        this.epsilon,
      );
      return this.activation === null ? h : activate(h, this.activation);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      channels: this.channels,
      numGroups: this.numGroups,
      epsilon: this.epsilon,
      activation: this.activation,
    };
  }
}

/** Arguments of {@link Dense}. */
export interface DenseArgs extends SbmLayerArgs {
  /** Input features (last axis of the input). */
  inDim: number;
  /** Output features. */
  outDim: number;
  /** Nonlinearity applied to the input first (the reference's `Dense(act(temb))`), or none. */
  inputActivation?: Nonlinearity | null;
}

/**
 * `nn.Linear(inDim, outDim)` with score_sde's `default_init()` weight and a zero bias (the time-embedding MLP):
 * $y = \operatorname{act}(x)\,W + b$, where act is applied only if `inputActivation` is set; `weight` $W$ is
 * `[in, out]` (PyTorch stores `[out, in]`), `bias` $b$ is `[out]`. `[B, in]` → `[B, out]`.
 */
export class Dense extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>Dense` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>Dense';
  /** Input features. */
  readonly inDim: number;
  /** Output features. */
  readonly outDim: number;
  /** Nonlinearity applied to the input before the linear map, or null for none (default). */
  readonly inputActivation: Nonlinearity | null;

  /** Creates the layer from `args`: `inDim`, `outDim`, optional `inputActivation`, `name`, `trainable`. */
  constructor(args: DenseArgs) {
    super(args);
    this.inDim = args.inDim;
    this.outDim = args.outDim;
    this.inputActivation = args.inputActivation ?? null;
  }

  weightSpecs(): WeightSpec[] {
    return denseSpecs('', this.inDim, this.outDim);
  }

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return [inputShape[0]!, this.outDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const a = this.inputActivation === null ? x : activate(x, this.inputActivation);
      return linear(a, this.weight('weight'), this.weight('bias'));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inDim: this.inDim,
      outDim: this.outDim,
      inputActivation: this.inputActivation,
    };
  }
}

/** The single input of a one-input layer. */
export function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0]! : inputs;
}
