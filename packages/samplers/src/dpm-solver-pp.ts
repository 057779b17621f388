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
  gridTimes,
  type LogSNRMarginals,
  lambdaAt,
  requireLogSNR,
  sigmaAt,
  type TimeGridOptions,
} from './time-grid.js';

/**
 * Multistep history of {@link DPMSolverPlusPlusStepper} after a step from $t_{i-1}$ to $t_i$: the
 * denoised estimates $\hat x_0$ of the last one or two evaluations and the step sizes in $\lambda = \log(\alpha/\sigma)$
 * that separate them. It owns its tensors: pass it to the next `step` (which consumes it) or release it
 * with {@link DPMSolverPlusPlusStepper.release}.
 */
export interface DPMSolverPlusPlusState {
  /** $\hat x_0$ at the last evaluated time $t_{i-1}$, shape of `x` (owned by the state). */
  previousDenoised: tf.Tensor;
  /** $h_{i-1} = \lambda(t_i) - \lambda(t_{i-1})$, the step taken after that evaluation ($+\infty$ after a step to clean data). */
  previousH: number;
  /** $\hat x_0$ at $t_{i-2}$, shape of `x` (owned; kept only by order 3, once two steps are done). */
  olderDenoised?: tf.Tensor;
  /** $h_{i-2} = \lambda(t_{i-1}) - \lambda(t_{i-2})$ (with `olderDenoised`). */
  olderH?: number;
}

/** The two DPM-Solver++ variants: the probability-flow ODE solver, or the reverse-SDE solver with fresh noise. */
export type DPMSolverPlusPlusAlgorithm = 'dpmsolver++' | 'sde-dpmsolver++';

/** Options of {@link DPMSolverPlusPlusStepper} (time grid: default 25 steps uniform in log-SNR, `finalStep: 'tMin'`). */
export interface DPMSolverPlusPlusStepperOptions extends TimeGridOptions {
  /** The marginals: an SDE of `@sbm/sde` or `discreteMarginals(schedule)` (time = step index). */
  sde: LogSNRMarginals;
  /** Parameterization of the model outputs passed to `step`, default `'eps'`. */
  prediction?: Parameterization;
  /** Multistep order 1, 2 (default, DPM-Solver++(2M)) or 3 (DPM-Solver++(3M)); NFE = steps for all. */
  order?: 1 | 2 | 3;
  /**
   * `'dpmsolver++'` (default): the probability-flow ODE, deterministic. `'sde-dpmsolver++'`: the reverse
   * diffusion SDE (diffusers' `sde-dpmsolver++`, k-diffusion's `dpmpp_2m_sde` with $\eta = 1$); every step but one
   * to clean data then takes standard normal noise.
   */
  algorithm?: DPMSolverPlusPlusAlgorithm;
  /**
   * diffusers' rule for few steps: with fewer than 15 steps the last step is first order and the one before
   * it at most second order. Default true. (A step to clean data is always first order.)
   */
  lowerOrderFinal?: boolean;
}

/**
 * `φ_k(−z)` for `z ≥ 0`, with `φ_1(u) = (e^u − 1)/u`, `φ_{k+1}(u) = (φ_k(u) − 1/k!)/u` (the exponential
 * integrator functions, `φ_k(u) = Σ_j u^j/(j + k)!`); by the series where the closed form cancels.
 */
function phiNeg(k: 1 | 2 | 3, z: number): number {
  if (z < 0.05) {
    let term = 1;
    for (let i = 2; i <= k; i++) term /= i; // 1/k!
    let sum = term;
    for (let j = 1; j < 12; j++) {
      term *= -z / (j + k);
      sum += term;
    }
    return sum;
  }
  const p1 = -Math.expm1(-z) / z;
  if (k === 1) return p1;
  const p2 = (1 - p1) / z;
  return k === 2 ? p2 : (0.5 - p2) / z;
}

