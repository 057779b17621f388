import { convertPrediction, describeValue, type Parameterization, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  linearCombination,
  runMultistep,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';
import type { StepInfo, StepOutput } from './stepper.js';
import {
  alphaAt,
  gridSchedule,
  type LogSNRMarginals,
  lambdaAt,
  requireLogSNR,
  sigmaAt,
  type TimeGridOptions,
} from './time-grid.js';

/**
 * The choice of $B(h)$ in UniPC's B(h) update (Zhao et al. 2023, Sec. 3.1; any $B(h) = O(h)$ keeps the
 * order of accuracy): `'bh1'` is $B(h) = \hat h$, `'bh2'` is $B(h) = e^{\hat h} - 1$, with $\hat h = -h$ for data
 * prediction and $\hat h = h$ for noise prediction. Only the two closed-form coefficients ($a_1 = \tfrac12$ of UniP-2
 * and UniC-1) depend on it; every other coefficient is solved from the order conditions, where $B(h)$
 * cancels.
 */
export type UniPCVariant = 'bh1' | 'bh2';

const PARAMETERIZATIONS: readonly Parameterization[] = ['score', 'eps', 'x0', 'v'];

/**
 * The multistep history of {@link UniPCStepper}, returned by `step` and consumed by the next `step`.
 *
 * It owns `1 + min(order, steps taken)` batch-sized tensors: the `outputs` and `lastSample`. `step`
 * disposes the tensors of the state passed to it that the new state does not keep (the outputs are
 * handed over, not copied); release a state you do not pass on with {@link disposeUniPCState}.
 */
export interface UniPCState {
  /**
   * The converted model outputs ($\hat x_0$ when `predictX0`, else $\hat\epsilon$) at the last `≤ order` evaluated
   * times, newest first, each of the shape of `x` (owned by the state).
   */
  readonly outputs: readonly tf.Tensor[];
  /** $\lambda = \log(\alpha/\sigma)$ at those times, newest first. */
  readonly lambdas: readonly number[];
  /** The time of `outputs[0]`: where the previous step started. */
  readonly t: number;
  /** Where the previous step landed (the time of the `x` passed to the next step); `null` = clean data. */
  readonly tNext: number | null;
  /**
   * The previous predictor's input (the state at `t`, after its own correction), shape of `x`
   * (owned by the state). UniC re-takes the previous step from it with the new model output.
   */
  readonly lastSample: tf.Tensor;
  /** Order `p` of the previous predictor (UniP-p), which is the order of the next corrector (UniC-p). */
  readonly order: number;
  /** Index of the previous step. */
  readonly index: number;
  /** Whether `outputs` are data ($\hat x_0$) or noise ($\hat\epsilon$) predictions. */
  readonly predictX0: boolean;
}

/** Releases the tensors a {@link UniPCState} owns (e.g. the final state of a hand-driven loop). */
export function disposeUniPCState(state: UniPCState | undefined): void {
  if (state === undefined) return;
  tf.dispose([...state.outputs, state.lastSample]);
}

/** Options of {@link UniPCStepper}. */
export interface UniPCStepperOptions extends TimeGridOptions {
  /** The forward process: any SDE of `@sbm/sde`, or `discreteMarginals(schedule)` (time = step index). */
  sde: LogSNRMarginals;
  /** Parameterization of the model outputs passed to `step`, default `'eps'`. */
  prediction?: Parameterization;
  /**
   * Order `p` of UniPC-p (UniP-p followed by UniC-p, accuracy order `p + 1`), default 2: the value
   * diffusers' `UniPCMultistepScheduler` uses by default and recommends for guided sampling; 3 is
   * recommended for unconditional sampling. The first steps warm up at orders 1, 2, …
   */
  order?: 1 | 2 | 3;
  /** $B(h)$: `'bh1'` ($\hat h$, recommended below 10 steps for unconditional sampling) or `'bh2'` ($e^{\hat h} - 1$, default); see {@link UniPCVariant}. */
  variant?: UniPCVariant;
  /** Data-prediction UniPC (the multistep history holds $\hat x_0$), default true; false: noise prediction ($\hat\epsilon$). */
  predictX0?: boolean;
  /**
   * Lower the order of the final steps when there are fewer than 15 steps: step `i` of `n` uses order
   * `min(order, n − i)`, default true. The 15-step threshold is DPM-Solver++'s rule (here and in diffusers'
   * DPMSolverMultistepScheduler); UniPC's reference code and diffusers' UniPCMultistepScheduler lower the
   * final orders at any step count (identical below 15 steps), which caps the convergence order at 2: the
   * last step is uncorrected, so a first-order last step leaves an $O(h^2)$ error.
   */
  lowerOrderFinal?: boolean;
  /**
   * Indices `j` of steps whose result (the state at `t_{j+1}`) is not corrected: the UniC that would run
   * at the start of step `j + 1` is skipped (diffusers' `disable_corrector`). Default none.
   */
  disableCorrector?: readonly number[];
}

/** `φ_k(z) = Σ_{j≥0} z^j/(j + k)!` (k ≥ 1): `φ_1(z) = (e^z − 1)/z`, `φ_{k+1}(z) = (φ_k(z) − 1/k!)/z`. */
function phi(k: number, z: number): number {
  if (Math.abs(z) < 1) {
    // Series: 25 terms are far below double precision for |z| < 1 and k ≥ 1.
    let term = 1;
    for (let j = 2; j <= k; j++) term /= j;
    let sum = term;
    for (let j = 1; j < 25; j++) {
      term *= z / (j + k);
      sum += term;
    }
    return sum;
  }
  if (z === Number.NEGATIVE_INFINITY) return 0;
  let p = Math.expm1(z) / z;
  let factorial = 1;
  for (let j = 1; j < k; j++) {
    p = (p - 1 / factorial) / z;
    factorial *= j + 1;
  }
  return p;
}

/** `g_k(z) = k! · z · φ_{k+1}(z) = k! φ_k(z) − 1`, the right-hand side of the order conditions. */
function orderConditionRhs(k: number, z: number): number {
  let factorial = 1;
  for (let j = 2; j <= k; j++) factorial *= j;
  return Math.abs(z) < 1 ? factorial * z * phi(k + 1, z) : factorial * phi(k, z) - 1;
}

/** Solves the small dense system `A x = b` (Gaussian elimination with partial pivoting). */
function solveSmall(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r]![c]!) > Math.abs(M[pivot]![c]!)) pivot = r;
    [M[c], M[pivot]] = [M[pivot]!, M[c]!];
    for (let r = c + 1; r < n; r++) {
      const f = M[r]![c]! / M[c]![c]!;
      for (let k = c; k <= n; k++) M[r]![k]! -= f * M[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r]![n]!;
    for (let k = r + 1; k < n; k++) s -= M[r]![k]! * x[k]!;
    x[r] = s / M[r]![r]!;
  }
  return x;
}

