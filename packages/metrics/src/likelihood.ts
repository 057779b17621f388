import {
  integrateRk45,
  ModelAdapter,
  type ModelLike,
  NoiseStreams,
  type OdeRightHandSide,
  wrapModel,
} from '@sbm/samplers';
import {
  assertInteger,
  assertPositive,
  describeValue,
  SbmArgumentError,
  type ScoreFn,
  type SDE,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { checkDataRange, type uniformDequantize } from './dequantize.js';
import { type DivergenceEstimator, type DivergenceMethod, scoreAndDivergence } from './divergence.js';

/** Options of {@link likelihood}. */
export interface LikelihoodOptions {
  /** The forward SDE the model was trained with (VPSDE, SubVPSDE, VESDE, …). */
  sde: SDE;
  /**
   * The score model: a `ModelAdapter` from `wrapModel` (any model the samplers accept) or a score
   * function `(x, t) => score`, $s(x, t) \approx \nabla_x \log p_t(x)$. It must be synchronous and differentiable with tf.grad (register
   * gradients, e.g. `import '@tensorflow/tfjs-layers'`).
   */
  model: ModelAdapter | ModelLike;
  /** The data `x [B, ...]` (float32, as the model sees it: after any scaling to the model's range); not disposed. */
  x: tf.Tensor;
  /** The divergence: Hutchinson–Skilling with Rademacher (default, as score_sde) or Gaussian probes, or exact. */
  divergence?: DivergenceMethod;
  /** Seed of the Hutchinson probe (per-sample streams, drawn once and fixed for the whole solve); default random. */
  seed?: number;
  /** An explicit Hutchinson probe $\epsilon$, the shape of `x` (overrides `seed`; e.g. to reproduce another implementation's run). */
  probe?: tf.Tensor;
  /** The data end of the ODE, `0 < tMin < T`; default 1e-5 (score_sde's `eps`). */
  tMin?: number;
  /** Relative tolerance of the RK45 solve, default 1e-5 (score_sde). */
  rtol?: number;
  /** Absolute tolerance of the RK45 solve, default 1e-5 (score_sde). */
  atol?: number;
  /** Most RK45 step attempts, default 10000. */
  maxSteps?: number;
  /** The largest $D$ (values per example) for which `divergence: 'exact'` is allowed, default 64. */
  maxExactDim?: number;
  /** Unit directions per backward pass of the exact divergence (the batch is tiled this many times), default $D$. */
  directionsPerPass?: number;
  /**
   * The range `[lo, hi]` of the data for bits/dim: `[0, 1]` (default; score_sde with `data.centered = False`)
   * or `[−1, 1]` (`data.centered = True`).
   */
  dataRange?: readonly [number, number];
  /** Quantization levels of the data for bits/dim, default 256 (8-bit). */
  levels?: number;
  /** Aborts between evaluations (the signal's reason is thrown). */
  signal?: AbortSignal;
}

/** What {@link likelihood} returns. */
export interface LikelihoodResult {
  /** $\log p_0(x)$ in nats per example (the density of `x` as given), `[B]`: `priorLogp + deltaLogp`. */
  logLikelihood: Float64Array;
  /** Bits per dimension of the `levels`-level data, `[B]` (see {@link bitsPerDim}). */
  bitsPerDim: Float64Array;
  /** $\int_{t_{\min}}^{T} \nabla \cdot \tilde f(x(t), t)\, dt$ in nats per example, `[B]`. */
  deltaLogp: Float64Array;
  /** $\log p_T(z)$ under the prior $\mathcal{N}(0, \sigma_T^2 I)$, $\sigma_T$ = `sde.priorStd`, in nats, `[B]`. */
  priorLogp: Float64Array;
  /** $z = x(T)$, the latent of the probability-flow ODE, the shape of `x` (the caller disposes it). */
  latent: tf.Tensor;
  /** Evaluations of the ODE right-hand side (one score evaluation and its divergence each; score_sde's `nfe`). */
  nfe: number;
  /** Accepted RK45 steps. */
  steps: number;
  /** Rejected RK45 steps. */
  rejected: number;
  /** The probe seed used (undefined for the exact divergence or an explicit probe). */
  seed: number | undefined;
}

const METHODS: readonly DivergenceMethod[] = ['hutchinson-rademacher', 'hutchinson-gaussian', 'exact'];

/** Checks `[lo, hi]` and `levels`; returns the per-dimension offset $\log_2(\text{levels}/(hi - lo))$. */
function bitsOffset(dataRange: unknown, levels: unknown, prefix: string): number {
  const [lo, hi] = checkDataRange(`${prefix}dataRange`, dataRange);
  assertInteger(`${prefix}levels`, levels, 2);
  return Math.log2(levels / (hi - lo));
}

/**
 * Bits per dimension of `levels`-level data in $[lo, hi]$ from the log-density $\log p(x)$ (nats) of its
 * dequantized values in $D$ dimensions (Song et al. 2021, App. D.2; Theis et al. 2016): each bin has width
 * $w = (hi - lo)/\text{levels}$, so the discrete log-probability is at least $\log p(x) + D \log w$ and
 *
 * $$\text{bpd} = -\frac{\log p(x)}{D \ln 2} + \log_2 \frac{\text{levels}}{hi - lo},$$
 *
 * i.e. $+8$ for 256 levels in $[0, 1]$ and $+7$ in $[-1, 1]$ (score_sde's `offset = 7 − inverse_scaler(−1)`).
 *
 * @param logLikelihood - $\log p(x)$ per example, nats, `[B]`.
 * @param D - values per example.
 * @param options - `dataRange` (default `[0, 1]`), `levels` (default 256).
 * @returns bits/dim per example, `[B]`.
 */
export function bitsPerDim(
  logLikelihood: ArrayLike<number>,
  D: number,
  options: { dataRange?: readonly [number, number]; levels?: number } = {},
): Float64Array {
  assertInteger('D', D);
  const offset = bitsOffset(options.dataRange ?? [0, 1], options.levels ?? 256, 'options.');
  return Float64Array.from(logLikelihood, (l) => -l / (D * Math.LN2) + offset);
}

/** Rademacher (`±1`) or Gaussian probes `[B, ...]` from per-sample streams, so a sample's probe does not depend on its batch. */
function drawProbe(shape: readonly number[], seed: number, kind: 'rademacher' | 'gaussian'): tf.Tensor {
  const normal = new NoiseStreams(seed, shape[0]!).normal(shape);
  if (kind === 'gaussian') return normal;
  const signs = tf.tidy(() =>
    tf.where(tf.greaterEqual(normal, 0), tf.onesLike(normal), tf.fill(normal.shape, -1)),
  );
  normal.dispose();
  return signs;
}

/**
 * Exact log-likelihood (and bits/dim) of data under a score-based model through the probability-flow ODE
 * (Song et al. 2021, "Score-Based Generative Modeling through Stochastic Differential Equations", Sec. 4.3
 * and App. D.2). The ODE (Eq. 13)
 *
 * $$\frac{dx}{dt} = \tilde f(x, t) = f(t)\, x - \tfrac12 g(t)^2\, s_\theta(x, t)$$
 *
 * is a continuous normalizing flow, so by the instantaneous change of variables (Chen et al. 2018; App. D.2)
 *
 * $$\log p_0(x(0)) = \log p_T(x(T)) + \int_0^T \nabla \cdot \tilde f(x(t), t)\, dt,$$
 *
 * with $\nabla \cdot \tilde f = f(t)\, D - \tfrac12 g(t)^2\, \nabla \cdot s_\theta$, here integrated from `tMin` (not 0) to $T$. The augmented state $[x, \Delta\log p]$ (`x [B, ...]`, $\Delta\log p$ `[B]`)
 * is integrated in float64 with RK45 (`rtol`, `atol`; step for step as score_sde's `solve_ivp`, the error norm
 * taken over the whole batch and $\Delta\log p$), the divergence by the Hutchinson–Skilling estimator
 *
 * $$\nabla \cdot \tilde f \approx \epsilon^\top \frac{\partial \tilde f}{\partial x} \epsilon = f(t) \lVert \epsilon \rVert^2 - \tfrac12 g(t)^2\, \epsilon^\top \frac{\partial s_\theta}{\partial x} \epsilon$$
 *
 * ($\mathbb{E}[\epsilon \epsilon^\top] = I$) with one probe $\epsilon$ drawn per run and held fixed through the solve (an unbiased estimate of the
 * log-likelihood), or exactly for small $D$ (values per example). Then, with $z = x(T)$ and
 * $\sigma_T$ = `sde.priorStd`, $\log p_0(x) = \log \mathcal{N}(z; 0, \sigma_T^2 I) + \Delta\log p$ (nats) and
 *
 * $$\text{bpd} = -\frac{\log p_0(x)}{D \ln 2} + \log_2 \frac{\text{levels}}{hi - lo}$$
 *
 * (see {@link bitsPerDim}), the same quantity as score_sde's `likelihood_fn` on its uniformly dequantized data
 * (see {@link uniformDequantize}).
 *
 * @example
 * ```ts
 * const model = wrapModel(net, { sde, prediction: 'eps', timeInput: 'index' });
 * const r = await likelihood({ sde, model, x, dataRange: [-1, 1], seed: 0 });
 * console.log(r.bitsPerDim, r.nfe);
 * r.latent.dispose();
 * ```
 * @throws SbmArgumentError naming the option that is invalid (`options.x` shape, dtype or NaN; `options.tMin`
 *   outside `(0, T)`; `options.divergence`; `options.probe`; an asynchronous `options.model`, …).
 */
export async function likelihood(options: LikelihoodOptions): Promise<LikelihoodResult> {
  if (!options || typeof options !== 'object') {
    throw new SbmArgumentError('options', `expected an options object, got ${describeValue(options)}`);
  }
  const { sde, x } = options;
  if (!sde || typeof (sde as { driftCoefficient?: unknown }).driftCoefficient !== 'function') {
    throw new SbmArgumentError(
      'options.sde',
      `expected an SDE (VPSDE, SubVPSDE, VESDE, ...), got ${describeValue(sde)}`,
    );
  }
  if (!(x instanceof tf.Tensor) || x.rank < 2 || x.shape[0] === 0 || x.size === 0) {
    throw new SbmArgumentError(
      'options.x',
      `expected a non-empty tensor [B, ...] of rank >= 2, got ${describeValue(x)}`,
    );
  }
  if (x.dtype !== 'float32')
    throw new SbmArgumentError('options.x', `expected float32 values, got ${x.dtype}`);
  const B = x.shape[0]!;
  const D = x.size / B;
  const T = sde.T;
  const tMin = options.tMin ?? 1e-5;
  if (typeof tMin !== 'number' || !(tMin > 0 && tMin < T)) {
    throw new SbmArgumentError(
      'options.tMin',
      `expected a time in (0, T = ${T}), got ${describeValue(tMin)}`,
    );
  }
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-5;
  assertPositive('options.rtol', rtol);
  assertPositive('options.atol', atol);
  const method = options.divergence ?? 'hutchinson-rademacher';
  if (!METHODS.includes(method)) {
    throw new SbmArgumentError(
      'options.divergence',
      `expected one of ${METHODS.join(', ')}, got ${describeValue(method)}`,
    );
  }
  const maxExactDim = options.maxExactDim ?? 64;
  assertInteger('options.maxExactDim', maxExactDim);
  if (method === 'exact' && D > maxExactDim) {
    throw new SbmArgumentError(
      'options.divergence',
      `'exact' takes D = ${D} vector-Jacobian products per evaluation for x [${x.shape.join(',')}], above ` +
        `options.maxExactDim = ${maxExactDim}; use a Hutchinson estimator or raise maxExactDim`,
    );
  }
  if (options.directionsPerPass !== undefined)
    assertInteger('options.directionsPerPass', options.directionsPerPass);
  const offset = bitsOffset(options.dataRange ?? [0, 1], options.levels ?? 256, 'options.');
  if (options.probe !== undefined) {
    const { probe } = options;
    if (method === 'exact')
      throw new SbmArgumentError(
        'options.probe',
        "a probe is only used by the Hutchinson estimators, not 'exact'",
      );
    if (
      !(probe instanceof tf.Tensor) ||
      !tf.util.arraysEqual(probe.shape, x.shape) ||
      probe.dtype !== 'float32'
    ) {
      throw new SbmArgumentError(
        'options.probe',
        `expected a float32 tensor of the shape of x [${x.shape.join(',')}], got ${describeValue(probe)}`,
      );
    }
  }
  let seed: number | undefined;
  if (method !== 'exact' && options.probe === undefined) {
    seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    if (!Number.isSafeInteger(seed))
      throw new SbmArgumentError('options.seed', `expected a safe integer, got ${describeValue(seed)}`);
  }
  const adapter =
    options.model instanceof ModelAdapter ? options.model : wrapModel(options.model, { sde, name: 'model' });
  adapter.checkInputShape(x.shape);
  const scoreFn: ScoreFn = adapter.toScoreFn();

  const data = x.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new SbmArgumentError('options.x', `x has a non-finite value (${data[i]}) at flat index ${i}`);
    }
  }
  const n = B * D;
  const y0 = new Float64Array(n + B);
  y0.set(data);

  const probe =
    method === 'exact'
      ? undefined
      : (options.probe ??
        drawProbe(x.shape, seed!, method === 'hutchinson-gaussian' ? 'gaussian' : 'rademacher'));
  try {
    const rhs = likelihoodOde({
      sde,
      scoreFn,
      shape: x.shape,
      estimator:
        probe !== undefined ? { probe } : { exact: true, directionsPerPass: options.directionsPerPass },
      tMin,
      modelName: adapter.name,
    });
    const solution = await integrateRk45(rhs, tMin, T, y0, {
      rtol,
      atol,
      maxSteps: options.maxSteps ?? 10000,
      signal: options.signal,
    });
    const z = solution.y;
    const s2 = sde.priorStd * sde.priorStd;
    const logNorm = -0.5 * D * Math.log(2 * Math.PI * s2);
    const priorLogp = new Float64Array(B);
    const deltaLogp = Float64Array.from(z.subarray(n));
    const logLikelihood = new Float64Array(B);
    const bpd = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      let sq = 0;
      for (let i = b * D; i < (b + 1) * D; i++) sq += z[i]! * z[i]!;
      priorLogp[b] = logNorm - sq / (2 * s2);
      logLikelihood[b] = priorLogp[b]! + deltaLogp[b]!;
      bpd[b] = -logLikelihood[b]! / (D * Math.LN2) + offset;
    }
    return {
      logLikelihood,
      bitsPerDim: bpd,
      deltaLogp,
      priorLogp,
      latent: tf.tensor(Float32Array.from(z.subarray(0, n)), x.shape, 'float32'),
      nfe: solution.nfev,
      steps: solution.steps,
      rejected: solution.rejected,
      seed,
    };
  } finally {
    if (probe !== undefined && probe !== options.probe) probe.dispose();
  }
}