/**
 * DPM-Solver++ (Lu et al. 2022b, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models"), multistep with data prediction, as a stateless stepper. With
 * $\lambda = \log(\alpha/\sigma)$, the step from $x = x_{t_{i-1}}$ to $t_i$ of size $h = \lambda_{t_i} - \lambda_{t_{i-1}}$,
 * the model's denoised estimates $m_0, m_1, m_2$ at $t_{i-1}, t_{i-2}, t_{i-3}$ and the step ratios
 * $r_0 = h_{i-1}/h$, $r_1 = h_{i-2}/h$, the step is (all tensors of the shape of `x`, `[B, ...]`; $\alpha_i$,
 * $\sigma_i$ at $t_i$):
 *
 * - ODE (`'dpmsolver++'`): the exact solution of the probability-flow ODE in data prediction,
 *   $$x_t = \frac{\sigma_t}{\sigma_s} x_s + \sigma_t \int_{\lambda_s}^{\lambda_t} e^{\lambda} \hat x_0(\lambda)\,d\lambda,$$
 *   with $\hat x_0$ expanded in $\lambda$. Order 1 is DDIM, $x_i = (\sigma_i/\sigma_{i-1})\, x + \alpha_i (1 - e^{-h}) m_0$;
 *   order 2 (Alg. 2, 2M) adds $\tfrac12 \alpha_i (1 - e^{-h}) D_1$ with $D_1 = (m_0 - m_1)/r_0$; order 3 (3M) is
 *   $$x_i = \frac{\sigma_i}{\sigma_{i-1}} x + \alpha_i \big[h \varphi_1(-h)\, m_0 + h \varphi_2(-h)\, D_1 + 2h \varphi_3(-h)\, D_2\big]$$
 *   with $d_0 = (m_0 - m_1)/r_0$, $d_1 = (m_1 - m_2)/r_1$, $D_1 = d_0 + r_0 (d_0 - d_1)/(r_0 + r_1)$,
 *   $D_2 = (d_0 - d_1)/(r_0 + r_1)$ (so $D_1 \approx h\,\hat x_0'$, $D_2 \approx \tfrac12 h^2 \hat x_0''$),
 *   $\varphi_1(u) = (e^u - 1)/u$, $\varphi_{k+1}(u) = (\varphi_k(u) - 1/k!)/u$: the Taylor coefficients, exact when
 *   $\hat x_0$ is quadratic in $\lambda$. (diffusers and k-diffusion weight $D_2$ by $h \varphi_3(-h)$, half of
 *   this; their 3M is then exact only for linear $\hat x_0$ and formally second order.)
 * - SDE (`'sde-dpmsolver++'`, the authors' SDE variant as in diffusers and k-diffusion's `dpmpp_2m_sde` with
 *   $\eta = 1$): the reverse diffusion SDE solved exactly in its linear part,
 *   $$x_t = \frac{\sigma_t}{\sigma_s} e^{-h} x_s + 2\alpha_t \int_{\lambda_s}^{\lambda_t} e^{-2(\lambda_t - \lambda)} \hat x_0(\lambda)\,d\lambda + \sigma_t \sqrt{1 - e^{-2h}}\,z,$$
 *   so $x_i = (\sigma_i/\sigma_{i-1})\, e^{-h} x + \alpha_i (1 - e^{-2h})\, m_0 + [\text{order} \ge 2 \text{ terms}] + \sigma_i \sqrt{1 - e^{-2h}}\, z$
 *   with $z \sim \mathcal{N}(0, I)$ (the `noise` argument); order 2 adds $\tfrac12 \alpha_i (1 - e^{-2h}) D_1$
 *   (diffusers' midpoint form), order 3 adds $\alpha_i \big[2h \varphi_2(-2h)\, D_1 + 4h \varphi_3(-2h)\, D_2\big]$.
 *
 * The order used is $\min(\text{order}, 1 + \text{history})$ (warm-up), first order for the last step and at
 * most second for the one before when `lowerOrderFinal` and fewer than 15 steps (diffusers' rule), and first
 * order for a step to clean data (`tNext: null`, $\lambda = +\infty$), whose exact limit is $x_i = \hat x_0$.
 *
 * @example
 * ```ts
 * const solver = new DPMSolverPlusPlusStepper({ sde, steps: 20, order: 3, prediction: 'eps' });
 * let state;
 * for (const info of solver.schedule()) {
 *   const eps = myModel(x, info.t);
 *   const out = solver.step(eps, info, x, state);
 *   tf.dispose([eps, out.denoised, x]);
 *   x = out.prevSample;
 *   state = out.state;
 * }
 * solver.release(state);
 * ```
 */
