import { assertPositive, describeValue, SbmArgumentError, type SDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { DORMAND_PRINCE } from './dormand-prince.js';
import {
  guarded,
  linearCombination,
  readTMin,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';
import { gridTimes, type TimeGridOptions } from './time-grid.js';

/** Integration methods of the probability-flow ODE. */
export type OdeMethod = 'rk45' | 'heun' | 'euler';

/** Options shared by {@link odeSample} and {@link odeEncode}. */
export interface OdeOptions extends Pick<TimeGridOptions, 'spacing' | 'rho' | 'timesteps'> {
  /** `'rk45'` (adaptive Dormand–Prince, default), `'heun'` or `'euler'` (fixed steps). */
  method?: OdeMethod;
  /** Relative tolerance of `'rk45'`, default 1e-5 (score_sde). */
  rtol?: number;
  /** Absolute tolerance of `'rk45'`, default 1e-5. */
  atol?: number;
  /**
   * Steps of `'euler'`/`'heun'`, default 500 for Euler, 100 for Heun, on a grid of `spacing` (default
   * `'uniform'` in t; `'logSNR'`, `'karras'`, `'quadratic'`, or explicit decreasing `timesteps` from `T` to
   * `tMin`, used reversed by {@link odeEncode}).
   */
  steps?: number;
  /** The data end of the interval (default 1e-3, or 1e-5 for VE). */
  tMin?: number;
  /** Most steps `'rk45'` may take (accepted + rejected) before failing, default 10000. */
  maxSteps?: number;
}

/** Options of {@link odeSample}. */
export interface OdeSampleOptions extends SamplerBaseOptions<SDE>, OdeOptions {
  /** After reaching `tMin`, return Tweedie's $\hat x_0 = (x + \sigma^2 s_\theta(x, t_{\min}))/\alpha$ (one more evaluation), default false. */
  denoise?: boolean;
}

/** What {@link odeSample} returns: samples, NFE and the steps the solver took. */
export interface OdeSampleResult extends SampleResult {
  /** Accepted steps. */
  steps: number;
  /** Rejected `'rk45'` steps. */
  rejected: number;
}

const { a: A, c: C, e: E } = DORMAND_PRINCE;

interface Integration {
  x: tf.Tensor;
  steps: number;
  rejected: number;
}

/**
 * The probability-flow ODE (Song et al. 2021, Eq. 13) `dx/dt = f(t) x − ½ g(t)² s_θ(x, t)`, integrated
 * from `t0` to `t1` (either direction) from `x0` (not disposed); `run.afterStep` follows every accepted
 * step, with the denoised estimate from the score that started it.
 */
async function integrate(
  run: SamplingRun,
  sde: SDE,
  x0: tf.Tensor,
  t0: number,
  t1: number,
  options: OdeOptions,
): Promise<Integration> {
  const method = options.method ?? 'rk45';
  const drift = async (x: tf.Tensor, t: number): Promise<{ k: tf.Tensor; score: tf.Tensor }> => {
    const score = await run.evaluate(x, t, 'score');
    const g = sde.diffusionCoefficient(t);
    return {
      k: linearCombination([
        [sde.driftCoefficient(t), x],
        [-0.5 * g * g, score],
      ]),
      score,
    };
  };
  let steps = 0;
  let rejected = 0;
  if (method === 'euler' || method === 'heun') {
    const grid = gridTimes(
      sde,
      { ...options, tMin: Math.min(t0, t1) },
      { steps: method === 'euler' ? 500 : 100, spacing: 'uniform' },
    );
    const n = grid.length - 1;
    if (t1 > t0) grid.reverse();
    const x = await guarded(tf.clone(x0), async (state) => {
      for (let i = 0; i < n; i++) {
        const t = grid[i]!;
        const h = grid[i + 1]! - t;
        const first = await drift(state.x, t);
        let next: tf.Tensor;
        if (method === 'euler') {
          next = linearCombination([
            [1, state.x],
            [h, first.k],
          ]);
        } else {
          const predicted = linearCombination([
            [1, state.x],
            [h, first.k],
          ]);
          const second = await drift(predicted, grid[i + 1]!);
          next = linearCombination([
            [1, state.x],
            [h / 2, first.k],
            [h / 2, second.k],
          ]);
          tf.dispose([predicted, second.k, second.score]);
        }
        const denoised = run.denoisedFor(state.x, t, first.score, 'score');
        tf.dispose([first.k, first.score, state.x]);
        state.x = next;
        steps++;
        await run.afterStep(i, n, grid[i + 1]!, state.x, denoised);
      }
    });
    return { x, steps, rejected };
  }
  if (method !== 'rk45') {
    throw new SbmArgumentError(
      'options.method',
      `expected 'rk45', 'heun' or 'euler', got ${describeValue(method)}`,
    );
  }
  const rtol = options.rtol ?? 1e-5;
  const atol = options.atol ?? 1e-5;
  assertPositive('options.rtol', rtol);
  assertPositive('options.atol', atol);
  const maxSteps = options.maxSteps ?? 10000;
  const direction = Math.sign(t1 - t0);
  const span = Math.abs(t1 - t0);
  // RMS norm of v / (atol + rtol·max(|a|, |b|)) over all elements (Hairer et al., Sec. II.4).
  const scaledNorm = async (v: tf.Tensor, a: tf.Tensor, b: tf.Tensor): Promise<number> => {
    const r = tf.tidy(() =>
      tf.sqrt(tf.mean(tf.square(tf.div(v, tf.add(tf.mul(tf.maximum(tf.abs(a), tf.abs(b)), rtol), atol))))),
    );
    const value = (await r.data())[0]!;
    r.dispose();
    return value;
  };
  const x = await guarded(tf.clone(x0), async (state) => {
    let t = t0;
    let current = await drift(state.x, t);
    try {
      // Initial step size (Hairer et al., Sec. II.4): h = 0.01 ‖x‖/‖f‖, refined by a second-derivative estimate.
      const d0 = await scaledNorm(state.x, state.x, state.x);
      const d1 = await scaledNorm(current.k, state.x, state.x);
      let h = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
      h = Math.min(h, span);
      const probe = linearCombination([
        [1, state.x],
        [direction * h, current.k],
      ]);
      const probeDrift = await drift(probe, t + direction * h);
      const diff = tf.sub(probeDrift.k, current.k);
      const d2 = (await scaledNorm(diff, state.x, state.x)) / h;
      tf.dispose([probe, probeDrift.k, probeDrift.score, diff]);
      const h1 = Math.max(d1, d2) <= 1e-15 ? Math.max(1e-6, h * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / 5);
      h = Math.min(100 * h, h1, span);
      while (direction * (t1 - t) > 1e-12 * span) {
        if (steps + rejected >= maxSteps) {
          throw new SbmArgumentError(
            'options.maxSteps',
            `rk45 needed more than ${maxSteps} steps (t = ${t}); loosen rtol/atol`,
          );
        }
        const last = h >= Math.abs(t1 - t);
        const step = last ? t1 - t : direction * h;
        const ks: tf.Tensor[] = [current.k];
        const scores: tf.Tensor[] = [];
        for (let s = 1; s < 7; s++) {
          const xs = linearCombination([
            [1, state.x],
            ...A[s]!.map((a, j) => [step * a, ks[j]!] as [number, tf.Tensor]),
          ]);
          const stage = await drift(xs, s === 6 ? t + step : t + C[s]! * step);
          ks.push(stage.k);
          scores.push(stage.score);
          if (s === 6) {
            // FSAL: the last stage point is the 5th-order solution.
            const err = linearCombination(E.map((e, j) => [step * e, ks[j]!] as [number, tf.Tensor]));
            const errNorm = await scaledNorm(err, state.x, xs);
            err.dispose();
            if (errNorm <= 1) {
              const denoised = run.denoisedFor(state.x, t, current.score, 'score');
              tf.dispose([state.x, current.k, current.score, ...ks.slice(1, 6), ...scores.slice(0, 5)]);
              state.x = xs;
              t = last ? t1 : t + step;
              current = { k: stage.k, score: stage.score };
              await run.afterStep(steps, steps + 1, t, state.x, denoised);
              steps++;
              h = Math.abs(step) * Math.min(10, Math.max(0.2, 0.9 * errNorm ** -0.2));
            } else {
              rejected++;
              xs.dispose();
              tf.dispose(ks.slice(1));
              tf.dispose(scores);
              h = Math.abs(step) * Math.max(0.2, 0.9 * errNorm ** -0.2);
            }
          } else {
            xs.dispose();
          }
        }
      }
    } finally {
      tf.dispose([current.k, current.score]);
    }
  });
  return { x, steps, rejected };
}

/**
 * Samples by solving the probability-flow ODE (Song et al. 2021, Eq. 13)
 *
 * $$\frac{dx}{dt} = \tilde f(x, t) = f(t)\, x - \tfrac12 g(t)^2\, s_\theta(x, t)$$
 *
 * from $t = T$ (a prior draw, or `xT`) to `tMin`; `x [B, ...]`, $f(t)$ and $g(t)$ the SDE's drift and diffusion
 * coefficients. Methods: adaptive Dormand–Prince RK45 (5th order with an embedded 4th-order error estimate;
 * a step is accepted when the RMS over all elements of $e_j / (\text{atol} + \text{rtol} \max(|x_j|, |x'_j|))$
 * is at most 1, as score_sde's `scipy.integrate.solve_ivp`), or with a fixed step $h$ on a time grid
 * Euler, $x' = x + h \tilde f(x, t)$ (1 NFE/step), or Heun,
 * $x' = x + \tfrac{h}{2}\big(\tilde f(x, t) + \tilde f(x + h \tilde f(x, t), t + h)\big)$ (2 NFE/step), with $h < 0$ here.
 * Deterministic given `xT`. The step-size control of RK45 uses the whole batch (as score_sde), so adaptive
 * results agree across batch sizes only to the tolerance.
 */
export async function odeSample(options: OdeSampleOptions): Promise<OdeSampleResult> {
  const run = new SamplingRun('odeSample', options);
  const sde = requireSde(options.sde);
  const fixedGrid =
    options.timesteps !== undefined && options.method !== undefined && options.method !== 'rk45';
  const tMin = fixedGrid ? options.timesteps![options.timesteps!.length - 1]! : readTMin(sde, options.tMin);
  const start = run.initial(sde.priorStd);
  let result: Integration;
  try {
    result = await integrate(run, sde, start, sde.T, tMin, options);
  } finally {
    start.dispose();
  }
  let samples = result.x;
  if (options.denoise) {
    const score = await run.evaluate(samples, tMin, 'score');
    const a = sde.alpha(tMin);
    const s2 = sde.sigma(tMin) ** 2;
    const denoised = linearCombination([
      [1 / a, samples],
      [s2 / a, score],
    ]);
    tf.dispose([score, samples]);
    samples = denoised;
  }
  return { samples, nfe: run.nfe, steps: result.steps, rejected: result.rejected };
}

/** Options of {@link odeEncode}. */
export interface OdeEncodeOptions extends OdeOptions {
  /** The forward SDE whose probability-flow ODE is integrated (VPSDE, SubVPSDE, VESDE, …). */
  sde: SDE;
  /** A {@link ModelAdapter} from `wrapModel`, or a score function $(x, t) \mapsto \nabla_x \log p_t(x)$. */
  model: SamplerBaseOptions['model'];
  /** Data (at `tMin`) to encode, `[B, ...]`; not disposed. */
  x: tf.Tensor;
  /** Class labels `[B, ...]` passed to the model as its third input (a class-conditional model). */
  labels?: tf.Tensor;
  /** Aborts the solve between steps (the signal's reason is thrown). */
  signal?: AbortSignal;
}

/**
 * Encodes data into latents by solving the probability-flow ODE
 * $dx/dt = f(t)\, x - \tfrac12 g(t)^2 s_\theta(x, t)$ forward, from `tMin` to `T` (DDIM-style inversion;
 * Song et al. 2021, Sec. 4.3), with the methods and tolerances of {@link odeSample}. `odeSample` with `xT` = the
 * latents decodes them.
 *
 * @returns `latents` of the shape of `x`, `nfe`, and the steps taken.
 */
export async function odeEncode(options: OdeEncodeOptions): Promise<{
  /** $x(T)$, the latents, of the shape of `x` `[B, ...]` (the caller disposes them). */
  latents: tf.Tensor;
  /** Number of model evaluations (network function evaluations). */
  nfe: number;
  /** Accepted steps. */
  steps: number;
  /** Rejected `'rk45'` steps (0 for `'euler'` and `'heun'`). */
  rejected: number;
}> {
  const { x } = options;
  if (!(x instanceof tf.Tensor))
    throw new SbmArgumentError('options.x', `expected a tensor [B, ...], got ${describeValue(x)}`);
  const run = new SamplingRun('odeEncode', { ...options, xT: x, seed: 0 });
  const sde = requireSde(options.sde);
  const tMin = readTMin(sde, options.tMin);
  const result = await integrate(run, sde, x, tMin, sde.T, options);
  return { latents: result.x, nfe: run.nfe, steps: result.steps, rejected: result.rejected };
}

function requireSde(sde: SDE): SDE {
  if (typeof (sde as { driftCoefficient?: unknown }).driftCoefficient !== 'function') {
    throw new SbmArgumentError('options.sde', 'expected an SDE (VPSDE, SubVPSDE, VESDE, ...)');
  }
  return sde;
}
