import {
  assertInteger,
  describeValue,
  type MarginalCoefficients,
  type Parameterization,
  SbmArgumentError,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { ModelAdapter, type ModelLike, wrapModel } from './model-adapter.js';
import { NoiseStreams } from './noise-streams.js';
import { SbmSamplingError } from './sampling-error.js';
import type { StepInfo, StepOutput } from './stepper.js';

const CPU_BACKENDS = new Set(['cpu', 'wasm', 'tensorflow']);

/** What `onStep` receives after every step. Tensors are valid only during the call (they are disposed after). */
export interface StepCallbackInfo {
  /** Step index, 0-based. */
  index: number;
  /** Total number of steps (for adaptive solvers: accepted steps so far + 1 while running). */
  steps: number;
  /** Time reached by the step (0 means clean data). */
  t: number;
  /** The state after the step, `[B, ...]`. */
  x: tf.Tensor;
  /**
   * The model's denoised estimate $\hat x_0$ from the evaluation that started the step, `[B, ...]` (the state
   * itself where a sampler has no such evaluation: corrector-only PC).
   */
  denoised: tf.Tensor;
}

/** Options every sampler takes. */
export interface SamplerBaseOptions<M extends MarginalCoefficients = MarginalCoefficients> {
  /** The forward process: an SDE (or, for DDPM/DDIM, the marginals of a discrete schedule). */
  sde: M;
  /** A {@link ModelAdapter} from `wrapModel`, or a score function `(x, t) => score` giving $\nabla_x \log p_t(x)$ (continuous t). */
  model: ModelAdapter | ModelLike;
  /** Output shape `[B, ...]`; not needed when `xT` is given. */
  shape?: readonly number[];
  /** Starting state at `t = T` (not disposed); default a draw of the prior from the noise streams. */
  xT?: tf.Tensor;
  /** Seed of the per-sample noise streams (see {@link NoiseStreams}); default random. */
  seed?: number;
  /** Global index of the first sample, to split one seeded run into batches; default 0. */
  firstSample?: number;
  /** Class labels `[B, ...]` passed to the model as its third input. */
  labels?: tf.Tensor;
  /** Called after every step (awaited). */
  onStep?: (info: StepCallbackInfo) => void | Promise<void>;
  /** Aborts sampling between steps (the signal's reason is thrown). */
  signal?: AbortSignal;
  /** Check after every step that the state is finite (one scalar read per step); default true. */
  checkFinite?: boolean;
}

/** What every sampler returns. */
export interface SampleResult {
  /** The samples `[B, ...]` (the caller owns them). */
  samples: tf.Tensor;
  /** Number of model evaluations (network function evaluations, NFE). */
  nfe: number;
}

/**
 * The bookkeeping every sampler shares: model evaluation and NFE count, per-sample noise, the
 * per-step callback, abort and finiteness checks.
 * @internal
 */
export class SamplingRun {
  readonly sampler: string;
  readonly sde: MarginalCoefficients;
  readonly model: ModelAdapter;
  readonly shape: number[];
  readonly streams: NoiseStreams;
  nfe = 0;
  readonly #options: SamplerBaseOptions;

  constructor(sampler: string, options: SamplerBaseOptions) {
    if (!options || typeof options !== 'object') {
      throw new SbmArgumentError('options', `expected an options object, got ${describeValue(options)}`);
    }
    const { sde, model, xT, labels } = options;
    if (!sde || typeof sde.alpha !== 'function' || typeof sde.sigma !== 'function') {
      throw new SbmArgumentError('options.sde', `expected an SDE, got ${describeValue(sde)}`);
    }
    this.sampler = sampler;
    this.sde = sde;
    this.model = model instanceof ModelAdapter ? model : wrapModel(model, { sde, name: 'model' });
    let shape: number[];
    if (xT !== undefined) {
      if (!(xT instanceof tf.Tensor) || xT.rank < 1) {
        throw new SbmArgumentError('options.xT', `expected a tensor [B, ...], got ${describeValue(xT)}`);
      }
      if (options.shape !== undefined && !tf.util.arraysEqual([...options.shape], xT.shape)) {
        throw new SbmArgumentError(
          'options.shape',
          `expected the shape of xT [${xT.shape.join(',')}], got [${options.shape.join(',')}]`,
        );
      }
      shape = xT.shape.slice();
    } else {
      const s = options.shape;
      if (!Array.isArray(s) || s.length === 0 || !s.every((d) => Number.isInteger(d) && d > 0)) {
        throw new SbmArgumentError(
          'options.shape',
          `expected a non-empty array of positive integers [B, ...], got ${JSON.stringify(s)}`,
        );
      }
      shape = [...s];
    }
    // A model with fixed input sizes is checked against the sample shape before any noise is drawn.
    this.model.checkInputShape(shape);
    if (labels !== undefined && (!(labels instanceof tf.Tensor) || labels.shape[0] !== shape[0])) {
      throw new SbmArgumentError(
        'options.labels',
        `expected one label per sample (batch ${shape[0]}), got ${describeValue(labels)}`,
      );
    }
    if (options.onStep !== undefined && typeof options.onStep !== 'function') {
      throw new SbmArgumentError(
        'options.onStep',
        `expected a function, got ${describeValue(options.onStep)}`,
      );
    }
    const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (options.firstSample !== undefined) assertInteger('options.firstSample', options.firstSample, 0);
    this.streams = new NoiseStreams(seed, shape[0]!, options.firstSample ?? 0);
    this.shape = shape;
    this.#options = options;
    options.signal?.throwIfAborted();
  }

  /** Whether an `onStep` callback wants `denoised` estimates. */
  get wantsDenoised(): boolean {
    return this.#options.onStep !== undefined;
  }

  /** The starting state: a copy of `xT`, or `priorStd · z` from the noise streams. */
  initial(priorStd: number): tf.Tensor {
    const { xT } = this.#options;
    return xT !== undefined ? tf.clone(xT) : this.streams.normal(this.shape, priorStd);
  }

  /** Standard normal noise of the sample shape, row b from stream b. */
  noise(): tf.Tensor {
    return this.streams.normal(this.shape);
  }

  /** One model evaluation at `(x, t)`, converted to `to`. */
  async evaluate(x: tf.Tensor, t: number, to: Parameterization): Promise<tf.Tensor> {
    this.nfe++;
    return this.model.predict(x, t, to, this.#options.labels);
  }

  /** Returns `denoised` if `onStep` wants it, else disposes it and returns undefined. */
  keepDenoised(denoised: tf.Tensor): tf.Tensor | undefined {
    if (this.wantsDenoised) return denoised;
    denoised.dispose();
    return undefined;
  }

  /**
   * `x̂_0` from a prediction `value` in parameterization `from` at `(x, t)` when `onStep` wants it,
   * else undefined.
   */
  denoisedFor(x: tf.Tensor, t: number, value: tf.Tensor, from: Parameterization): tf.Tensor | undefined {
    if (!this.wantsDenoised) return undefined;
    return tf.tidy(() => {
      if (from === 'x0') return tf.clone(value);
      const a = this.sde.alpha(t);
      const s = this.sde.sigma(t);
      const eps = from === 'eps' ? value : tf.mul(value, -s); // from 'score'
      return tf.div(tf.sub(x, tf.mul(eps, s)), a);
    });
  }

  /**
   * After step `index` of `steps` reached time `t` with state `x`: checks finiteness, calls `onStep`
   * (disposing `denoised` afterwards), then checks the abort signal.
   */
  async afterStep(
    index: number,
    steps: number,
    t: number,
    x: tf.Tensor,
    denoised?: tf.Tensor,
  ): Promise<void> {
    try {
      if (this.#options.checkFinite !== false) {
        const ok = tf.tidy(() => tf.all(tf.isFinite(x)));
        // CPU-resident backends read synchronously (an await costs a turn of the event loop per step);
        // GPU backends read asynchronously so as not to block.
        const finite = (CPU_BACKENDS.has(tf.getBackend()) ? ok.dataSync() : await ok.data())[0] === 1;
        ok.dispose();
        if (!finite)
          throw new SbmSamplingError(this.sampler, index, steps, t, 'the state contains NaN or Infinity');
      }
      const { onStep } = this.#options;
      if (onStep) await onStep({ index, steps, t, x, denoised: denoised ?? x });
    } finally {
      denoised?.dispose();
    }
    this.#options.signal?.throwIfAborted();
  }
}

/**
 * Runs a sampling loop on a holder of the current state `x`, which `body` replaces step by step; if
 * `body` throws, the current state is disposed. Returns the final state.
 * @internal
 */
export async function guarded(
  x: tf.Tensor,
  body: (holder: { x: tf.Tensor }) => Promise<void>,
): Promise<tf.Tensor> {
  const holder = { x };
  try {
    await body(holder);
    return holder.x;
  } catch (error) {
    holder.x.dispose();
    throw error;
  }
}

/** `Σ c_i · x_i` in one tidy (coefficients are float64 numbers; zero terms are skipped). @internal */
export function linearCombination(terms: readonly (readonly [number, tf.Tensor])[]): tf.Tensor {
  return tf.tidy(() => {
    let out: tf.Tensor | undefined;
    for (const [c, v] of terms) {
      if (c === 0) continue;
      const term = c === 1 ? v : tf.mul(v, c);
      out = out === undefined ? term : tf.add(out, term);
    }
    if (out === undefined) return tf.zerosLike(terms[0]![1]);
    return terms.some(([, v]) => v === out) ? tf.clone(out) : out;
  });
}

/** Default last time: 1e-3 where `σ(0) = 0` (VP, sub-VP), 1e-5 otherwise (VE) — score_sde's values. @internal */
export function defaultTMin(sde: MarginalCoefficients): number {
  return sde.sigma(0) > 0 ? 1e-5 : 1e-3;
}

/** Checks `tMin ∈ [0, T)` and returns it (default {@link defaultTMin}). @internal */
export function readTMin(sde: MarginalCoefficients, tMin: number | undefined, name = 'options.tMin'): number {
  const value = tMin ?? defaultTMin(sde);
  if (typeof value !== 'number' || !(value >= 0 && value < sde.T)) {
    throw new SbmArgumentError(name, `expected a time in [0, T = ${sde.T}), got ${describeValue(value)}`);
  }
  return value;
}

/** Checks a step count (integer >= 1). @internal */
export function readSteps(value: number | undefined, fallback: number, name = 'options.steps'): number {
  const n = value ?? fallback;
  assertInteger(name, n);
  return n;
}

/** Checks explicit times: strictly decreasing, within `[0, T]`. @internal */
export function readTimesList(times: readonly number[], T: number, name = 'options.timesteps'): number[] {
  if (!Array.isArray(times) || times.length === 0) {
    throw new SbmArgumentError(
      name,
      `expected a non-empty array of decreasing times, got ${describeValue(times)}`,
    );
  }
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (typeof t !== 'number' || !(t >= 0 && t <= T)) {
      throw new SbmArgumentError(name, `expected times in [0, ${T}], got ${describeValue(t)} at index ${i}`);
    }
    if (i > 0 && !(t < times[i - 1]!)) {
      throw new SbmArgumentError(
        name,
        `expected strictly decreasing times, got ${times[i - 1]} then ${t} at index ${i}`,
      );
    }
  }
  return [...times];
}

/** Standard deviation of the starting noise: `sde.priorStd` for an SDE, else `√(α(T)² + σ(T)²)`. @internal */
export function priorStdOf(sde: MarginalCoefficients): number {
  const p = (sde as { priorStd?: unknown }).priorStd;
  return typeof p === 'number' ? p : Math.hypot(sde.alpha(sde.T), sde.sigma(sde.T));
}

/** What {@link runMultistep} needs of a multistep stepper (DPM-Solver++, UniPC). @internal */
export interface MultistepStepper<S> {
  schedule(): StepInfo[];
  step(modelOutput: tf.Tensor, info: StepInfo, x: tf.Tensor, state?: S, noise?: tf.Tensor): StepOutput<S>;
  release(state: S | undefined): void;
}

/**
 * The sampling loop of a stateless multistep stepper: per step one model evaluation converted to `to`,
 * fresh noise when `noisy` (not on a step to clean data), the state handed from step to step and released
 * at the end (also on error). @internal
 */
export async function runMultistep<S>(
  run: SamplingRun,
  stepper: MultistepStepper<S>,
  to: Parameterization,
  noisy: boolean,
): Promise<SampleResult> {
  const schedule = stepper.schedule();
  let history: S | undefined;
  try {
    const samples = await guarded(run.initial(priorStdOf(run.sde)), async (holder) => {
      for (const info of schedule) {
        const output = await run.evaluate(holder.x, info.t, to);
        const noise = noisy && info.tNext !== null ? run.noise() : undefined;
        let out: StepOutput<S>;
        try {
          out = stepper.step(output, info, holder.x, history, noise);
        } finally {
          tf.dispose([output, noise]);
        }
        history = out.state;
        holder.x.dispose();
        holder.x = out.prevSample;
        await run.afterStep(
          info.index,
          schedule.length,
          info.tNext ?? 0,
          holder.x,
          run.keepDenoised(out.denoised),
        );
      }
    });
    return { samples, nfe: run.nfe };
  } finally {
    stepper.release(history);
  }
}