export class DPMSolverPlusPlusStepper {
  /** The marginals $\alpha(t)$, $\sigma(t)$ with the log-SNR $2\lambda(t)$ and its inverse (an SDE or `discreteMarginals`). */
  readonly sde: LogSNRMarginals;
  /** Parameterization of the model outputs passed to `step` (default `'eps'`); converted to $\hat x_0$. */
  readonly prediction: Parameterization;
  /** Highest multistep order: 1, 2 (default, 2M) or 3 (3M). */
  readonly order: 1 | 2 | 3;
  /** `'dpmsolver++'` (probability-flow ODE, default) or `'sde-dpmsolver++'` (reverse SDE, takes `noise`). */
  readonly algorithm: DPMSolverPlusPlusAlgorithm;
  /** Whether the last steps drop to first/second order below 15 steps (default true). */
  readonly lowerOrderFinal: boolean;
  /**
   * The grid times, decreasing: `steps + 1` of them ending at `tMin` (`finalStep: 'tMin'`), or the `steps`
   * evaluated times followed by a step to clean data (`finalStep: 'clean'`).
   */
  readonly timesteps: readonly number[];
  readonly #schedule: readonly StepInfo[];

  /** Checks the options and builds the time grid (default 25 steps uniform in log-SNR, ending at `tMin`). */
  constructor(options: DPMSolverPlusPlusStepperOptions) {
    if (!options || typeof options !== 'object') {
      throw new SbmArgumentError('options', `expected an options object, got ${describeValue(options)}`);
    }
    requireLogSNR(options.sde, 'DPMSolverPlusPlusStepper');
    this.sde = options.sde;
    this.prediction = options.prediction ?? 'eps';
    const order = options.order ?? 2;
    if (order !== 1 && order !== 2 && order !== 3) {
      throw new SbmArgumentError('options.order', `expected 1, 2 or 3, got ${describeValue(order)}`);
    }
    this.order = order;
    const algorithm = options.algorithm ?? 'dpmsolver++';
    if (algorithm !== 'dpmsolver++' && algorithm !== 'sde-dpmsolver++') {
      throw new SbmArgumentError(
        'options.algorithm',
        `expected 'dpmsolver++' or 'sde-dpmsolver++', got ${describeValue(algorithm)}`,
      );
    }
    this.algorithm = algorithm;
    const lowerOrderFinal = options.lowerOrderFinal ?? true;
    if (typeof lowerOrderFinal !== 'boolean') {
      throw new SbmArgumentError(
        'options.lowerOrderFinal',
        `expected a boolean, got ${describeValue(lowerOrderFinal)}`,
      );
    }
    this.lowerOrderFinal = lowerOrderFinal;
    const defaults = { steps: 25, spacing: 'logSNR' } as const;
    this.#schedule = Object.freeze(gridSchedule(options.sde, options, defaults).map((s) => Object.freeze(s)));
    this.timesteps = Object.freeze(
      gridTimes(options.sde, options, defaults, options.finalStep === 'clean' ? 1 : 2),
    );
  }

  /** The steps: evaluate at `t`, step to `tNext` (`null`: clean data). */
  schedule(): StepInfo[] {
    return this.#schedule.map((s) => ({ ...s }));
  }

  /** The order the step `index` of the schedule uses with `history` stored estimates (see the class doc). */
  orderAt(index: number, history: number, toClean = false): 1 | 2 | 3 {
    const n = this.#schedule.length;
    let order = Math.min(this.order, 1 + history);
    if (toClean) order = 1;
    if (this.lowerOrderFinal && n < 15) {
      if (index === n - 1) order = 1;
      else if (index === n - 2) order = Math.min(order, 2);
    }
    return order as 1 | 2 | 3;
  }

