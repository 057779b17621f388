import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertPositive, SbmArgumentError } from './errors.js';
import { SDE } from './sde.js';
import { geometricSigmas } from './sigma-schedules.js';
import { batchSize, coefficientTensor, readTimes, type TimeInput } from './time-input.js';
import type { Discretization } from './types.js';

/** Options of {@link VESDE}. */
export interface VESDEOptions {
  /** σ(0), default 0.01. */
  sigmaMin?: number;
  /** σ(1), default 50 (CIFAR-10 value of Song et al. 2021). Must exceed `sigmaMin`. */
  sigmaMax?: number;
  /** Number of discretization steps (noise levels), default 1000. */
  N?: number;
}

/**
 * Variance-exploding SDE (Song et al. 2021, Eq. 9), the continuous limit of SMLD/NCSN:
 * `dx = √(d[σ²(t)]/dt) dw` with `σ(t) = σ_min (σ_max/σ_min)^t`, i.e. `g(t) = σ(t) √(2 log(σ_max/σ_min))`.
 *
 * Marginal (Eq. 31): `α(t) = 1`, standard deviation `σ(t)` (the score_sde convention, which keeps
 * `σ(0) = σ_min`); prior `N(0, σ_max² I)`. `discretize` is the SMLD step with the geometric levels
 * `σ_i` of {@link geometricSigmas}: `f = 0`, `G = √(σ_i² − σ_{i−1}²)` (`σ_{−1} = 0`).
 */
export class VESDE extends SDE {
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  readonly priorStd: number;
  /** The N noise levels of the discretization, increasing (float64). */
  readonly discreteSigmas: readonly number[];

  constructor(options: VESDEOptions = {}) {
    const { sigmaMin = 0.01, sigmaMax = 50, N = 1000 } = options;
    assertPositive('options.sigmaMin', sigmaMin);
    assertFinite('options.sigmaMax', sigmaMax);
    if (!(sigmaMax > sigmaMin)) {
      throw new SbmArgumentError(
        'options.sigmaMax',
        `expected sigmaMax > sigmaMin (${sigmaMin}), got ${sigmaMax}`,
      );
    }
    super(N);
    this.sigmaMin = sigmaMin;
    this.sigmaMax = sigmaMax;
    this.priorStd = sigmaMax;
    this.discreteSigmas = Object.freeze(geometricSigmas(N, sigmaMin, sigmaMax));
  }

  driftCoefficient(_t: number): number {
    return 0;
  }

  diffusionCoefficient(t: number): number {
    return this.sigma(t) * Math.sqrt(2 * Math.log(this.sigmaMax / this.sigmaMin));
  }

  alpha(_t: number): number {
    return 1;
  }

  /** `σ(t) = σ_min (σ_max/σ_min)^t`. */
  sigma(t: number): number {
    return this.sigmaMin * Math.exp(t * Math.log(this.sigmaMax / this.sigmaMin));
  }

  /** Closed form: `σ = e^{−λ/2}`, `t = log(σ/σ_min) / log(σ_max/σ_min)`. */
  override tFromLogSNR(logSnr: number): number {
    this.checkLogSNR(logSnr);
    const t = (-0.5 * logSnr - Math.log(this.sigmaMin)) / Math.log(this.sigmaMax / this.sigmaMin);
    return Math.min(Math.max(t, 0), this.T);
  }

  /** SMLD discretization (Song et al. 2021, Eq. 46): `f = 0`, `G = √(σ_i² − σ_{i−1}²)`. */
  override discretize(x: tf.Tensor, t: TimeInput): Discretization {
    const times = readTimes(t, batchSize(x), this.T);
    return tf.tidy(() => {
      const G = coefficientTensor(times, (s) => {
        const i = this.timestepIndex(s);
        const sigma = this.discreteSigmas[i]!;
        const prev = i === 0 ? 0 : this.discreteSigmas[i - 1]!;
        return Math.sqrt(sigma * sigma - prev * prev);
      });
      return { f: tf.zerosLike(x), G };
    }) as Discretization;
  }
}
