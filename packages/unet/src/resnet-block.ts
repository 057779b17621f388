import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Nonlinearity } from './config.js';
import {
  activate,
  convSpecs,
  denseSpecs,
  groupNormSpecs,
  ninSpecs,
  SbmLayer,
  type SbmLayerArgs,
  type WeightSpec,
} from './layer-base.js';
import { conv2dSame, groupNorm, linear, skipSum } from './nn-ops.js';
import { averageDownsample2d, firDownsample2d, firUpsample2d, nearestUpsample2d } from './upfirdn2d.js';

/** Arguments shared by {@link ResnetBlockDDPM} and {@link ResnetBlockBigGAN}. */
export interface ResnetBlockArgs extends SbmLayerArgs {
  inCh: number;
  outCh: number;
  /** Width of the time embedding (4·nf); the block owns `Dense_0` whether or not an embedding is passed. */
  tembDim: number;
  /** Groups of GroupNorm_0 (over inCh) and GroupNorm_1 (over outCh). */
  numGroups: [number, number];
  dropout: number;
  skipRescale: boolean;
  /** `default_init` scale of Conv_1 (0 in DDPM and the CIFAR-10 configs). */
  initScale: number;
  nonlinearity: Nonlinearity;
}

/** Arguments of {@link ResnetBlockBigGAN}. */
export interface ResnetBlockBigGANArgs extends ResnetBlockArgs {
  up?: boolean;
  down?: boolean;
  fir?: boolean;
  firKernel?: number[];
}

type Resample = ((x: tf.Tensor4D) => tf.Tensor4D) | null;

abstract class ResnetBlockBase extends SbmLayer {
  readonly inCh: number;
  readonly outCh: number;
  readonly tembDim: number;
  readonly numGroups: [number, number];
  readonly dropout: number;
  readonly skipRescale: boolean;
  readonly initScale: number;
  readonly nonlinearity: Nonlinearity;

  constructor(args: ResnetBlockArgs) {
    super(args);
    this.inCh = args.inCh;
    this.outCh = args.outCh;
    this.tembDim = args.tembDim;
    this.numGroups = [args.numGroups[0], args.numGroups[1]];
    this.dropout = args.dropout;
    this.skipRescale = args.skipRescale;
    this.initScale = args.initScale;
    this.nonlinearity = args.nonlinearity;
  }

  protected mainSpecs(): WeightSpec[] {
    return [
      ...groupNormSpecs('GroupNorm_0.', this.inCh),
      ...convSpecs('Conv_0.', 3, this.inCh, this.outCh),
      ...denseSpecs('Dense_0.', this.tembDim, this.outCh),
      ...groupNormSpecs('GroupNorm_1.', this.outCh),
      ...convSpecs('Conv_1.', 3, this.outCh, this.outCh, this.initScale),
    ];
  }

  /** Resampling applied to both paths after the first normalization (BigGAN up/down), or null. */
  protected abstract resample(): Resample;
  /** The shortcut projection of x, or x itself. */
  protected abstract shortcut(x: tf.Tensor): tf.Tensor;

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown> = {}): tf.Tensor {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      let x = list[0]!;
      const temb = list[1];
      const act = (t: tf.Tensor) => activate(t, this.nonlinearity);
      const w = (n: string) => this.weight(n);
      let h = act(groupNorm(x, w('GroupNorm_0.weight'), w('GroupNorm_0.bias'), this.numGroups[0], 1e-6));
      const resample = this.resample();
      if (resample !== null) {
        h = resample(h as tf.Tensor4D);
        x = resample(x as tf.Tensor4D);
      }
      h = conv2dSame(h, w('Conv_0.weight'), w('Conv_0.bias'));
      if (temb !== undefined) {
        const bias = linear(act(temb), w('Dense_0.weight'), w('Dense_0.bias'));
        h = tf.add(h, tf.reshape(bias, [-1, 1, 1, this.outCh]));
      }
      h = act(groupNorm(h, w('GroupNorm_1.weight'), w('GroupNorm_1.bias'), this.numGroups[1], 1e-6));
      if (kwargs['training'] === true && this.dropout > 0) h = tf.dropout(h, this.dropout);
      h = conv2dSame(h, w('Conv_1.weight'), w('Conv_1.bias'));
      return skipSum(this.shortcut(x), h, this.skipRescale);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inCh: this.inCh,
      outCh: this.outCh,
      tembDim: this.tembDim,
      numGroups: this.numGroups,
      dropout: this.dropout,
      skipRescale: this.skipRescale,
      initScale: this.initScale,
      nonlinearity: this.nonlinearity,
    };
  }
}

