import * as tf from '@tensorflow/tfjs-core';
import { assertInteger, describeValue, SbmArgumentError } from './errors.js';
import { bisect } from './numeric.js';
import { type ReverseOptions, ReverseSDE } from './reverse-sde.js';
import { batchSize, coefficientTensor, expandToRank, readTimes, type TimeInput } from './time-input.js';
import type { Discretization, DriftDiffusion, MarginalMoments, ScoreFn } from './types.js';

/**
 * A linear forward SDE on $t \in [0, T]$ (Song et al. 2021, Eq. 5, with a drift linear in $x$), whose
 * perturbation kernel is Gaussian:
 *
 * $$dx = f(t)\,x\,dt + g(t)\,dw, \qquad p_{0t}(x_t \mid x_0) = \mathcal{N}\big(x_t;\ \alpha(t)\,x_0,\ \sigma(t)^2 I\big).$$
 *
 * Subclasses give the float64 scalar coefficients $f(t)$, $g(t)$, $\alpha(t)$, $\sigma(t)$ and the prior
 * standard deviation; the tensor methods (`sde`, `marginalProb`, `priorLogp`, `discretize`, `reverse`)
 * are derived from them. Coefficients are evaluated per example in float64 and applied to float32
 * tensors. Every tensor method accepts `x [B, ...]` and `t` as a `[B]` tensor, an array of `B`
 * numbers or one number, checks `t ∈ [0, T]` and returns new tensors (the inputs are not disposed).
 */
export abstract class SDE {
  /** End time $T$ (1 for every SDE of Song et al. 2021). */
  readonly T: number = 1;
  /** Number of discretization steps N (used by `discretize` and as default sampler step count). */
  readonly N: number;

  /**
   * Stores the number of discretization steps `N`, which must be an integer ≥ 1 (else {@link SbmArgumentError} naming `options.N`).
   */
  protected constructor(N: number) {
    assertInteger('options.N', N);
    this.N = N;
  }

  /** Drift coefficient $f(t)$ of the drift $f(x, t) = f(t)\,x$ (float64). */
  abstract driftCoefficient(t: number): number;
  /** Diffusion coefficient $g(t)$ (float64). */
  abstract diffusionCoefficient(t: number): number;
  /** Mean coefficient $\alpha(t)$ of the marginal: $\mathbb{E}[x_t \mid x_0] = \alpha(t)\,x_0$ (float64). */
  abstract alpha(t: number): number;
  /** Marginal standard deviation $\sigma(t)$: $\operatorname{Cov}[x_t \mid x_0] = \sigma(t)^2 I$ (float64). */
  abstract sigma(t: number): number;
  /** Standard deviation $s$ of the prior $p_T = \mathcal{N}(0, s^2 I)$. */
  abstract readonly priorStd: number;

  /**
   * Log signal-to-noise ratio $\log\big(\alpha(t)^2 / \sigma(t)^2\big)$ (float64). Decreasing in t;
   * DPM-Solver's $\lambda_t = \log(\alpha_t / \sigma_t)$ is half of it.
   */
  logSNR(t: number): number {
    return 2 * (Math.log(this.alpha(t)) - Math.log(this.sigma(t)));
  }

  /**
   * Inverse of {@link SDE.logSNR}: the time $t \in [0, T]$ with `logSNR(t) = logSnr`.
   * The generic version bisects; subclasses with a closed form override it.
   */
  tFromLogSNR(logSnr: number): number {
    this.checkLogSNR(logSnr);
    return bisect((t) => this.logSNR(t) - logSnr, 0, this.T);
  }

  /**
   * Throws {@link SbmArgumentError} naming `logSnr` unless it lies in $[\operatorname{logSNR}(T), \operatorname{logSNR}(0)]$,
   * the range of {@link SDE.logSNR} on $[0, T]$ (with a slack of 1e-12).
   */
  protected checkLogSNR(logSnr: number): void {
    const hi = this.logSNR(0);
    const lo = this.logSNR(this.T);
    if (!(logSnr >= lo - 1e-12 && logSnr <= hi + 1e-12)) {
      throw new SbmArgumentError(
        'logSnr',
        `expected a log-SNR in [logSNR(T) = ${lo}, logSNR(0) = ${hi}], got ${describeValue(logSnr)}`,
      );
    }
  }

  /**
   * Drift and diffusion of the forward SDE (Song et al. 2021, Eq. 5): $f(x, t) = f(t)\,x$ and $g(t)$.
   * @param x - `[B, ...]`
   * @param t - `[B]`, array or number in `[0, T]`
   * @returns `drift` of the shape of `x` and `diffusion [B]`.
   */
  sde(x: tf.Tensor, t: TimeInput): DriftDiffusion {
    const times = readTimes(t, batchSize(x), this.T);
    return tf.tidy(() => {
      const f = coefficientTensor(times, (s) => this.driftCoefficient(s));
      return {
        drift: tf.mul(expandToRank(f, x.rank), x),
        diffusion: coefficientTensor(times, (s) => this.diffusionCoefficient(s)),
      };
    }) as DriftDiffusion;
  }