/**
 * The coefficients `B(h)·a_m` of the UniPC update for the nodes `r_1 … r_K` (`K = rs.length`):
 * the `K × K` order conditions `Σ_m a_m r_m^{k−1} = g_k(hh)/B(h)`, `k = 1 … K`
 * (Zhao et al. 2023, Sec. 3.1), except `K = 1`, where UniPC takes `a_1 = ½` (the `h → 0` limit).
 */
function scaledCoefficients(rs: readonly number[], hh: number, variant: UniPCVariant): number[] {
  const K = rs.length;
  if (K === 1) return [0.5 * (variant === 'bh1' ? hh : Math.expm1(hh))];
  const R = Array.from({ length: K }, (_, k) => rs.map((r) => r ** k));
  const g = Array.from({ length: K }, (_, k) => orderConditionRhs(k + 1, hh));
  return solveSmall(R, g);
}

/** Adds `c · v` to a coefficient map (tensors may repeat). */
function addTerm(terms: Map<tf.Tensor, number>, v: tf.Tensor, c: number): void {
  terms.set(v, (terms.get(v) ?? 0) + c);
}

/** The `[coefficient, tensor]` pairs of a coefficient map. */
function asTerms(terms: Map<tf.Tensor, number>): [number, tf.Tensor][] {
  return [...terms].map(([v, c]) => [c, v]);
}

