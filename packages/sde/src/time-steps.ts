import { assertFinite, assertInteger, assertPositive, describeValue, SbmArgumentError } from './errors.js';
import { linspace } from './numeric.js';

/** How {@link timeSteps} places sampling times between `T` and `tMin`. */
export type TimeSpacing = 'uniform' | 'quadratic' | 'logSNR' | 'karras';

/** The SDE facts {@link timeSteps} needs for `'logSNR'` spacing (every {@link SDE} has them). */
export interface LogSNRSchedule {
  /** End time $T$ of the schedule. */
  readonly T: number;
  /** Log-SNR $\log\big(\alpha(t)^2/\sigma(t)^2\big)$, decreasing in t. */
  logSNR(t: number): number;
  /** Inverse of `logSNR`: the $t \in [0, T]$ whose log-SNR is `logSnr`. */
  tFromLogSNR(logSnr: number): number;
}

/** Options of {@link timeSteps}. */
export interface TimeStepsOptions {
  /** Start time, default 1 (or `sde.T`). */
  T?: number;
  /** Last time, default 1e-3 (score_sde's sampling end for VP; 1e-5 is used for VE). */
  tMin?: number;
  /**
   * `'uniform'` in t (default), `'quadratic'` (denser near `tMin`, DDIM's quadratic), `'logSNR'`, or
   * `'karras'` (Karras ρ-spacing of `σ/α`).
   */
  spacing?: TimeSpacing;
  /** Needed for `'logSNR'` and `'karras'` spacing. */
  sde?: LogSNRSchedule;
  /** Exponent $\rho$ of `'karras'` spacing, default 7 (Karras et al. 2022). */
  rho?: number;
}

/**
 * A decreasing grid of `n + 1` sampling times $t_0 = T > t_1 > \dots > t_n = t_{\min}$ for a solver
 * taking `n` steps:
 * - `'uniform'`: $t_i = T + \tfrac{i}{n}(t_{\min} - T)$ (score_sde's `linspace(T, eps, N)`);
 * - `'quadratic'`: $t_i = t_{\min} + (T - t_{\min})(1 - i/n)^2$ (Song et al. 2021, DDIM App. D.2);
 * - `'logSNR'`: uniform in $\log(\alpha^2/\sigma^2)$ between $\operatorname{logSNR}(T)$ and $\operatorname{logSNR}(t_{\min})$
 *   (Lu et al. 2022, DPM-Solver, Sec. 3.3), mapped back with `sde.tFromLogSNR`;
 * - `'karras'`: the scaled noise levels $\tilde\sigma = \sigma/\alpha = e^{-\operatorname{logSNR}/2}$ spaced as in
 *   Karras et al. 2022 (EDM, Eq. 5),
 *   $\tilde\sigma_i = \big(\tilde\sigma_{\max}^{1/\rho} + \tfrac{i}{n}(\tilde\sigma_{\min}^{1/\rho} - \tilde\sigma_{\max}^{1/\rho})\big)^\rho$
 *   with $\tilde\sigma_{\max} = \tilde\sigma(T)$, $\tilde\sigma_{\min} = \tilde\sigma(t_{\min})$, mapped back by
 *   `sde.tFromLogSNR` applied to the log-SNR $-2 \log \tilde\sigma_i$.
 *
 * Endpoints are exactly `T` and `tMin`.
 */
