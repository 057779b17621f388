import * as tf from '@tensorflow/tfjs-core';
import type { DiscreteSchedule } from './beta-schedules.js';
import { describeValue, SbmArgumentError } from './errors.js';
import { batchSize, coefficientTensor, expandToRank, readTimes, type TimeInput } from './time-input.js';

/**
 * What a network predicts, for a marginal `x_t = α(t) x_0 + σ(t) ε`, `ε ~ N(0, I)`:
 * - `'score'`: `∇_x log p_t(x) ≈ −ε/σ` (Song et al. 2021);
 * - `'eps'`: the noise `ε` (Ho et al. 2020);
 * - `'x0'`: the denoised `x̂_0 = E[x_0 | x_t]`, linked to the score by Tweedie's formula
 *   `x̂_0 = (x + σ² ∇log p_t(x)) / α`;
 * - `'v'`: the velocity `v = α ε − σ x_0` (Salimans & Ho 2022).
 */
export type Parameterization = 'score' | 'eps' | 'x0' | 'v';

const PARAMETERIZATIONS: readonly Parameterization[] = ['score', 'eps', 'x0', 'v'];

/**
 * Anything that gives the marginal coefficients `α(t)`, `σ(t)` on `[0, T]`: every {@link SDE},
 * or {@link discreteMarginals} of a DDPM schedule.
 */
export interface MarginalCoefficients {
  readonly T: number;
  alpha(t: number): number;
  sigma(t: number): number;
}

/** Options of {@link convertPrediction}. */
export interface ConvertPredictionOptions {
  /** Where the coefficients `α(t)`, `σ(t)` come from (an SDE or a discrete schedule). */
  sde: MarginalCoefficients;
  /** The noisy input `x_t [B, ...]`. */
  x: tf.Tensor;
  /** Times `[B]`, an array or one number. */
  t: TimeInput;
  /** The prediction to convert, shape of `x`. */
  value: tf.Tensor;
  from: Parameterization;
  to: Parameterization;
}

function checkParameterization(name: string, p: unknown): asserts p is Parameterization {
  if (!PARAMETERIZATIONS.includes(p as Parameterization)) {
    throw new SbmArgumentError(
      name,
      `expected one of ${PARAMETERIZATIONS.join(', ')}, got ${describeValue(p)}`,
    );
  }
}

/**
 * Converts a model prediction between parameterizations at time t, exactly (no approximation):
 * with `x = α x_0 + σ ε` and `v = α ε − σ x_0`,
 * `ε = −σ s = (x − α x_0)/σ = (σ x + α v)/(α² + σ²)`, `s = −ε/σ`, `x_0 = (x − σ ε)/α`,
 * `v = ((α² + σ²) ε − σ x)/α`.
 * Conversions that divide by `σ(t) = 0` (VP at t = 0) or `α(t) = 0` throw.
 *
 * @returns a new tensor of the shape of `x`.
 * @example
 * ```ts
 * const score = convertPrediction({ sde, x, t, value: epsHat, from: 'eps', to: 'score' });
 * ```
 */
export function convertPrediction(options: ConvertPredictionOptions): tf.Tensor {
  const { sde, x, t, value, from, to } = options;
  checkParameterization('from', from);
  checkParameterization('to', to);
  const B = batchSize(x);
  if (!(value instanceof tf.Tensor) || !tf.util.arraysEqual(value.shape, x.shape)) {
    throw new SbmArgumentError(
      'value',
      `expected a prediction of the shape of x [${x.shape.join(',')}], got ${describeValue(value)}`,
    );
  }
  if (from === to) return tf.clone(value);
  const times = readTimes(t, B, sde.T);
  const alphas = times.map((s) => sde.alpha(s));
  const sigmas = times.map((s) => sde.sigma(s));
  const needsSigma = from === 'score' || from === 'x0' || to === 'score';
  const needsAlpha = to === 'x0' || to === 'v';
  for (let i = 0; i < B; i++) {
    if (needsSigma && !(sigmas[i]! > 0)) {
      throw new SbmArgumentError(
        't',
        `cannot convert ${from} to ${to} where sigma(t) = 0 (t = ${times[i]} at index ${i})`,
      );
    }
    if (needsAlpha && !(alphas[i]! > 0)) {
      throw new SbmArgumentError(
        't',
        `cannot convert ${from} to ${to} where alpha(t) = 0 (t = ${times[i]} at index ${i})`,
      );
    }
  }
  return tf.tidy(() => {
    const a = expandToRank(
      coefficientTensor(alphas, (u) => u),
      x.rank,
    );
    const s = expandToRank(
      coefficientTensor(sigmas, (u) => u),
      x.rank,
    );
    const norm = expandToRank(
      coefficientTensor(
        alphas.map((u, i) => u * u + sigmas[i]! * sigmas[i]!),
        (u) => u,
      ),
      x.rank,
    );
    let eps: tf.Tensor;
    if (from === 'eps') eps = value;
    else if (from === 'score') eps = tf.neg(tf.mul(s, value));
    else if (from === 'x0') eps = tf.div(tf.sub(x, tf.mul(a, value)), s);
    else eps = tf.div(tf.add(tf.mul(s, x), tf.mul(a, value)), norm);

    if (to === 'eps') return eps; // from !== 'eps' here, so eps is a new tensor
    if (to === 'score') return tf.neg(tf.div(eps, s));
    if (to === 'x0') return tf.div(tf.sub(x, tf.mul(s, eps)), a);
    return tf.div(tf.sub(tf.mul(norm, eps), tf.mul(s, x)), a);
  });
}