const sameTime = (a: number, b: number): boolean =>
  Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of Diffusion
 * Models", Sec. 3; multistep B(h) form) as a stateless stepper: every step costs one model evaluation.
 *
 * In $\lambda = \log(\alpha/\sigma)$, with model outputs $m_k$ ($\hat x_0$ for data prediction) at the times $s_k$ of the
 * history ($s_0$ newest), $h = \lambda_t - \lambda_{s_0}$, $r_k = (\lambda_{s_k} - \lambda_{s_0})/h$ and
 * $D_k = (m_k - m_0)/r_k$:
 *
 * - UniP-p predicts
 *   $$\tilde x_t = \frac{\sigma_t}{\sigma_{s_0}} x_{s_0} - \alpha_t (e^{-h} - 1)\, m_0 - \alpha_t B(h) \sum_{k=1}^{p-1} a_k D_k$$
 *   with $\sum_k a_k r_k^{j-1} = g_j(-h)/B(h)$ for $j = 1, \dots, p - 1$, $g_j(z) = j!\, z\, \varphi_{j+1}(z)$,
 *   $\varphi_1(z) = (e^z - 1)/z$, $\varphi_{k+1}(z) = (\varphi_k(z) - 1/k!)/z$ (order $p$, Corollary 3.2; $a_1 = \tfrac12$ for
 *   $p = 2$);
 * - UniC-p, once the model output $m_t$ at $(\tilde x_t, t)$ is known (it is the next step's input), corrects
 *   $$\begin{aligned} x_t = {} & \frac{\sigma_t}{\sigma_{s_0}} x_{s_0} - \alpha_t (e^{-h} - 1)\, m_0 \\ & - \alpha_t B(h) \Big(\sum_{k=1}^{p-1} a_k D_k + a_p (m_t - m_0)\Big) \end{aligned}$$
 *   with $r_p = 1$ and the $p \times p$ conditions (order $p + 1$, Theorem 3.1; $a_1 = \tfrac12$ for $p = 1$), so the
 *   correction costs no evaluation.
 *
 * Noise prediction (`predictX0: false`) is the same with $\sigma \leftrightarrow \alpha$ exchanged in the prefactors,
 * $e^{h}$ for $e^{-h}$, $g_j(h)$ and $m = \hat\epsilon$:
 * $\tilde x_t = (\alpha_t/\alpha_{s_0})\, x - \sigma_t (e^h - 1)\, m_0 - \sigma_t B(h) \sum_k a_k D_k$.
 *
 * `step(modelOutput, info, x, state)` first applies UniC to `x` (the previous prediction) with the
 * state's history and `modelOutput` (the model at `(x, info.t)`), then UniP from the corrected state.
 * The last step is not corrected (that would cost an evaluation); `correct` does it if you pay for one.
 * A step to $\sigma = 0$ (`tNext: null`, clean data, $\lambda = +\infty$) is taken at first order, which is exact in
 * the limit $e^{-h} = 0$: $x_0 = \hat x_0(x_s)$ (the higher-order terms extrapolate $\hat x_0$ linearly in $\lambda$ to
 * infinity and diverge).
 *
 * Shapes: `x`, `modelOutput` and every output are `[B, ...]`; all coefficients are scalars.
 *
 * @example
 * ```ts
 * const solver = new UniPCStepper({ sde, steps: 10, prediction: 'eps' });
 * let state: UniPCState | undefined;
 * for (const info of solver.schedule()) {
 *   const eps = myModel(x, info.t);
 *   const out = solver.step(eps, info, x, state); // consumes state
 *   tf.dispose([eps, out.denoised, x]);
 *   x = out.prevSample;
 *   state = out.state;
 * }
 * disposeUniPCState(state);
 * ```
 */
export class UniPCStepper {
  /** The forward process ($\alpha$, $\sigma$, $\lambda$ of every time). */
  readonly sde: LogSNRMarginals;
  /** Parameterization of the model outputs passed to `step` and `correct`. */
  readonly prediction: Parameterization;
  /** Order `p` of UniPC-p (accuracy order `p + 1`). */
  readonly order: 1 | 2 | 3;
  /** The choice of `B(h)`. */
  readonly variant: UniPCVariant;
  /** Data prediction (history of $\hat x_0$) or noise prediction (history of $\hat\epsilon$). */
  readonly predictX0: boolean;
  /** Whether the final steps use lower orders (below 15 steps). */
  readonly lowerOrderFinal: boolean;
  /** Steps whose result is not corrected (see {@link UniPCStepperOptions.disableCorrector}). */
  readonly disableCorrector: readonly number[];
  /** Number of steps (= NFE). */
  readonly steps: number;
  readonly #schedule: readonly StepInfo[];

  /** Checks the options and builds the schedule (default 10 steps uniform in log-SNR, ending at `tMin`). */
  constructor(options: UniPCStepperOptions) {
    if (!options || typeof options !== 'object') {
      throw new SbmArgumentError('options', `expected an options object, got ${describeValue(options)}`);
    }
    requireLogSNR(options.sde, 'UniPCStepper');
    this.sde = options.sde;
    this.prediction = options.prediction ?? 'eps';
    if (!PARAMETERIZATIONS.includes(this.prediction)) {
      throw new SbmArgumentError(
        'options.prediction',
        `expected one of ${PARAMETERIZATIONS.join(', ')}, got ${describeValue(this.prediction)}`,
      );
    }
    const order = options.order ?? 2;
    if (order !== 1 && order !== 2 && order !== 3) {
      throw new SbmArgumentError('options.order', `expected 1, 2 or 3, got ${describeValue(order)}`);
    }
    this.order = order;
    this.variant = options.variant ?? 'bh2';
    if (this.variant !== 'bh1' && this.variant !== 'bh2') {
      throw new SbmArgumentError(
        'options.variant',
        `expected 'bh1' or 'bh2', got ${describeValue(this.variant)}`,
      );
    }
    this.predictX0 = options.predictX0 ?? true;
    if (typeof this.predictX0 !== 'boolean') {
      throw new SbmArgumentError(
        'options.predictX0',
        `expected a boolean, got ${describeValue(this.predictX0)}`,
      );
    }
    this.lowerOrderFinal = options.lowerOrderFinal ?? true;
    if (typeof this.lowerOrderFinal !== 'boolean') {
      throw new SbmArgumentError(
        'options.lowerOrderFinal',
        `expected a boolean, got ${describeValue(this.lowerOrderFinal)}`,
      );
    }
    const disable = options.disableCorrector ?? [];
    if (!Array.isArray(disable) || !disable.every((j) => Number.isInteger(j) && j >= 0)) {
      throw new SbmArgumentError(
        'options.disableCorrector',
        `expected an array of step indices (integers >= 0), got ${describeValue(disable)}`,
      );
    }
    this.disableCorrector = Object.freeze([...disable]);
    this.#schedule = Object.freeze(
      gridSchedule(options.sde, options, { steps: 10, spacing: 'logSNR' }).map((s) => Object.freeze(s)),
    );
    this.steps = this.#schedule.length;
  }

  /** Disposes the tensors of a final state (the same as {@link disposeUniPCState}). */
  release(state: UniPCState | undefined): void {
    disposeUniPCState(state);
  }

  /** The steps: evaluate at `info.t`, step to `info.tNext` (`null`: clean data). */
  schedule(): StepInfo[] {
    return [...this.#schedule];
  }

  /** Order of the predictor of step `index` (to `tNext`) with `available` model outputs in the history. */
  #predictorOrder(index: number, tNext: number | null, available: number): number {
    if (sigmaAt(this.sde, tNext) === 0) return 1;
    let p = Math.min(this.order, available);
    if (this.lowerOrderFinal && this.steps < 15) p = Math.min(p, Math.max(1, this.steps - index));
    return p;
  }

  /** The converted model output (`x̂_0` or `ε̂`) at `(x, t)`. */
  #convert(modelOutput: tf.Tensor, x: tf.Tensor, t: number): tf.Tensor {
    return convertPrediction({
      sde: this.sde,
      x,
      t,
      value: modelOutput,
      from: this.prediction,
      to: this.predictX0 ? 'x0' : 'eps',
    });
  }

  /**
   * The coefficients of the exponential-integrator update from `x` at `s` (history `outputs`/`lambdas`,
   * newest first, the first `p` used) to `target`, plus, for UniC, the new output `mT` at the target:
   * returned as `[coefficient, tensor]` terms for {@link linearCombination}, one per distinct tensor.
   */
  #update(
    x: tf.Tensor,
    s: number,
    outputs: readonly tf.Tensor[],
    lambdas: readonly number[],
    p: number,
    target: number | null,
    mT?: tf.Tensor,
  ): [number, tf.Tensor][] {
    const { sde } = this;
    const alphaT = alphaAt(sde, target);
    const sigmaT = sigmaAt(sde, target);
    const h = lambdaAt(sde, target) - lambdas[0]!;
    const hh = this.predictX0 ? -h : h;
    const terms = new Map<tf.Tensor, number>();
    const m0 = outputs[0]!;
    // Prefactor of the model terms: α_t (data prediction) or σ_t (noise prediction).
    const base = this.predictX0 ? alphaT : sigmaT;
    if (this.predictX0) {
      addTerm(terms, x, sigmaT / sde.sigma(s));
      addTerm(terms, m0, -alphaT * Math.expm1(hh)); // e^{−∞} − 1 = −1 at clean data
    } else {
      const alphaS = sde.alpha(s);
      addTerm(terms, x, alphaT / alphaS);
      // σ_t (e^h − 1) → α_t σ_s/α_s as σ_t → 0 (h → ∞).
      addTerm(terms, m0, Number.isFinite(h) ? -sigmaT * Math.expm1(hh) : -alphaT * (sde.sigma(s) / alphaS));
    }
    const K = mT === undefined ? p - 1 : p;
    if (K === 0) return asTerms(terms);
    const rs: number[] = [];
    for (let k = 1; k < p; k++) rs.push((lambdas[k]! - lambdas[0]!) / h);
    if (mT !== undefined) rs.push(1);
    const ba = scaledCoefficients(rs, hh, this.variant);
    for (let k = 0; k < K; k++) {
      const c = (-base * ba[k]!) / rs[k]!;
      addTerm(terms, k < p - 1 ? outputs[k + 1]! : mT!, c);
      addTerm(terms, m0, -c);
    }
    return asTerms(terms);
  }

  #checkInfo(info: StepInfo): void {
    const { sde } = this;
    const t = info?.t;
    const tNext = info?.tNext;
    if (
      typeof t !== 'number' ||
      !(t >= 0 && t <= sde.T) ||
      (tNext !== null && !(typeof tNext === 'number' && tNext >= 0 && tNext < t))
    ) {
      throw new SbmArgumentError(
        'info',
        `expected T >= t > tNext >= 0 or tNext = null, got t = ${describeValue(t)}, tNext = ${describeValue(tNext)}`,
      );
    }
    if (!(sde.sigma(t) > 0)) {
      throw new SbmArgumentError('info', `expected sigma(t) > 0 at the evaluated time, got t = ${t}`);
    }
  }

  #checkState(state: UniPCState, t: number): void {
    if (
      !state ||
      !Array.isArray(state.outputs) ||
      state.outputs.length === 0 ||
      !(state.lastSample instanceof tf.Tensor) ||
      state.predictX0 !== this.predictX0
    ) {
      throw new SbmArgumentError(
        'state',
        `expected a UniPCState returned by step of a UniPCStepper with predictX0 = ${this.predictX0}, got ${describeValue(state)}`,
      );
    }
    if (state.tNext === null || !sameTime(state.tNext, t)) {
      throw new SbmArgumentError(
        'state',
        `expected the state of the step that landed at t = ${t}, got one that landed at ${describeValue(state.tNext)}`,
      );
    }
  }

  /**
   * One UniPC step: UniC on `x` (if a state is given and the corrector is enabled), then UniP from
   * `info.t` to `info.tNext`.
   * @param modelOutput - the model's prediction at `(x, info.t)` in `prediction` parameterization, shape of `x`.
   * @param info - a {@link StepInfo} (from `schedule()`, or your own with `t > tNext` or `tNext = null`).
   * @param x - the current state `[B, ...]` (the previous step's `prevSample`).
   * @param state - the previous step's state (`undefined` on the first step); consumed: its tensors are
   *   disposed or handed over to the returned state.
   * @returns `prevSample` at `tNext`, `denoised` ($\hat x_0$ at `(x, info.t)`), and the new `state`; all owned
   *   by the caller. `modelOutput` and `x` are not disposed.
   */
  step(modelOutput: tf.Tensor, info: StepInfo, x: tf.Tensor, state?: UniPCState): StepOutput<UniPCState> {
    this.#checkInfo(info);
    const { t, tNext, index } = info;
    if (state !== undefined) this.#checkState(state, t);
    const lambdaT = lambdaAt(this.sde, t);
    const history = state?.outputs ?? [];
    const lambdas = [lambdaT, ...(state?.lambdas ?? [])].slice(0, this.order);
    const p = this.#predictorOrder(index, tNext, Math.min(this.order, history.length + 1));
    const correct = state !== undefined && !this.disableCorrector.includes(state.index);
    const out = tf.tidy(() => {
      const m = this.#convert(modelOutput, x, t);
      const denoised = this.predictX0
        ? tf.clone(m)
        : convertPrediction({ sde: this.sde, x, t, value: modelOutput, from: this.prediction, to: 'x0' });
      let corrected: tf.Tensor;
      if (correct) {
        corrected = linearCombination(
          this.#update(state!.lastSample, state!.t, state!.outputs, state!.lambdas, state!.order, t, m),
        );
      } else {
        corrected = tf.clone(x);
      }
      const outputs = [m, ...history].slice(0, this.order);
      const prevSample = linearCombination(this.#update(corrected, t, outputs, lambdas, p, tNext));
      return { m, denoised, corrected, prevSample };
    });
    const kept = [out.m, ...history.slice(0, this.order - 1)];
    if (state !== undefined) {
      tf.dispose([...history.slice(this.order - 1), state.lastSample]);
    }
    return {
      prevSample: out.prevSample,
      denoised: out.denoised,
      state: {
        outputs: kept,
        lambdas,
        t,
        tNext,
        lastSample: out.corrected,
        order: p,
        index,
        predictX0: this.predictX0,
      },
    };
  }

  /**
   * UniC alone: corrects `x`, the state at `state.tNext` predicted by the last step, with the model
   * output at `(x, state.tNext)` — one extra evaluation to raise the accuracy of the final state
   * (diffusers' `final_sigmas_type: 'sigma_min'` with Karras sigmas ends this way: its last "step" from
   * $\sigma_{\min}$ to $\sigma_{\min}$ only corrects). Applies regardless of `disableCorrector`.
   * @param modelOutput - the model's prediction at `(x, state.tNext)` in `prediction` parameterization.
   * @param x - the state the last step returned (`prevSample`), `[B, ...]`.
   * @param state - that step's state; not consumed (release it with {@link disposeUniPCState}).
   * @returns the corrected state, a new tensor of the shape of `x`.
   */
  correct(modelOutput: tf.Tensor, x: tf.Tensor, state: UniPCState): tf.Tensor {
    const t = state?.tNext;
    if (typeof t !== 'number' || !(this.sde.sigma(t) > 0)) {
      throw new SbmArgumentError(
        'state',
        `expected the state of a step that landed at a time with sigma > 0, got tNext = ${describeValue(t)}`,
      );
    }
    this.#checkState(state, t);
    return tf.tidy(() => {
      const m = this.#convert(modelOutput, x, t);
      return linearCombination(
        this.#update(state.lastSample, state.t, state.outputs, state.lambdas, state.order, t, m),
      );
    });
  }
}

