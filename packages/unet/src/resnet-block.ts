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
  /** Input channels Cin. */
  inCh: number;
  /** Output channels Cout (`out_ch`); a shortcut projection is added when it differs from Cin. */
  outCh: number;
  /** Width of the time embedding (4·nf); the block owns `Dense_0` whether or not an embedding is passed. */
  tembDim: number;
  /** Groups of GroupNorm_0 (over inCh) and GroupNorm_1 (over outCh). */
  numGroups: [number, number];
  /** Dropout rate in [0, 1) before Conv_1 (`model.dropout`), applied only in training. */
  dropout: number;
  /** Divide the residual sum by $\sqrt{2}$ (`model.skip_rescale`; false in DDPM). */
  skipRescale: boolean;
  /** `default_init` scale of Conv_1 (0 in DDPM and the CIFAR-10 configs). */
  initScale: number;
  /** The block's nonlinearity act (`model.nonlinearity`). */
  nonlinearity: Nonlinearity;
}

/** Arguments of {@link ResnetBlockBigGAN}. */
export interface ResnetBlockBigGANArgs extends ResnetBlockArgs {
  /** Upsample both paths by 2 (`up=True` in `ResnetBlockBigGANpp`). Default false. */
  up?: boolean;
  /** Downsample both paths by 2 (`down=True`). Default false; at most one of `up` and `down` is set. */
  down?: boolean;
  /**
   * Resample with the FIR filter of `firKernel` (`model.fir`) instead of nearest neighbour / average pooling.
   * Default false.
   */
  fir?: boolean;
  /** 1-D FIR kernel (`model.fir_kernel`), default `[1, 3, 3, 1]`; see {@link setupFirKernel}. */
  firKernel?: number[];
}

type Resample = ((x: tf.Tensor4D) => tf.Tensor4D) | null;

abstract class ResnetBlockBase extends SbmLayer {
  /** Input channels Cin. */
  readonly inCh: number;
  /** Output channels Cout. */
  readonly outCh: number;
  /** Width of the time embedding (input of `Dense_0`). */
  readonly tembDim: number;
  /** Groups of GroupNorm_0 (over Cin) and GroupNorm_1 (over Cout). */
  readonly numGroups: [number, number];
  /** Dropout rate before Conv_1 (training only). */
  readonly dropout: number;
  /** Whether the residual sum is divided by $\sqrt{2}$. */
  readonly skipRescale: boolean;
  /** `default_init` scale of Conv_1. */
  readonly initScale: number;
  /** The nonlinearity act. */
  readonly nonlinearity: Nonlinearity;

  /**
   * Creates the block from `args`: `inCh`, `outCh`, `tembDim`, `numGroups`, `dropout`, `skipRescale`, `initScale`,
   * `nonlinearity`, optional `name`, `trainable`.
   */
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

  /**
   * The weights both block types have, in PyTorch registration order: `GroupNorm_0` `[Cin]`, `Conv_0` 3×3 Cin →
   * Cout, `Dense_0` `[tembDim, Cout]`, `GroupNorm_1` `[Cout]`, `Conv_1` 3×3 Cout → Cout
   * (`default_init(initScale)`).
   */
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

  /** The constructor arguments, as tfjs serializes them into `model.json` (read back by `fromConfig`). */
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
 * The residual block of DDPM (Ho et al. 2020; score_sde `layers.py` `ResnetBlockDDPM` and `layerspp.py`
 * `ResnetBlockDDPMpp`), with GN the group norms, act the nonlinearity and $t_{\mathrm{emb}}$ the time embedding:
 *
 * $$\begin{aligned}
 *   h &= \mathrm{Conv}_0\big(\operatorname{act}(\mathrm{GN}_0(x))\big)
 *     + \mathrm{Dense}_0\big(\operatorname{act}(t_{\mathrm{emb}})\big), \\
 *   h &= \mathrm{Conv}_1\big(\operatorname{Dropout}(\operatorname{act}(\mathrm{GN}_1(h)))\big), \\
 *   \mathrm{out} &= \big(S(x) + h\big) / \sqrt{2} \ \text{ if skipRescale, else } S(x) + h,
 * \end{aligned}$$
 *
 * where the shortcut $S(x)$ is the 1×1 projection $\mathrm{NIN}_0(x)$ if Cin ≠ Cout, else $x$; the Dense_0 term
 * is left out when no embedding is passed. Inputs `x [B, H, W, Cin]` or `[x, temb [B, tembDim]]` → `[B, H, W, Cout]`.
 */
export class ResnetBlockDDPM extends ResnetBlockBase {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>ResnetBlockDDPM` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
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
 * The BigGAN-style residual block of DDPM++/NCSN++ (Brock et al. 2019; score_sde `layerspp.py`
 * `ResnetBlockBigGANpp`): like {@link ResnetBlockDDPM}, but with a resampling R by 2 (`up`/`down`, FIR or
 * nearest/average; identity otherwise) applied to both paths right after the first normalization,
 *
 * $$\begin{aligned}
 *   h &= \mathrm{Conv}_0\big(R(\operatorname{act}(\mathrm{GN}_0(x)))\big)
 *     + \mathrm{Dense}_0\big(\operatorname{act}(t_{\mathrm{emb}})\big), \\
 *   h &= \mathrm{Conv}_1\big(\operatorname{Dropout}(\operatorname{act}(\mathrm{GN}_1(h)))\big), \\
 *   \mathrm{out} &= \big(S(R(x)) + h\big) / \sqrt{2} \ \text{ if skipRescale, else } S(R(x)) + h,
 * \end{aligned}$$
 *
 * where the shortcut $S$ is the 1×1 convolution `Conv_2` when Cin ≠ Cout or when resampling, else the identity.
 * Inputs `x [B, H, W, Cin]` or `[x, temb [B, tembDim]]` → `[B, H', W', Cout]` with H' = 2H (up), H/2 (down) or H.
 */
export class ResnetBlockBigGAN extends ResnetBlockBase {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>ResnetBlockBigGAN` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>ResnetBlockBigGAN';
  /** Whether the block upsamples by 2. */
  readonly up: boolean;
  /** Whether the block downsamples by 2. */
  readonly down: boolean;
  /** Whether resampling uses the FIR filter (else nearest neighbour / average pooling). */
  readonly fir: boolean;
  /** The 1-D FIR kernel (a copy of the argument, default `[1, 3, 3, 1]`). */
  readonly firKernel: number[];

  /**
   * Creates the block from `args`: those of {@link ResnetBlockArgs} plus optional `up`, `down`, `fir`, `firKernel`.
   */
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

  /** The constructor arguments, as tfjs serializes them into `model.json` (read back by `fromConfig`). */
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), up: this.up, down: this.down, fir: this.fir, firKernel: this.firKernel };
  }
}
