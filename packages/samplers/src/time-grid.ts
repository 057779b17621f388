import {
  describeValue,
  type LogSNRSchedule,
  type MarginalCoefficients,
  SbmArgumentError,
  type TimeSpacing,
  timeSteps,
} from '@sbm/sde';
import { readSteps, readTimesList, readTMin } from './sampling-run.js';
import type { StepInfo } from './stepper.js';

/**
 * What the log-SNR solvers (DPM-Solver(++), UniPC, …) need of the forward process: the marginal
 * coefficients $\alpha(t)$, $\sigma(t)$ and the log-SNR $\log(\alpha^2/\sigma^2) = 2\lambda(t)$ with its inverse. Every SDE of `@sbm/sde`
 * and `discreteMarginals(schedule)` qualify.
 */
export type LogSNRMarginals = MarginalCoefficients & LogSNRSchedule;

/**
 * The time-step schedule options every fixed-step solver takes (first-class: any spacing with any solver).
 * NFE is fixed by `steps` (and the solver's evaluations per step); `finalStep` does not change it.
 */
export interface TimeGridOptions {
  /** Number of steps $n$, default per solver. */
  steps?: number;
  /** Last time $t_n$ (default 1e-3 where $\sigma(0) = 0$, else 1e-5; `discreteMarginals`: use 0). */
  tMin?: number;
  /**
   * How the $n + 1$ times from $T$ to $t_{\min}$ are placed: `'uniform'` in $t$, `'quadratic'` in $t$ (DDIM),
   * `'logSNR'` (uniform in $\lambda = \tfrac12 \log(\alpha^2/\sigma^2)$, DPM-Solver), `'karras'` (EDM's
   * $\rho$-spacing of $\sigma/\alpha$, uniform in $(\sigma/\alpha)^{1/\rho}$). Default per solver.
   */
  spacing?: TimeSpacing;
  /** $\rho$ of `'karras'` spacing, default 7. */
  rho?: number;
  /** Explicit strictly decreasing times $t_0 > \dots > t_n$ in `[0, T]` (overrides steps/spacing/tMin/rho). */
  timesteps?: readonly number[];
  /**
   * Where the last step lands. `'tMin'` (default): the grid is `n + 1` times `T … tMin` and the last
   * step lands at `tMin` (never evaluated). `'clean'`: the grid is `n` times `T … tMin`, every one of
   * them evaluated, and the last step goes from `tMin` to clean data ($\alpha = 1$, $\sigma = 0$), as DDIM and
   * diffusers' `final_sigmas_type: 'zero'` do; explicit `timesteps` are then all evaluated. Either way
   * the solver takes `n` steps.
   */
  finalStep?: 'tMin' | 'clean';
}

/** Checks that `sde` gives `logSNR`/`tFromLogSNR` (needed by log-SNR solvers). @internal */
export function requireLogSNR(sde: unknown, sampler: string): asserts sde is LogSNRMarginals {
  const s = sde as Partial<LogSNRMarginals> | undefined;
  if (
    !s ||
    typeof s.alpha !== 'function' ||
    typeof s.sigma !== 'function' ||
    typeof s.logSNR !== 'function' ||
    typeof s.tFromLogSNR !== 'function'
  ) {
    throw new SbmArgumentError(
      'options.sde',
      `expected an SDE or discreteMarginals (with logSNR and tFromLogSNR) for ${sampler}, got ${describeValue(sde)}`,
    );
  }
}

/**
 * The `n + 1` decreasing times `t_0 = T > … > t_n` of a fixed-step solver: the user's `timesteps`, or
 * `timeSteps(n, { spacing, tMin, rho })` of `@sbm/sde`. @internal
 */
export function gridTimes(
  sde: MarginalCoefficients,
  options: TimeGridOptions,
  defaults: { steps: number; spacing: TimeSpacing },
  minLength = 2,
): number[] {
  if (options.timesteps !== undefined) {
    const ts = readTimesList(options.timesteps, sde.T);
    if (ts.length < minLength) {
      throw new SbmArgumentError('options.timesteps', `expected at least ${minLength} times`);
    }
    return ts;
  }
  // n + 1 grid points for n steps, or n points when the last step goes to clean data (minLength 1).
  const n = readSteps(options.steps, defaults.steps) - (minLength === 1 ? 1 : 0);
  if (n === 0) return [sde.T];
  const tMin = readTMin(sde, options.tMin);
  const spacing = options.spacing ?? defaults.spacing;
  if (spacing === 'logSNR' || spacing === 'karras') requireLogSNR(sde, `spacing '${spacing}'`);
  return timeSteps(n, {
    T: sde.T,
    tMin,
    spacing,
    rho: options.rho,
    sde: spacing === 'logSNR' || spacing === 'karras' ? (sde as LogSNRMarginals) : undefined,
  });
}

/**
 * The steps of a fixed-step solver over {@link gridTimes}: step `i` evaluates at `t_i` and lands at
 * `t_{i+1}`; with `finalStep: 'clean'` every grid time is evaluated and the last step lands at clean
 * data (`tNext: null`). @internal
 */
export function gridSchedule(
  sde: MarginalCoefficients,
  options: TimeGridOptions,
  defaults: { steps: number; spacing: TimeSpacing },
): StepInfo[] {
  const finalStep = options.finalStep ?? 'tMin';
  if (finalStep !== 'tMin' && finalStep !== 'clean') {
    throw new SbmArgumentError(
      'options.finalStep',
      `expected 'tMin' or 'clean', got ${describeValue(finalStep)}`,
    );
  }
  const clean = finalStep === 'clean';
  const ts = gridTimes(sde, options, defaults, clean ? 1 : 2);
  const evaluated = clean ? ts : ts.slice(0, -1);
  return evaluated.map((t, index) => ({ index, t, tNext: index + 1 < ts.length ? ts[index + 1]! : null }));
}

/** `α` at a step's target (1 at clean data). @internal */
export function alphaAt(sde: MarginalCoefficients, t: number | null): number {
  return t === null ? 1 : sde.alpha(t);
}

/** `σ` at a step's target (0 at clean data). @internal */
export function sigmaAt(sde: MarginalCoefficients, t: number | null): number {
  return t === null ? 0 : sde.sigma(t);
}

/** `λ = log(α/σ)` (half the log-SNR) at a step's target (+∞ at clean data). @internal */
export function lambdaAt(sde: LogSNRMarginals, t: number | null): number {
  return t === null ? Number.POSITIVE_INFINITY : 0.5 * sde.logSNR(t);
}