/** Options of {@link unipcSample}. */
export interface UniPCSampleOptions
  extends SamplerBaseOptions<LogSNRMarginals>,
    Omit<UniPCStepperOptions, 'sde' | 'prediction'> {}

/**
 * Samples with UniPC (Zhao et al. 2023, "UniPC: A Unified Predictor-Corrector Framework for Fast
 * Sampling of Diffusion Models", Sec. 3) driven by {@link UniPCStepper}: per step one model evaluation,
 * UniC-p on the previous prediction with it, then UniP-p,
 *
 * $$\tilde x_t = \frac{\sigma_t}{\sigma_s} x_s - \alpha_t (e^{-h} - 1)\, \hat x_0(x_s, s) - \alpha_t B(h) \sum_k a_k D_k$$
 *
 * (data prediction; see {@link UniPCStepper} for the corrector, the coefficients and the noise-prediction form). Defaults: UniPC-2, `bh2`, data prediction,
 * 10 steps uniform in log-SNR from `T` to `tMin`, lower orders in the final steps below 15 steps; any
 * spacing or explicit `timesteps` of {@link TimeGridOptions}, and `finalStep: 'clean'` to end at clean
 * data. NFE = steps.
 *
 * @returns `samples` of `shape` (or `xT.shape`), `[B, ...]`, and `nfe`.
 */
export async function unipcSample(options: UniPCSampleOptions): Promise<SampleResult> {
  const run = new SamplingRun('unipcSample', options);
  const to: Parameterization = options.predictX0 === false ? 'eps' : 'x0';
  return runMultistep(run, new UniPCStepper({ ...options, prediction: to }), to, false);
}
