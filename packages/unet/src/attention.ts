import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { groupNormSpecs, ninSpecs, SbmLayer, type SbmLayerArgs, type WeightSpec } from './layer-base.js';
import { groupNorm, linear, skipSum } from './nn-ops.js';
import { single } from './primitive-layers.js';

/** Arguments of {@link AttnBlock}. */
export interface AttnBlockArgs extends SbmLayerArgs {
  channels: number;
  /** GroupNorm groups: 32 (DDPM `AttnBlock`) or min(C/4, 32) (`AttnBlockpp`). */
  numGroups: number;
  /** Divide the residual sum by √2 (`AttnBlockpp` with skip_rescale). */
  skipRescale: boolean;
  /** `default_init` scale of the output projection NIN_3 (0 in DDPM and the CIFAR-10 configs). */
  initScale: number;
}

/**
 * Single-head spatial self-attention block of DDPM (Ho et al. 2020) and DDPM++/NCSN++ (score_sde `AttnBlock`,
 * `AttnBlockpp`): h = GroupNorm(x); q, k, v = NIN_0..2(h) (1×1 projections); A = softmax_j(q_i·k_j/√C) over
 * the H·W positions; out = x + NIN_3(A v), divided by √2 if `skipRescale`. `[B, H, W, C]` → same.
 */
export class AttnBlock extends SbmLayer {
  static readonly className = 'sbm>AttnBlock';
  readonly channels: number;
  readonly numGroups: number;
  readonly skipRescale: boolean;
  readonly initScale: number;

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