/**
 * The residual block of DDPM (Ho et al. 2020; score_sde `ResnetBlockDDPM` and `ResnetBlockDDPMpp`):
 * h = Conv_0(act(GN_0(x))) + Dense_0(act(temb)); h = Conv_1(Dropout(act(GN_1(h))));
 * out = NIN_0(x) + h if Cin ≠ Cout else x + h, divided by √2 if `skipRescale`.
 * Inputs `x [B, H, W, Cin]` or `[x, temb [B, tembDim]]` → `[B, H, W, Cout]`.
 */
export class ResnetBlockDDPM extends ResnetBlockBase {
  static readonly className = 'sbm>ResnetBlockDDPM';

  weightSpecs(): WeightSpec[] {
    return [
      ...this.mainSpecs(),
      ...(this.inCh !== this.outCh ? ninSpecs('NIN_0.', this.inCh, this.outCh) : []),
    ];
  }

  protected resample(): Resample {
    return null;
  }

  protected shortcut(x: tf.Tensor): tf.Tensor {
    return this.inCh !== this.outCh ? linear(x, this.weight('NIN_0.W'), this.weight('NIN_0.b')) : x;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const x = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [...x.slice(0, 3), this.outCh];
  }
}

/**
 * The BigGAN-style residual block of DDPM++/NCSN++ (Brock et al. 2019; score_sde `ResnetBlockBigGANpp`):
 * like {@link ResnetBlockDDPM} but it can resample by 2 (`up`/`down`, FIR or nearest/average) both paths right
 * after act(GN_0(x)), and the shortcut is a 1×1 conv (`Conv_2`) when Cin ≠ Cout or when resampling.
 * Inputs `x [B, H, W, Cin]` or `[x, temb]` → `[B, H', W', Cout]` with H' = 2H (up), H/2 (down) or H.
 */
export class ResnetBlockBigGAN extends ResnetBlockBase {
  static readonly className = 'sbm>ResnetBlockBigGAN';
  readonly up: boolean;
  readonly down: boolean;
  readonly fir: boolean;
  readonly firKernel: number[];

  constructor(args: ResnetBlockBigGANArgs) {
    super(args);
    this.up = args.up ?? false;
    this.down = args.down ?? false;
    this.fir = args.fir ?? false;
    this.firKernel = [...(args.firKernel ?? [1, 3, 3, 1])];
  }

  private get projects(): boolean {
    return this.inCh !== this.outCh || this.up || this.down;
  }

  weightSpecs(): WeightSpec[] {
    return [...this.mainSpecs(), ...(this.projects ? convSpecs('Conv_2.', 1, this.inCh, this.outCh) : [])];
  }

  protected resample(): Resample {
    if (this.up) return this.fir ? (x) => firUpsample2d(x, this.firKernel) : nearestUpsample2d;
    if (this.down) return this.fir ? (x) => firDownsample2d(x, this.firKernel) : averageDownsample2d;
    return null;
  }

  protected shortcut(x: tf.Tensor): tf.Tensor {
    return this.projects ? conv2dSame(x, this.weight('Conv_2.weight'), this.weight('Conv_2.bias')) : x;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const x = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const scale = (n: number | null) => (n === null ? null : this.up ? n * 2 : this.down ? n / 2 : n);
    return [x[0]!, scale(x[1]!), scale(x[2]!), this.outCh];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), up: this.up, down: this.down, fir: this.fir, firKernel: this.firKernel };
  }
}
