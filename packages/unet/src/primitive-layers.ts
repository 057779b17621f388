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
  inCh: number;
  outCh: number;
  /** 1 or 3. */
  kernelSize: number;
  /** `default_init(initScale)` (default 1). */
  initScale?: number;
}

/**
 * score_sde's `ddpm_conv3x3` / `ddpm_conv1x1`: a stride-1 convolution with PyTorch padding k/2, weight `[k, k,
 * Cin, Cout]` (OIHW in PyTorch), bias `[Cout]`. `[B, H, W, Cin]` → `[B, H, W, Cout]`.
 */
export class Conv2d extends SbmLayer {
  static readonly className = 'sbm>Conv2d';
  readonly inCh: number;
  readonly outCh: number;
  readonly kernelSize: number;
  readonly initScale: number;

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
  channels: number;
  numGroups: number;
  /** Default 1e−6, as everywhere in score_sde. */
  epsilon?: number;
  /** Nonlinearity applied after the normalization (the reference's `act(GroupNorm(h))`), or none. */
  activation?: Nonlinearity | null;
}

/**
 * `nn.GroupNorm(numGroups, channels, eps=1e-6)` on `[B, H, W, C]`, optionally followed by the network
 * nonlinearity. Weights `weight` (γ) and `bias` (β), `[C]`.
 */
export class GroupNorm extends SbmLayer {
  static readonly className = 'sbm>GroupNorm';
  readonly channels: number;
  readonly numGroups: number;
  readonly epsilon: number;
  readonly activation: Nonlinearity | null;

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
  inDim: number;
  outDim: number;
  /** Nonlinearity applied to the input first (the reference's `Dense(act(temb))`), or none. */
  inputActivation?: Nonlinearity | null;
}

/**
 * `nn.Linear(inDim, outDim)` with `default_init()`: y = act?(x)·W + b, W `[in, out]` (PyTorch stores
 * `[out, in]`). `[B, in]` → `[B, out]`.
 */
export class Dense extends SbmLayer {
  static readonly className = 'sbm>Dense';
  readonly inDim: number;
  readonly outDim: number;
  readonly inputActivation: Nonlinearity | null;

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