  /**
   * One step from `x` (at `info.t`) to `info.tNext`.
   * @param modelOutput - the model's prediction at `(x, info.t)` in `prediction` parameterization, shape of `x`.
   * @param info - a {@link StepInfo} (from `schedule()`, or your own with `tNext < t` or `null`).
   * @param x - the current state `[B, ...]`.
   * @param state - the state returned by the previous step (`undefined` on the first); consumed: its
   *   tensors are disposed (the returned state owns copies of what it keeps).
   * @param noise - standard normal noise of the shape of `x`; required by `'sde-dpmsolver++'` except on a
   *   step to clean data.
   * @returns `prevSample` at `tNext`, `denoised` ($\hat x_0$ at `t`) and the new state; inputs other than
   *   `state` are not disposed.
   */
  step(
    modelOutput: tf.Tensor,
    info: StepInfo,
    x: tf.Tensor,
    state?: DPMSolverPlusPlusState,
    noise?: tf.Tensor,
  ): StepOutput<DPMSolverPlusPlusState> {
    const { sde } = this;
    const { t, tNext } = info ?? ({} as StepInfo);
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
    const lambdaS = lambdaAt(sde, t);
    if (!Number.isFinite(lambdaS)) {
      throw new SbmArgumentError('info', `expected sigma(t) > 0 and alpha(t) > 0, got t = ${t}`);
    }
    if (!(x instanceof tf.Tensor)) {
      throw new SbmArgumentError('x', `expected a tensor, got ${describeValue(x)}`);
    }
    const history = checkState(state, x);
    const h = lambdaAt(sde, tNext) - lambdaS; // +∞ when σ(tNext) = 0
    const toClean = h === Number.POSITIVE_INFINITY;
    const sde2 = this.algorithm === 'sde-dpmsolver++';
    const alphaNext = alphaAt(sde, tNext);
    const sigmaNext = sigmaAt(sde, tNext);
    const noiseStd = sde2 && !toClean ? sigmaNext * Math.sqrt(-Math.expm1(-2 * h)) : 0;
    if (noiseStd > 0 && !(noise instanceof tf.Tensor && tf.util.arraysEqual(noise.shape, x.shape))) {
      throw new SbmArgumentError(
        'noise',
        `expected standard normal noise of the shape of x [${x.shape.join(',')}], got ${describeValue(noise)}`,
      );
    }
    const order = this.orderAt(info.index, history, toClean);

    // x_i = decay·x + Σ c_k·(estimate k) (+ noiseStd·z); z = ρh with ρ = 1 (ODE) or 2 (SDE).
    const rho = sde2 ? 2 : 1;
    const z = rho * h;
    const decay = toClean ? 0 : (sigmaNext / sde.sigma(t)) * (sde2 ? Math.exp(-h) : 1);
    const c0 = toClean ? alphaNext : -alphaNext * Math.expm1(-z);
    const coefficients: [number, number, number] = [c0, 0, 0]; // on m0, m1, m2
    if (order === 2) {
      // ½ c0 D_1, D_1 = (m0 − m1)/r0
      const r0 = state!.previousH / h;
      coefficients[0] += c0 / (2 * r0);
      coefficients[1] -= c0 / (2 * r0);
    } else if (order === 3) {
      const r0 = state!.previousH / h;
      const r1 = state!.olderH! / h;
      const c1 = alphaNext * z * phiNeg(2, z); // on D_1 ≈ h x̂0'
      const c2 = 2 * alphaNext * z * phiNeg(3, z); // on D_2 ≈ ½ h² x̂0''
      // d0 = (m0 − m1)/r0, d1 = (m1 − m2)/r1, D1 = d0 + r0/(r0 + r1)(d0 − d1), D2 = (d0 − d1)/(r0 + r1)
      const wD0 = c1 * (1 + r0 / (r0 + r1)) + c2 / (r0 + r1); // weight on d0
      const wD1 = -(c1 * r0) / (r0 + r1) - c2 / (r0 + r1); // weight on d1
      coefficients[0] += wD0 / r0;
      coefficients[1] += -wD0 / r0 + wD1 / r1;
      coefficients[2] -= wD1 / r1;
    }
    const out = tf.tidy(() => {
      const denoised =
        this.prediction === 'x0'
          ? tf.clone(modelOutput)
          : convertPrediction({ sde, x, t, value: modelOutput, from: this.prediction, to: 'x0' });
      const terms: [number, tf.Tensor][] = [
        [decay, x],
        [coefficients[0], denoised],
      ];
      if (order >= 2) terms.push([coefficients[1], state!.previousDenoised]);
      if (order === 3) terms.push([coefficients[2], state!.olderDenoised!]);
      if (noiseStd > 0) terms.push([noiseStd, noise!]);
      const prevSample = linearCombination(terms);
      const kept = tf.clone(denoised);
      const older = this.order === 3 && state !== undefined ? tf.clone(state.previousDenoised) : undefined;
      return { prevSample, denoised, kept, older };
    });
    const next: DPMSolverPlusPlusState = { previousDenoised: out.kept, previousH: h };
    if (out.older !== undefined) {
      next.olderDenoised = out.older;
      next.olderH = state!.previousH;
    }
    this.release(state);
    return { prevSample: out.prevSample, denoised: out.denoised, state: next };
  }

