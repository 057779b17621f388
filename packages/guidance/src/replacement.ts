import {
  type DDIMSampleOptions,
  type DPMSolverPlusPlusOptions,
  ddimSample,
  dpmSolverPlusPlusSample,
  ModelAdapter,
  NoiseStreams,
  type PCSampleOptions,
  pcSample,
  type SampleResult,
  type StepCallbackInfo,
  wrapModel,
} from '@sbm/samplers';
import { describeValue, type MarginalCoefficients, type Parameterization, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Noise of the re-noised known part $\alpha(t)\, x_{\text{known}} + \sigma(t)\, z$, $z \sim \mathcal{N}(0, I)$ of the shape
 * of the samples `[B, ...]`: `'fresh'` draws a new $z$ for every model evaluation (score_sde's choice for its
 * stochastic PC samplers); `'fixed'` draws one $z$ per sample for the whole run, so the known part follows the
 * forward trajectory of a single noise draw — the one a deterministic solver (DDIM with $\eta = 0$, the
 * probability-flow DPM-Solver++) would follow for a perfectly denoised coordinate, and which keeps the sampler
 * a deterministic function of its seed.
 */
export type KnownNoise = 'fresh' | 'fixed';

/**
 * The known part of a sample as an orthogonal projection `P` (`P² = P = Pᵀ`, applied per example) and
 * the known clean data `P x_known`. Replacement (Song et al. 2021, "Score-Based Generative Modeling
 * through Stochastic Differential Equations", App. I.2, Eq. 49) keeps `(I − P) x` and sets
 * `P x ← α(t) P x_known + σ(t) P z`.
 */
export abstract class KnownPartReplacement {
  /** `P x_known`, `[B, ...]` (owned: released by {@link dispose}). */
  readonly knownPart: tf.Tensor;

  protected constructor(knownPart: tf.Tensor) {
    this.knownPart = knownPart;
  }

  /** The shape of the samples `[B, ...]`. */
  get shape(): number[] {
    return this.knownPart.shape.slice();
  }

  /** `P v` for `v [B, ...]` (inside a tidy). */
  protected abstract project(v: tf.Tensor): tf.Tensor;

  /**
   * The known part re-noised to time `t`: `(I − P) x + P (α(t) x_known + σ(t) z)`, with `x`, `z [B, ...]`
   * and `z ~ N(0, I)` (a new tensor; inputs not disposed).
   */
  renoise(x: tf.Tensor, t: number, sde: MarginalCoefficients, z: tf.Tensor): tf.Tensor {
    const a = sde.alpha(t);
    const s = sde.sigma(t);
    return tf.tidy(() =>
      tf.add(tf.sub(x, this.project(x)), tf.add(tf.mul(this.knownPart, a), tf.mul(this.project(z), s))),
    );
  }

  /** The known part replaced by its noise-free value at `t`: `(I − P) x + α(t) P x_known` (for display). */
  atMean(x: tf.Tensor, t: number, sde: MarginalCoefficients): tf.Tensor {
    const a = sde.alpha(t);
    return tf.tidy(() => tf.add(tf.sub(x, this.project(x)), tf.mul(this.knownPart, a)));
  }

  /** The clean known part put in: `(I − P) x + P x_known` (a new tensor). */
  finalize(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(tf.sub(x, this.project(x)), this.knownPart));
  }

  /** Releases the tensors held. */
  dispose(): void {
    this.knownPart.dispose();
  }
}

/**
 * `P v = m ⊙ v` with a 0/1 mask broadcast to the samples; the clean known part is put in with `where`.
 * @internal
 */
export class MaskReplacement extends KnownPartReplacement {
  readonly #mask: tf.Tensor;
  readonly #isKnown: tf.Tensor;

  constructor(known: tf.Tensor, mask: tf.Tensor) {
    const full = tf.tidy(() => tf.broadcastTo(tf.cast(mask, 'float32'), known.shape));
    super(tf.tidy(() => tf.mul(tf.cast(known, 'float32'), full)));
    this.#mask = full;
    this.#isKnown = tf.tidy(() => tf.cast(full, 'bool'));
  }

