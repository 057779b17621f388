import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { groupNormSpecs, ninSpecs, SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { groupNorm, linear, skipSum } from './nn-ops.js';
import { single } from './primitive-layers.js';

/** Arguments of {@link AttnBlock}. */
export interface AttnBlockArgs extends SbmLayerArgs {
  /** Channels C of the input and output (also the width of q, k and v). */
  channels: number;
  /** GroupNorm groups: 32 (DDPM `AttnBlock`) or $\min(\lfloor C/4 \rfloor, 32)$ (`AttnBlockpp`). */
  numGroups: number;
  /** Divide the residual sum by $\sqrt{2}$ (`AttnBlockpp` with `skip_rescale`; false in DDPM). */
  skipRescale: boolean;
  /**
   * `default_init` scale of the output projection NIN_3 (`model.init_scale`: 0 in DDPM and the CIFAR-10 configs,
   * replaced by 1e−10).
   */
  initScale: number;
}

/**
 * Single-head spatial self-attention block of DDPM (Ho et al. 2020) and DDPM++/NCSN++ (score_sde `layers.py`
 * `AttnBlock`, `layerspp.py` `AttnBlockpp`). With $h = \operatorname{GroupNorm}(x)$ and the 1×1 projections
 * (`NIN_0` … `NIN_2`, weights `[C, C]`) $q = \mathrm{NIN}_0(h)$, $k = \mathrm{NIN}_1(h)$, $v = \mathrm{NIN}_2(h)$
 * at each of the $N = HW$ positions,
 *
 * $$A_{ij} = \operatorname{softmax}_j\Big(\frac{q_i \cdot k_j}{\sqrt{C}}\Big), \qquad
 *   \mathrm{out}_i = x_i + \mathrm{NIN}_3\Big(\sum_j A_{ij} v_j\Big),$$
 *
 * and the output is divided by $\sqrt{2}$ if `skipRescale`. `[B, H, W, C]` → `[B, H, W, C]`.
 */
export class AttnBlock extends SbmLayer {
  /**
   * Name under which tfjs registers and serializes this class (`sbm>AttnBlock` in a saved `model.json`; see
   * {@link registerUNetLayers}).
   */
  static readonly className = 'sbm>AttnBlock';
  /** Channels C of the input and output. */
  readonly channels: number;
  /** GroupNorm groups (divides C). */
  readonly numGroups: number;
  /** Whether the residual sum is divided by $\sqrt{2}$. */
  readonly skipRescale: boolean;
  /** `default_init` scale of the output projection NIN_3. */
  readonly initScale: number;

  /**
   * Creates the block from `args`: `channels`, `numGroups`, `skipRescale`, `initScale`, optional `name`,
   * `trainable`.
   */
  constructor(args: AttnBlockArgs) {
    super(args);
    this.channels = args.channels;
    this.numGroups = args.numGroups;
    this.skipRescale = args.skipRescale;
    this.initScale = args.initScale;
  }

  weightSpecs(): WeightSpec[] {
    const c = this.channels;
    return [
      ...groupNormSpecs('GroupNorm_0.', c),
      ...ninSpecs('NIN_0.', c, c),
      ...ninSpecs('NIN_1.', c, c),
      ...ninSpecs('NIN_2.', c, c),
      ...ninSpecs('NIN_3.', c, c, this.initScale),
    ];
  }

  override computeOutputShape(inputShape: tfl.Shape): tfl.Shape {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const [b, hh, ww, c] = x.shape as [number, number, number, number];
      const h = groupNorm(
        x,
        this.weight('GroupNorm_0.weight'),
        this.weight('GroupNorm_0.bias'),
        this.numGroups,
        1e-6,
      );
      const project = (i: number) =>
        tf.reshape(linear(h, this.weight(`NIN_${i}.W`), this.weight(`NIN_${i}.b`)), [
          b,
          hh * ww,
          c,
        ]) as tf.Tensor3D;
      const q = project(0);
      const k = project(1);
      const v = project(2);
      const logits = tf.mul(tf.matMul(q, k, false, true), c ** -0.5);
      const attended = tf.reshape(tf.matMul(tf.softmax(logits, -1), v), [b, hh, ww, c]);
      const out = linear(attended, this.weight('NIN_3.W'), this.weight('NIN_3.b'));
      return skipSum(x, out, this.skipRescale);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      channels: this.channels,
      numGroups: this.numGroups,
      skipRescale: this.skipRescale,
      initScale: this.initScale,
    };
  }
}