/** Options of {@link likelihoodOde}. */
export interface LikelihoodOdeOptions {
  /** The forward SDE. */
  sde: SDE;
  /** A synchronous, differentiable score function $s(x, t)$, `x [B, ...]`, `t [B]` (e.g. `wrapModel(…).toScoreFn()`). */
  scoreFn: ScoreFn;
  /** The shape `[B, ...]` of `x`. */
  shape: readonly number[];
  /** The divergence: a fixed Hutchinson probe $\epsilon$ (the caller keeps and disposes it), or the exact trace. */
  estimator: DivergenceEstimator;
  /** Times are clamped to `[tMin, T]` (RK45 stage times can pass the ends by rounding), default 0. */
  tMin?: number;
  /** Name of the model in error messages. */
  modelName?: string;
}

/**
 * The right-hand side of the augmented probability-flow ODE that {@link likelihood} integrates (Song et al.
 * 2021, App. D.2; the state layout of score_sde's `likelihood.py`): for the float64 state
 * `y = [x (B·D values, row-major as x [B, ...]), Δlogp (B values)]`,
 *
 * $$\frac{dx}{dt} = \tilde f(x, t) = f(t)\, x - \tfrac12 g(t)^2\, s(x, t),$$
 *
 * $$\frac{d\,\Delta\log p}{dt} = \epsilon^\top \frac{\partial \tilde f}{\partial x} \epsilon = f(t) \lVert \epsilon \rVert^2 - \tfrac12 g(t)^2\, \epsilon^\top \frac{\partial s}{\partial x} \epsilon$$
 *
 * (Hutchinson–Skilling, fixed $\epsilon$), or $f(t)\, D - \tfrac12 g(t)^2\, \nabla \cdot s$ with the exact divergence. `x` is evaluated in float32 (the model's precision);
 * the linear drift term uses the float64 state. One call evaluates the score and one vector–Jacobian product
 * (Hutchinson) or `D` of them (exact).
 *
 * @returns `(t, y [B·D + B]) => dy/dt [B·D + B]`.
 */