  /**
   * Mean and standard deviation of the perturbation kernel
   * $p_{0t}(x_t \mid x_0) = \mathcal{N}\big(\alpha(t)\,x_0, \sigma(t)^2 I\big)$
   * (Song et al. 2021, Eq. 29 for VP, 31 for VE, 30 for sub-VP).
   * @param x0 - `[B, ...]`
   * @param t - `[B]`, array or number in `[0, T]`
   * @returns `mean` of the shape of `x0`, `std [B]`.
   */
  marginalProb(x0: tf.Tensor, t: TimeInput): MarginalMoments {
    const times = readTimes(t, batchSize(x0, 'x0'), this.T);
    return tf.tidy(() => {
      const a = coefficientTensor(times, (s) => this.alpha(s));
      return {
        mean: tf.mul(expandToRank(a, x0.rank), x0),
        std: coefficientTensor(times, (s) => this.sigma(s)),
      };
    }) as MarginalMoments;
  }

  /**
   * A draw from the perturbation kernel with the given noise: $x_t = \alpha(t)\,x_0 + \sigma(t)\,z$.
   * @param x0 - `[B, ...]`
   * @param t - `[B]`, array or number
   * @param noise - `z`, same shape as `x0` (e.g. standard normal)
   */
  perturb(x0: tf.Tensor, t: TimeInput, noise: tf.Tensor): tf.Tensor {
    const times = readTimes(t, batchSize(x0, 'x0'), this.T);
    if (!(noise instanceof tf.Tensor) || !tf.util.arraysEqual(noise.shape, x0.shape)) {
      throw new SbmArgumentError(
        'noise',
        `expected a tensor of the shape of x0 [${x0.shape.join(',')}], got ${describeValue(noise)}`,
      );
    }
    return tf.tidy(() => {
      const a = expandToRank(
        coefficientTensor(times, (s) => this.alpha(s)),
        x0.rank,
      );
      const s = expandToRank(
        coefficientTensor(times, (u) => this.sigma(u)),
        x0.rank,
      );
      return tf.add(tf.mul(a, x0), tf.mul(s, noise));
    });
  }

  /**
   * Samples the prior $p_T = \mathcal{N}(0, s^2 I)$, $s$ = `priorStd`.
   * @param shape - `[B, ...]`, positive integers.
   * @param seed - optional seed for reproducible draws.
   */
  priorSampling(shape: readonly number[], seed?: number): tf.Tensor {
    if (!Array.isArray(shape) || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
      throw new SbmArgumentError(
        'shape',
        `expected a non-empty array of positive integers [B, ...], got ${JSON.stringify(shape)}`,
      );
    }
    return tf.randomNormal([...shape], 0, this.priorStd, 'float32', seed);
  }

  /**
   * Log density of the prior, one value per example, with $s$ = `priorStd` and $D$ the number of
   * elements of one example:
   *
   * $$\log p_T(z) = -\frac{D}{2} \log(2\pi s^2) - \frac{\lVert z \rVert^2}{2 s^2}.$$
   *
   * @param z - `[B, ...]`
   * @returns `[B]`
   */
  priorLogp(z: tf.Tensor): tf.Tensor1D {
    const B = batchSize(z, 'z');
    const D = B === 0 ? 0 : z.size / B;
    const s2 = this.priorStd * this.priorStd;
    return tf.tidy(() => {
      const sq = tf.reshape(tf.square(z), [B, D]);
      const norm = tf.sum(sq, 1);
      return tf.sub(tf.scalar(-0.5 * D * Math.log(2 * Math.PI * s2)), tf.div(norm, 2 * s2));
    }) as tf.Tensor1D;
  }

  /**
   * One step of the discretized SDE, $x_{i+1} = x_i + f_i + G_i z_i$ (Song et al. 2021, App. E).
   * The generic version is Euler–Maruyama with $\Delta t = T/N$: $f_i = f(t)\,x\,\Delta t$,
   * $G_i = g(t)\sqrt{\Delta t}$; VP and VE override it with the DDPM and SMLD discretizations.
   * @param x - `[B, ...]`
   * @param t - `[B]`, array or number
   * @returns `f` of the shape of `x`, `G [B]`.
   */
  discretize(x: tf.Tensor, t: TimeInput): Discretization {
    const times = readTimes(t, batchSize(x), this.T);
    const dt = this.T / this.N;
    return tf.tidy(() => {
      const f = coefficientTensor(times, (s) => this.driftCoefficient(s) * dt);
      return {
        f: tf.mul(expandToRank(f, x.rank), x),
        G: coefficientTensor(times, (s) => this.diffusionCoefficient(s) * Math.sqrt(dt)),
      };
    }) as Discretization;
  }

  /**
   * The {@link ReverseSDE} of this SDE, with `scoreFn` in place of the score $\nabla_x \log p_t(x)$:
   * the reverse-time SDE (Song et al. 2021, Eq. 6)
   * $dx = \big[f(x, t) - g(t)^2 \nabla_x \log p_t(x)\big]\,dt + g(t)\,d\bar{w}$, or with
   * `probabilityFlow: true` the probability-flow ODE (Eq. 13)
   * $dx = \big[f(x, t) - \tfrac{1}{2} g(t)^2 \nabla_x \log p_t(x)\big]\,dt$.
   */
  reverse(scoreFn: ScoreFn, options: ReverseOptions = {}): ReverseSDE {
    return new ReverseSDE(this, scoreFn, options);
  }

  /** The discrete step index $i = \operatorname{round}\big(t\,(N - 1) / T\big)$ used by the DDPM/SMLD discretizations. */
  timestepIndex(t: number): number {
    return Math.round((t * (this.N - 1)) / this.T);
  }
}