/**
 * The marginals of a discrete DDPM schedule: {@link MarginalCoefficients} plus the log-SNR and its
 * inverse, so that the log-SNR solvers (DPM-Solver(++), UniPC) and every time spacing apply to it.
 */
export interface DiscreteMarginals extends MarginalCoefficients {
  /** `log(α(t)²/σ(t)²) = log ᾱ(t) − log(1 − ᾱ(t))`, decreasing in t. */
  logSNR(t: number): number;
  /** Exact inverse of `logSNR` on `[0, T]` (throws outside `[logSNR(T), logSNR(0)]`). */
  tFromLogSNR(logSnr: number): number;
}

/**
 * Marginal coefficients of a discrete DDPM schedule on the step index `t ∈ [0, N − 1]`:
 * `α_i = √ᾱ_i`, `σ_i = √(1 − ᾱ_i)`; between integers `log ᾱ` is interpolated linearly
 * (as in DPM-Solver's discrete noise schedule, Lu et al. 2022, App. D). `T = N − 1`.
 * `logSNR(t) = log ᾱ(t) − log(1 − ᾱ(t))` and its inverse `tFromLogSNR` (exact: `log ᾱ = −softplus(−λ₂)`
 * with `λ₂` the log-SNR, located on its interval by bisection over the steps), so that a time with a given
 * `σ/α` (e.g. a Karras level) reproduces that `σ/α` exactly.
 */
export function discreteMarginals(schedule: DiscreteSchedule): DiscreteMarginals {
  const { alphaBars } = schedule;
  const N = alphaBars.length;
  const logs = Array.from(alphaBars, (a) => Math.log(a));
  const logAlphaBar = (t: number): number => {
    const i = Math.min(Math.floor(t), N - 2);
    if (N === 1 || i < 0) return logs[0]!;
    const w = t - i;
    return (1 - w) * logs[i]! + w * logs[i + 1]!;
  };
  const logSNR = (t: number): number => {
    const l = logAlphaBar(t);
    return l - Math.log(-Math.expm1(l));
  };
  const T = N - 1;
  return {
    T,
    alpha: (t) => Math.exp(0.5 * logAlphaBar(t)),
    sigma: (t) => Math.sqrt(-Math.expm1(logAlphaBar(t))),
    logSNR,
    tFromLogSNR(logSnr: number): number {
      const hi = logSNR(0);
      const lo = logSNR(T);
      if (!(logSnr >= lo - 1e-12 && logSnr <= hi + 1e-12)) {
        throw new SbmArgumentError(
          'logSnr',
          `expected a log-SNR in [logSNR(T) = ${lo}, logSNR(0) = ${hi}], got ${describeValue(logSnr)}`,
        );
      }
      if (N === 1) return 0;
      // log ᾱ = log sigmoid(λ₂) = −softplus(−λ₂), computed stably.
      const target = logSnr > 0 ? -Math.log1p(Math.exp(-logSnr)) : logSnr - Math.log1p(Math.exp(logSnr));
      // logs is decreasing: find i with logs[i] >= target >= logs[i + 1].
      let a = 0;
      let b = N - 1;
      if (target >= logs[0]!) return 0;
      if (target <= logs[T]!) return T;
      while (b - a > 1) {
        const m = (a + b) >> 1;
        if (logs[m]! >= target) a = m;
        else b = m;
      }
      const span = logs[a]! - logs[b]!;
      return span > 0 ? a + (logs[a]! - target) / span : a;
    },
  };
}
