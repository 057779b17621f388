import type {
  DDIMSampleOptions,
  DPMSolverPlusPlusOptions,
  PCSampleOptions,
  SampleResult,
} from '@sbm/samplers';
import { describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  ChannelBasis,
  type KnownNoise,
  MaskReplacement,
  readData,
  sampleWithReplacement,
} from './replacement.js';

/** What colorization is given (every colorization sampler). */
export interface ColorizeTarget {
  /** The grey image $g = \sum_c w_c x_c$, `[B, ...spatial, 1]` (e.g. `[B, H, W, 1]`). */
  grey: tf.Tensor;
  /** Channels `C` of the samples `[B, ...spatial, C]`, default 3. */
  channels?: number;
  /**
   * The weights $w$ of the grey value, `C` numbers; default $1/C$ each (the channel mean, score_sde's
   * grey). Any non-zero weights work (e.g. luma 0.299, 0.587, 0.114).
   */
  channelWeights?: readonly number[];
  /** Noise of the re-noised grey component (see {@link KnownNoise}); default per sampler. */
  knownNoise?: KnownNoise;
}

/** Options of {@link colorizePC}: those of `pcSample` (without `shape`) and the {@link ColorizeTarget}. */
export interface ColorizePCOptions extends Omit<PCSampleOptions, 'shape'>, ColorizeTarget {}
/** Options of {@link colorizeDDIM}: those of `ddimSample` (without `shape`) and the {@link ColorizeTarget}. */
export interface ColorizeDDIMOptions extends Omit<DDIMSampleOptions, 'shape'>, ColorizeTarget {}
/** Options of {@link colorizeDPMSolverPlusPlus}: those of `dpmSolverPlusPlusSample` and the {@link ColorizeTarget}. */
export interface ColorizeDPMSolverPlusPlusOptions
  extends Omit<DPMSolverPlusPlusOptions, 'shape'>,
    ColorizeTarget {}

/** Validates the grey image, channels and weights and builds the channel replacement. */
function channelReplacement(options: ColorizeTarget): { replacement: MaskReplacement; basis: ChannelBasis } {
  if (!options || typeof options !== 'object') {
    throw new SbmArgumentError('options', `expected an options object, got ${describeValue(options)}`);
  }
  const expected = 'a grey image [B, ...spatial, 1]';
  const grey = readData('options.grey', options.grey, expected);
  if (grey.rank < 2 || grey.shape[grey.rank - 1] !== 1) {
    throw new SbmArgumentError(
      'options.grey',
      `expected ${expected} (one channel), got shape [${grey.shape.join(',')}]`,
    );
  }
  const channels = options.channels ?? options.channelWeights?.length ?? 3;
  if (!Number.isInteger(channels) || channels < 2) {
    throw new SbmArgumentError(
      'options.channels',
      `expected an integer >= 2, got ${describeValue(channels)}`,
    );
  }
  const weights = options.channelWeights ?? Array.from({ length: channels }, () => 1 / channels);
  if (
    !Array.isArray(weights) ||
    weights.length !== channels ||
    !weights.every((w) => typeof w === 'number' && Number.isFinite(w)) ||
    !weights.some((w) => w !== 0)
  ) {
    throw new SbmArgumentError(
      'options.channelWeights',
      `expected ${channels} finite numbers, not all zero, got ${describeValue(weights)}`,
    );
  }
  // In the decoupled channels y = x H the first is y_1 = <u, x> = g / |w|, known; the others are free.
  const norm = Math.hypot(...weights);
  const known = tf.tidy(() =>
    tf.mul(tf.cast(grey, 'float32'), tf.tensor1d(Array.from(weights, (_, c) => (c === 0 ? 1 / norm : 0)))),
  );
  const mask = tf.tensor1d(Array.from(weights, (_, c) => (c === 0 ? 1 : 0)));
  const replacement = new MaskReplacement(known, mask);
  tf.dispose([known, mask]);
  return { replacement, basis: new ChannelBasis(weights.map((w) => w / norm)) };
}

async function colorizeWith(
  options: ColorizeTarget,
  run: (replacement: MaskReplacement, basis: ChannelBasis) => Promise<SampleResult>,
): Promise<SampleResult> {
  const { replacement, basis } = channelReplacement(options);
  try {
    return await run(replacement, basis);
  } finally {
    replacement.dispose();
    basis.dispose();
  }
}

/**
 * Colorization with the predictor–corrector sampler (Song et al. 2021, "Score-Based Generative Modeling
 * through Stochastic Differential Equations", Sec. 5 and App. I.3; score_sde's `get_pc_colorizer`): the
 * grey image $g = \langle w, x \rangle$ per pixel ($w$ = `channelWeights`, default the channel mean) is a known
 * coordinate after an orthogonal change of channel basis whose first vector is $u = w/\lVert w \rVert$, so it is
 * inpainting there: at every model evaluation at time $t$ the grey component is re-noised,
 *
 * $$x \leftarrow x + \big(\alpha(t)\, g/\lVert w \rVert + \sigma(t) \langle u, z \rangle - \langle u, x \rangle\big)\, u, \qquad z \sim \mathcal{N}(0, I),$$
 *
 * and the result has $\langle w, x \rangle = g$ to float32 rounding. As in score_sde the sampler runs on the
 * decoupled channels $y = x H$ ($H = I - 2 v v^\top/\lVert v \rVert^2$, $v = e_1 - u$: orthogonal, symmetric, first row
 * $u$), so the known channel never mixes with the others in its state. `grey [B, ...spatial, 1]`, samples
 * `[B, ...spatial, C]`; NFE as `pcSample`. Like all replacement, an approximation of conditioning (see
 * {@link inpaintPC}).
 *
 * @throws SbmArgumentError for a grey image that is not a finite tensor `[B, ...spatial, 1]`, bad
 * `channels`/`channelWeights`, and every bad option of `pcSample`.
 */
export async function colorizePC(options: ColorizePCOptions): Promise<SampleResult> {
  return colorizeWith(options, (replacement, basis) =>
    sampleWithReplacement({ sampler: 'pc', options }, replacement, options.knownNoise ?? 'fresh', basis),
  );
}

/**
 * Colorization (as {@link colorizePC}) with DDIM (Song et al. 2021, DDIM, Eq. 12); `knownNoise` default
 * `'fixed'` with $\eta = 0$, `'fresh'` with $\eta > 0$. `grey [B, ...spatial, 1]`, samples `[B, ...spatial, C]`.
 */
export async function colorizeDDIM(options: ColorizeDDIMOptions): Promise<SampleResult> {
  const noise = options.knownNoise ?? ((options.eta ?? 0) > 0 ? 'fresh' : 'fixed');
  return colorizeWith(options, (replacement, basis) =>
    sampleWithReplacement({ sampler: 'ddim', options }, replacement, noise, basis),
  );
}

/**
 * Colorization (as {@link colorizePC}) with DPM-Solver++ (Lu et al. 2022b); `knownNoise` default
 * `'fixed'` for the ODE solver, `'fresh'` for `'sde-dpmsolver++'`. `grey [B, ...spatial, 1]`, samples
 * `[B, ...spatial, C]`.
 */
export async function colorizeDPMSolverPlusPlus(
  options: ColorizeDPMSolverPlusPlusOptions,
): Promise<SampleResult> {
  const noise = options.knownNoise ?? (options.algorithm === 'sde-dpmsolver++' ? 'fresh' : 'fixed');
  return colorizeWith(options, (replacement, basis) =>
    sampleWithReplacement({ sampler: 'dpmSolverPlusPlus', options }, replacement, noise, basis),
  );
}