export function likelihoodOde(options: LikelihoodOdeOptions): OdeRightHandSide {
  const { sde, scoreFn, shape, estimator } = options;
  const B = shape[0]!;
  const n = shape.reduce((p, d) => p * d, 1);
  const D = n / B;
  const tMin = options.tMin ?? 0;
  const T = sde.T;
  // ‖ε_b‖² per example: the Hutchinson estimate of the divergence of the linear drift f(t) x (D when exact).
  const traceOfIdentity = new Float64Array(B).fill(D);
  if ('probe' in estimator) {
    const p = estimator.probe.dataSync();
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let i = b * D; i < (b + 1) * D; i++) s += p[i]! * p[i]!;
      traceOfIdentity[b] = s;
    }
  }
  return async (t: number, y: Float64Array): Promise<Float64Array> => {
    const time = Math.min(Math.max(t, tMin), T);
    const state = tf.tensor(Float32Array.from(y.subarray(0, n)), [...shape], 'float32');
    let out: { score: tf.Tensor; divergence: tf.Tensor1D };
    try {
      out = scoreAndDivergence(scoreFn, state, time, estimator);
    } catch (error) {
      state.dispose();
      throw asynchronousModelError(error, options.modelName);
    }
    const [score, divergence] = await Promise.all([out.score.data(), out.divergence.data()]);
    tf.dispose([state, out.score, out.divergence]);
    const f = sde.driftCoefficient(time);
    const g = sde.diffusionCoefficient(time);
    const halfG2 = 0.5 * g * g;
    const dy = new Float64Array(n + B);
    for (let i = 0; i < n; i++) dy[i] = f * y[i]! - halfG2 * score[i]!;
    for (let b = 0; b < B; b++) dy[n + b] = f * traceOfIdentity[b]! - halfG2 * divergence[b]!;
    return dy;
  };
}

/** Rewords the adapter's refusal of an asynchronous model for the likelihood. */
function asynchronousModelError(error: unknown, name: string | undefined): unknown {
  if (error instanceof SbmArgumentError && error.argument === name && /synchronous/.test(error.message)) {
    return new SbmArgumentError(
      'options.model',
      `${name} is asynchronous; the likelihood differentiates the score with tf.grad, which needs a ` +
        'synchronous model (a function returning a tensor, a LayersModel, or a GraphModel without control flow)',
    );
  }
  return error;
}
