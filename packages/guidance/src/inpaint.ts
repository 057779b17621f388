import type {
  DDIMSampleOptions,
  DPMSolverPlusPlusOptions,
  PCSampleOptions,
  SampleResult,
} from '@sbm/samplers';
import { describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type KnownNoise, MaskReplacement, readData, sampleWithReplacement } from './replacement.js';

/** What inpainting is given (every inpainting sampler). */
export interface InpaintTarget {
  /** The data whose known part is kept, $x_{\text{known}}$ `[B, ...]` (only its values where `mask` is 1 are read). */
  known: tf.Tensor;
  /**
   * 1 where a value is known, 0 where it is to be generated: `[B, ...]` or any shape broadcastable to
   * `known` (e.g. `[H, W, 1]` for one mask for every image and channel).
   */
  mask: tf.Tensor;
  /** Noise of the re-noised known part (see {@link KnownNoise}); default per sampler. */
  knownNoise?: KnownNoise;
}

/** Options of {@link inpaintPC}: those of `pcSample` (without `shape`) and the {@link InpaintTarget}. */
export interface InpaintPCOptions extends Omit<PCSampleOptions, 'shape'>, InpaintTarget {}
/** Options of {@link inpaintDDIM}: those of `ddimSample` (without `shape`) and the {@link InpaintTarget}. */
export interface InpaintDDIMOptions extends Omit<DDIMSampleOptions, 'shape'>, InpaintTarget {}
/** Options of {@link inpaintDPMSolverPlusPlus}: those of `dpmSolverPlusPlusSample` and the {@link InpaintTarget}. */
export interface InpaintDPMSolverPlusPlusOptions
  extends Omit<DPMSolverPlusPlusOptions, 'shape'>,
    InpaintTarget {}

function broadcastable(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const offset = to.length - from.length;
  return from.every((d, i) => d === 1 || d === to[offset + i]);
}

/** Validates `known` and `mask` and builds the mask replacement. */
function maskReplacement(options: InpaintTarget): MaskReplacement {
  if (!options || typeof options !== 'object') {
    throw new SbmArgumentError('options', `expected an options object, got ${describeValue(options)}`);
  }
  const known = readData('options.known', options.known, 'the known data, a tensor [B, ...]');
  const { mask } = options;
  if (!(mask instanceof tf.Tensor)) {
    throw new SbmArgumentError('options.mask', `expected a 0/1 tensor, got ${describeValue(mask)}`);
  }
  if (!broadcastable(mask.shape, known.shape)) {
    throw new SbmArgumentError(
      'options.mask',
      `expected a shape broadcastable to known [${known.shape.join(',')}], got [${mask.shape.join(',')}]`,
    );
  }
  const binary = tf.tidy(() => tf.all(tf.logicalOr(tf.equal(mask, 0), tf.equal(mask, 1))));
  const ok = binary.dataSync()[0] === 1;
  binary.dispose();
  if (!ok) throw new SbmArgumentError('options.mask', 'expected values in {0, 1} (1 = known)');
  return new MaskReplacement(known, mask);
}

async function inpaintWith(
  options: InpaintTarget,
  run: (replacement: MaskReplacement) => Promise<SampleResult>,
): Promise<SampleResult> {
  const replacement = maskReplacement(options);
  try {
    return await run(replacement);
  } finally {
    replacement.dispose();
  }
}

/**
 * Inpainting with the predictor–corrector sampler (Song et al. 2021, "Score-Based Generative Modeling
 * through Stochastic Differential Equations", Sec. 5 and App. I.2; score_sde's `get_pc_inpainter`):
 * `pcSample` with, at every model evaluation at time $t$, the known values (mask $m = 1$) re-noised to $t$,
 *
 * $$x \leftarrow x \odot (1 - m) + \big(\alpha(t)\, x_{\text{known}} + \sigma(t)\, z\big) \odot m$$
 *
 * (Eq. 49, $z \sim \mathcal{N}(0, I)$ fresh by default), and the result
 * $x \odot (1 - m) + x_{\text{known}} \odot m$: the known values are returned bitwise. `known`, `mask` and the
 * samples are `[B, ...]` (`x [B, H, W, C]` for images); NFE as `pcSample`. See `sampleWithReplacement`
 * in replacement.ts for why replacing the model's input is the same as replacing the state.
 *
 * Replacement is an approximation of conditioning: the unknown part follows the score of
 * $p_t(x_u \mid x_{k,t})$ with a random $x_{k,t}$, not of $p_t(x_u \mid x_{k,0} = x_{\text{known}})$; correctors reduce the
 * bias.
 *
 * @example
 * ```ts
 * const { samples } = await inpaintPC({ sde, model, known: images, mask, snr: 0.16, seed: 1 });
 * ```
 * @throws SbmArgumentError for `known` not a finite tensor `[B, ...]`, a `mask` not broadcastable to it
 * or not 0/1, and every bad option of `pcSample`.
 */
export async function inpaintPC(options: InpaintPCOptions): Promise<SampleResult> {
  return inpaintWith(options, (replacement) =>
    sampleWithReplacement({ sampler: 'pc', options }, replacement, options.knownNoise ?? 'fresh'),
  );
}

/**
 * Inpainting with DDIM (Song et al. 2021, DDIM, Eq. 12) and the replacement of {@link inpaintPC}: before
 * every evaluation at $t$ the known values are $\alpha(t)\, x_{\text{known}} + \sigma(t)\, z$. With $\eta = 0$ the default
 * `knownNoise` is `'fixed'` (one $z$ per sample for the whole run: the known values follow the DDIM
 * trajectory of a single noise draw and the sampler stays deterministic given its seed), with $\eta > 0$
 * `'fresh'`. `known`, `mask`, samples `[B, ...]`; NFE = steps. The known values are returned bitwise.
 */
export async function inpaintDDIM(options: InpaintDDIMOptions): Promise<SampleResult> {
  const noise = options.knownNoise ?? ((options.eta ?? 0) > 0 ? 'fresh' : 'fixed');
  return inpaintWith(options, (replacement) =>
    sampleWithReplacement({ sampler: 'ddim', options }, replacement, noise),
  );
}

/**
 * Inpainting with DPM-Solver++ (Lu et al. 2022b; 2M by default) and the replacement of
 * {@link inpaintPC}: before every evaluation at $t$ the known values are $\alpha(t)\, x_{\text{known}} + \sigma(t)\, z$
 * (`knownNoise` default `'fixed'` for the ODE solver, `'fresh'` for `algorithm: 'sde-dpmsolver++'`).
 * `known`, `mask`, samples `[B, ...]`; NFE = steps. The known values are returned bitwise.
 */
export async function inpaintDPMSolverPlusPlus(
  options: InpaintDPMSolverPlusPlusOptions,
): Promise<SampleResult> {
  const noise = options.knownNoise ?? (options.algorithm === 'sde-dpmsolver++' ? 'fresh' : 'fixed');
  return inpaintWith(options, (replacement) =>
    sampleWithReplacement({ sampler: 'dpmSolverPlusPlus', options }, replacement, noise),
  );
}