  /** Disposes the tensors a state owns (e.g. the final state after the last step); `undefined` is ignored. */
  release(state: DPMSolverPlusPlusState | undefined): void {
    if (state === undefined) return;
    state.previousDenoised?.dispose();
    state.olderDenoised?.dispose();
  }
}

/** Checks a passed state against `x`; returns how many past estimates it holds. */
function checkState(state: DPMSolverPlusPlusState | undefined, x: tf.Tensor): number {
  if (state === undefined) return 0;
  const ok = (v: unknown) => v instanceof tf.Tensor && !v.isDisposed && tf.util.arraysEqual(v.shape, x.shape);
  const okH = (v: unknown) => typeof v === 'number' && v > 0;
  if (!state || typeof state !== 'object' || !ok(state.previousDenoised) || !okH(state.previousH)) {
    throw new SbmArgumentError(
      'state',
      `expected the state returned by the previous step ({ previousDenoised: tensor of the shape of x, previousH > 0 }), got ${describeValue(state)}`,
    );
  }
  if (state.olderDenoised === undefined) return 1;
  if (!ok(state.olderDenoised) || !okH(state.olderH)) {
    throw new SbmArgumentError(
      'state',
      'expected olderDenoised to be a tensor of the shape of x with olderH > 0',
    );
  }
  return 2;
}

/** Options of {@link dpmSolverPlusPlusSample}. */
export interface DPMSolverPlusPlusOptions
  extends SamplerBaseOptions<LogSNRMarginals>,
    Omit<DPMSolverPlusPlusStepperOptions, 'sde' | 'prediction'> {}

/**
 * Samples with DPM-Solver++ (Lu et al. 2022b) driven by {@link DPMSolverPlusPlusStepper}: order 2 (2M,
 * default) or 3 (3M), ODE or SDE (`algorithm: 'sde-dpmsolver++'`, noise from the per-sample streams), on any
 * time grid (default 25 steps uniform in log-SNR from `T` to `tMin`). NFE = steps. The 2M step, with
 * $h = \lambda_{t_i} - \lambda_{t_{i-1}}$, $r_0 = h_{i-1}/h$ and the denoised estimates $m_0$, $m_1$ at $t_{i-1}$, $t_{i-2}$:
 *
 * $$x_{t_i} = \frac{\sigma_{t_i}}{\sigma_{t_{i-1}}}\, x_{t_{i-1}} + \alpha_{t_i} \big(1 - e^{-h}\big) \Big(m_0 + \frac{m_0 - m_1}{2 r_0}\Big).$$
 *
 * Samples are `[B, ...]` (`shape` or `xT.shape`).
 *
 * @returns `samples` of `shape` (or `xT.shape`) and `nfe`.
 */
export async function dpmSolverPlusPlusSample(options: DPMSolverPlusPlusOptions): Promise<SampleResult> {
  const run = new SamplingRun('dpmSolverPlusPlusSample', options);
  const stepper = new DPMSolverPlusPlusStepper({ ...options, prediction: 'x0' });
  return runMultistep(run, stepper, 'x0', stepper.algorithm === 'sde-dpmsolver++');
}
