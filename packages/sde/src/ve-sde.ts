import * as tf from '@tensorflow/tfjs-core';
import { assertFinite, assertPositive, SbmArgumentError } from './errors.js';
import { SDE } from './sde.js';
import { geometricSigmas } from './sigma-schedules.js';
import { batchSize, coefficientTensor, readTimes, type TimeInput } from './time-input.js';
import type { Discretization } from './types.js';

/** Options of {@link VESDE}. */
export interface VESDEOptions {
  /** $\sigma_{\min} = \sigma(0)$, in data units, > 0; default 0.01. */
  sigmaMin?: number;
  /** $\sigma_{\max} = \sigma(1)$, in data units; default 50 (CIFAR-10 value of Song et al. 2021). Must exceed `sigmaMin`. */
  sigmaMax?: number;
  /** Number of discretization steps (noise levels), default 1000. */
  N?: number;
}

/**
 * Variance-exploding SDE (Song et al. 2021, Eq. 9), the continuous limit of SMLD/NCSN, with the
 * geometric noise level $\sigma(t) = \sigma_{\min}\,(\sigma_{\max}/\sigma_{\min})^t$ on $t \in [0, 1]$:
 *
 * $$dx = \sqrt{\frac{d\,[\sigma(t)^2]}{dt}}\,dw = \sigma(t)\sqrt{2 \log(\sigma_{\max}/\sigma_{\min})}\,dw.$$
 *
 * Marginal (Eq. 31): $\alpha(t) = 1$ and standard deviation $\sigma(t)$, the score_sde convention that keeps
 * $\sigma(0) = \sigma_{\min}$ instead of the exact $\sqrt{\sigma(t)^2 - \sigma_{\min}^2}$. Prior $\mathcal{N}(0, \sigma_{\max}^2 I)$.
 * `discretize` is the SMLD step with the geometric levels $\sigma_i$ of {@link geometricSigmas}:
 * $f_i = 0$, $G_i = \sqrt{\sigma_i^2 - \sigma_{i-1}^2}$ with $\sigma_{-1} = 0$.
 */
export class VESDE extends SDE {
  /** $\sigma_{\min} = \sigma(0)$, the smallest noise level, in data units (default 0.01). */
  readonly sigmaMin: number;
  /** $\sigma_{\max} = \sigma(1)$, the largest noise level, in data units (default 50). */
  readonly sigmaMax: number;
  /** $\sigma_{\max}$: the prior is $\mathcal{N}(0, \sigma_{\max}^2 I)$. */
  readonly priorStd: number;
  /**
   * The N noise levels of the discretization, $\sigma_i = \sigma_{\min}\,(\sigma_{\max}/\sigma_{\min})^{i/(N-1)}$,
   * increasing (float64).
   */
  readonly discreteSigmas: readonly number[];

  /**
   * Builds the VE SDE from its options (defaults `sigmaMin = 0.01`, `sigmaMax = 50`, `N = 1000`), throwing {@link SbmArgumentError} unless `0 < sigmaMin < sigmaMax`.
   */
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

  /** $f(t) = 0$: the VE SDE has no drift. */
  driftCoefficient(_t: number): number {
    return 0;
  }

  /** $g(t) = \sigma(t)\sqrt{2 \log(\sigma_{\max}/\sigma_{\min})}$, the square root of $d\,[\sigma(t)^2]/dt$. */
  diffusionCoefficient(t: number): number {
    return this.sigma(t) * Math.sqrt(2 * Math.log(this.sigmaMax / this.sigmaMin));
  }

  /** $\alpha(t) = 1$: the mean is not scaled. */
  alpha(_t: number): number {
    return 1;
  }

  /** $\sigma(t) = \sigma_{\min}\,(\sigma_{\max}/\sigma_{\min})^t$. */
  sigma(t: number): number {
    return this.sigmaMin * Math.exp(t * Math.log(this.sigmaMax / this.sigmaMin));
  }

  /**
   * Closed form: with $\lambda$ = `logSnr`, $\sigma = e^{-\lambda/2}$ and
   * $t = \log(\sigma/\sigma_{\min}) / \log(\sigma_{\max}/\sigma_{\min})$, clamped to $[0, T]$.
   */
  override tFromLogSNR(logSnr: number): number {
    this.checkLogSNR(logSnr);
    const t = (-0.5 * logSnr - Math.log(this.sigmaMin)) / Math.log(this.sigmaMax / this.sigmaMin);
    return Math.min(Math.max(t, 0), this.T);
  }

  /**
   * SMLD discretization (Song et al. 2021, Eq. 46): with $i = \operatorname{round}\big(t\,(N - 1)/T\big)$ and $\sigma_i$
   * from `discreteSigmas`, $f_i = 0$ and $G_i = \sqrt{\sigma_i^2 - \sigma_{i-1}^2}$ ($\sigma_{-1} = 0$).
   * @param x - `[B, ...]`
   * @param t - `[B]`, array or number
   * @returns `f` (zeros) of the shape of `x`, `G [B]`.
   */
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