export function timeSteps(n: number, options: TimeStepsOptions = {}): number[] {
  assertInteger('n', n);
  const T = options.T ?? options.sde?.T ?? 1;
  const tMin = options.tMin ?? 1e-3;
  const spacing = options.spacing ?? 'uniform';
  assertFinite('options.T', T);
  assertFinite('options.tMin', tMin);
  if (!(tMin >= 0 && tMin < T)) {
    throw new SbmArgumentError('options.tMin', `expected 0 <= tMin < T (${T}), got ${tMin}`);
  }
  if (spacing === 'uniform') return linspace(T, tMin, n + 1);
  if (spacing === 'quadratic') {
    const out = new Array<number>(n + 1);
    for (let i = 0; i <= n; i++) out[i] = tMin + (T - tMin) * (1 - i / n) ** 2;
    return out;
  }
  if (spacing === 'logSNR' || spacing === 'karras') {
    const { sde } = options;
    if (!sde || typeof sde.logSNR !== 'function' || typeof sde.tFromLogSNR !== 'function') {
      throw new SbmArgumentError(
        'options.sde',
        `an SDE (with logSNR and tFromLogSNR) is required for spacing '${spacing}', got ${describeValue(sde)}`,
      );
    }
    if (!Number.isFinite(sde.logSNR(tMin))) {
      throw new SbmArgumentError(
        'options.tMin',
        `expected tMin > 0 for spacing '${spacing}' (logSNR(${tMin}) is infinite)`,
      );
    }
    let grid: number[];
    if (spacing === 'logSNR') grid = linspace(sde.logSNR(T), sde.logSNR(tMin), n + 1);
    else {
      const rho = options.rho ?? 7;
      assertPositive('options.rho', rho);
      const a = Math.exp(-sde.logSNR(T) / (2 * rho)); // σ̃_max^{1/ρ}
      const b = Math.exp(-sde.logSNR(tMin) / (2 * rho)); // σ̃_min^{1/ρ}
      grid = Array.from({ length: n + 1 }, (_, i) => -2 * rho * Math.log(a + (i / n) * (b - a)));
    }
    const out = grid.map((l) => sde.tFromLogSNR(l));
    out[0] = T;
    out[n] = tMin;
    return out;
  }
  throw new SbmArgumentError(
    'options.spacing',
    `expected 'uniform', 'quadratic', 'logSNR' or 'karras', got ${describeValue(spacing)}`,
  );
}

/** How {@link discreteTimesteps} picks step indices (the names used by diffusers' schedulers). */
export type DiscreteSpacing = 'linspace' | 'leading' | 'trailing' | 'quadratic';

/**
 * `numSteps` $= S$ decreasing step indices out of `0..numTrainSteps−1` ($N$ = `numTrainSteps`) for DDPM/DDIM sampling
 * (Song et al. 2021, DDIM Sec. 4.2 and App. D.2):
 * - `'linspace'`: `round(linspace(0, N−1, S))`, reversed — always includes $N - 1$ and 0;
 * - `'leading'`: $i\,\lfloor N/S \rfloor$ for $i = 0, \dots, S - 1$, reversed (DDIM's original "uniform" skip);
 * - `'trailing'`: $\operatorname{round}(N - iN/S) - 1$ for $i = 0, \dots, S - 1$ — always includes $N - 1$;
 * - `'quadratic'`: $\lfloor u_i^2 \rfloor$ with $u$ = `linspace(0, √(0.8 N), S)`, reversed (DDIM's quadratic skip for CIFAR-10).
 *
 * Indices are distinct; throws if they cannot be.
 */
export function discreteTimesteps(
  numTrainSteps: number,
  numSteps: number,
  spacing: DiscreteSpacing = 'leading',
): number[] {
  assertInteger('numTrainSteps', numTrainSteps);
  assertInteger('numSteps', numSteps);
  if (numSteps > numTrainSteps) {
    throw new SbmArgumentError(
      'numSteps',
      `expected at most numTrainSteps (${numTrainSteps}) steps, got ${numSteps}`,
    );
  }
  const N = numTrainSteps;
  const S = numSteps;
  let steps: number[];
  if (spacing === 'linspace') steps = linspace(0, N - 1, S).map(Math.round);
  else if (spacing === 'leading') steps = Array.from({ length: S }, (_, i) => i * Math.floor(N / S));
  else if (spacing === 'trailing')
    steps = Array.from({ length: S }, (_, i) => Math.round(N - (i * N) / S) - 1).reverse();
  else if (spacing === 'quadratic') steps = linspace(0, Math.sqrt(0.8 * N), S).map((u) => Math.floor(u * u));
  else {
    throw new SbmArgumentError(
      'spacing',
      `expected 'linspace', 'leading', 'trailing' or 'quadratic', got ${describeValue(spacing)}`,
    );
  }
  steps.reverse();
  for (let i = 1; i < steps.length; i++) {
    if (!(steps[i]! < steps[i - 1]!)) {
      throw new SbmArgumentError(
        'numSteps',
        `${S} steps with spacing '${spacing}' give repeated indices out of ${N}; use fewer steps or another spacing`,
      );
    }
  }
  return steps;
}