  protected project(v: tf.Tensor): tf.Tensor {
    return tf.mul(v, this.#mask);
  }

  /** `x_known` where known (bitwise), `x` elsewhere. */
  override finalize(x: tf.Tensor): tf.Tensor {
    return tf.where(this.#isKnown, this.knownPart, x);
  }

  override dispose(): void {
    super.dispose();
    tf.dispose([this.#mask, this.#isKnown]);
  }
}

/**
 * A model whose input has its known part re-noised to the evaluation time before the wrapped model
 * sees it (see {@link sampleWithReplacement}). @internal
 */
class ReplacedModel extends ModelAdapter {
  readonly #inner: ModelAdapter;
  readonly #replacement: KnownPartReplacement;
  readonly #noise: () => tf.Tensor;
  readonly #basis: ChannelBasis | undefined;

  constructor(
    inner: ModelAdapter,
    replacement: KnownPartReplacement,
    noise: () => tf.Tensor,
    basis: ChannelBasis | undefined,
  ) {
    super(() => tf.scalar(0), { sde: inner.sde, prediction: inner.prediction, name: inner.name });
    this.#inner = inner;
    this.#replacement = replacement;
    this.#noise = noise;
    this.#basis = basis;
  }

  override async predict(
    x: tf.Tensor,
    t: number,
    to: Parameterization,
    labels?: tf.Tensor,
  ): Promise<tf.Tensor> {
    const z = this.#noise();
    const replaced = this.#replacement.renoise(x, t, this.sde, z);
    z.dispose();
    const basis = this.#basis;
    const input = basis ? basis.toData(replaced) : replaced;
    if (basis) replaced.dispose();
    let out: tf.Tensor;
    try {
      out = await this.#inner.predict(input, t, to, labels);
    } finally {
      input.dispose();
    }
    if (!basis) return out;
    const back = basis.fromData(out);
    out.dispose();
    return back;
  }

  override checkInputShape(shape: readonly number[]): void {
    this.#inner.checkInputShape(shape);
  }
}

/**
 * An orthogonal change of channel basis `x = y H`, `y = x H` with the symmetric orthogonal Householder
 * matrix `H = I − 2 v vᵀ / ‖v‖²`, `v = e_1 − u`, whose first row and column are the unit vector `u`: the
 * decoupling of score_sde's colorizer (any orthonormal completion of `u` gives the same replacement).
 * Samplers then run on `y [B, ..., C]`, where `y_1 = ⟨u, x⟩` is one channel of its own. @internal
 */
export class ChannelBasis {
  readonly #matrix: tf.Tensor2D;
  readonly channels: number;

  constructor(u: readonly number[]) {
    const C = u.length;
    const v = u.map((value, i) => (i === 0 ? 1 : 0) - value);
    const norm2 = v.reduce((s, value) => s + value * value, 0);
    const h = new Float64Array(C * C);
    for (let i = 0; i < C; i++) {
      for (let j = 0; j < C; j++)
        h[i * C + j] = (i === j ? 1 : 0) - (norm2 > 0 ? (2 * v[i]! * v[j]!) / norm2 : 0);
    }
    this.#matrix = tf.tensor2d(Float32Array.from(h), [C, C]);
    this.channels = C;
  }

  /** `x = y H` over the last axis (a new tensor). */
  toData(y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(y, [-1, this.channels]), this.#matrix), y.shape));
  }

  /** `y = x H` (`H` is its own inverse). */
  fromData(x: tf.Tensor): tf.Tensor {
    return this.toData(x);
  }

  dispose(): void {
    this.#matrix.dispose();
  }
}

/** Which sampler of `@sbm/samplers` runs a replacement sampler, with its options. @internal */
export type ReplacementRun =
  | { sampler: 'pc'; options: PCSampleOptions }
  | { sampler: 'ddim'; options: DDIMSampleOptions }
  | { sampler: 'dpmSolverPlusPlus'; options: DPMSolverPlusPlusOptions };

/** Checks a finite float tensor `[B, ...]` of rank ≥ 1. @internal */
export function readData(name: string, value: unknown, expected: string): tf.Tensor {
  if (!(value instanceof tf.Tensor) || value.rank < 1 || value.size === 0) {
    throw new SbmArgumentError(name, `expected ${expected}, got ${describeValue(value)}`);
  }
  if (value.dtype !== 'float32' && value.dtype !== 'int32') {
    throw new SbmArgumentError(name, `expected a float32 tensor, got dtype ${value.dtype}`);
  }
  const finite = tf.tidy(() => tf.all(tf.isFinite(value)));
  const ok = finite.dataSync()[0] === 1;
  finite.dispose();
  if (!ok) throw new SbmArgumentError(name, 'expected finite values, got NaN or Infinity');
  return value;
}

const SEED_OFFSET = 0x6a09e667;

/**
 * Runs a sampler of `@sbm/samplers` with replacement of the known part (Song et al. 2021, App. I.2):
 * before every model evaluation at time `t` the known part of the state is set to the known data
 * re-noised to `t`, `P x ← α(t) P x_known + σ(t) P z`, and the samples returned have the clean known
 * part `P x_known` exactly.
 *
 * The replacement is applied at the model's input rather than to the sampler's state, which needs no
 * change to the samplers: their updates combine the state and the model output coordinate by
 * coordinate with scalar coefficients (reverse diffusion, Euler–Maruyama, ancestral, Langevin with its
 * step size from norms of the noise and of the model output, DDIM, DPM-Solver++), so the unknown part
 * of the state depends on the known part only through the model's input. Replacing the state after
 * every update (score_sde's `get_pc_inpainter`) and replacing the model's input before every evaluation
 * therefore give the same distribution of the unknown part; the known part of the state in between
 * is never read and is overwritten at the end. (score_sde re-noises to the time of the update just
 * made; here the known part is always at the time of the evaluation that reads it.) `onStep` sees the
 * state with its known part at its noise-free value `α(t) P x_known` and `denoised` with `P x_known`.
 * @internal
 */
export async function sampleWithReplacement(
  run: ReplacementRun,
  replacement: KnownPartReplacement,
  knownNoise: KnownNoise,
  basis?: ChannelBasis,
): Promise<SampleResult> {
  const options = run.options;
  if (knownNoise !== 'fresh' && knownNoise !== 'fixed') {
    throw new SbmArgumentError(
      'options.knownNoise',
      `expected 'fresh' or 'fixed', got ${describeValue(knownNoise)}`,
    );
  }
  const { sde } = options;
  if (!sde || typeof sde.alpha !== 'function' || typeof sde.sigma !== 'function') {
    throw new SbmArgumentError('options.sde', `expected an SDE, got ${describeValue(sde)}`);
  }
  const shape = replacement.shape;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!Number.isSafeInteger(seed)) {
    throw new SbmArgumentError('options.seed', `expected a safe integer, got ${describeValue(seed)}`);
  }
  const knownSeed = Number.isSafeInteger(seed + SEED_OFFSET) ? seed + SEED_OFFSET : seed - SEED_OFFSET;
  const streams = new NoiseStreams(knownSeed, shape[0]!, options.firstSample ?? 0);
  const inner =
    options.model instanceof ModelAdapter ? options.model : wrapModel(options.model, { sde, name: 'model' });
  const fixed = knownNoise === 'fixed' ? streams.normal(shape) : undefined;
  const noise = fixed ? () => tf.clone(fixed) : () => streams.normal(shape);
  const model = new ReplacedModel(inner, replacement, noise, basis);
  const toData = (y: tf.Tensor) => (basis ? basis.toData(y) : y);
  const userStep = options.onStep;
  const onStep =
    userStep === undefined
      ? undefined
      : async (info: StepCallbackInfo) => {
          const y = replacement.atMean(info.x, info.t, sde);
          const y0 = replacement.finalize(info.denoised);
          const x = toData(y);
          const denoised = toData(y0);
          try {
            await userStep({ ...info, x, denoised });
          } finally {
            tf.dispose([x, denoised, y, y0]);
          }
        };
  if (userStep !== undefined && typeof userStep !== 'function') {
    throw new SbmArgumentError('options.onStep', `expected a function, got ${describeValue(userStep)}`);
  }
  let ownedXT: tf.Tensor | undefined;
  try {
    const xT = options.xT !== undefined && basis ? basis.fromData(options.xT) : options.xT;
    ownedXT = xT !== options.xT ? xT : undefined;
    const common = { model, seed, shape, onStep, xT };
    let result: SampleResult;
    if (run.sampler === 'pc') result = await pcSample({ ...run.options, ...common });
    else if (run.sampler === 'ddim') result = await ddimSample({ ...run.options, ...common });
    else result = await dpmSolverPlusPlusSample({ ...run.options, ...common });
    const final = replacement.finalize(result.samples);
    result.samples.dispose();
    const samples = toData(final);
    if (samples !== final) final.dispose();
    return { samples, nfe: result.nfe };
  } finally {
    tf.dispose([fixed, ownedXT]);
  }
}
