import { assertNonNegative, assertPositive, karrasSigmas, SbmArgumentError, type SDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  guarded,
  linearCombination,
  readSteps,
  readTMin,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';
import { gridTimes, type TimeGridOptions } from './time-grid.js';

/** Options of {@link edmSample}. */
export interface EDMSampleOptions
  extends SamplerBaseOptions<SDE>,
    Pick<TimeGridOptions, 'spacing' | 'timesteps'> {
  /** Number of noise levels $n$ (Heun steps), default 18 (35 NFE). */
  steps?: number;
  /** Smallest scaled noise level $\tilde\sigma_{\min}$ (EDM's $\sigma_{\min}$), default $\sigma(t_{\min})/\alpha(t_{\min})$. */
  sigmaMin?: number;
  /** Largest scaled noise level $\tilde\sigma_{\max}$ (EDM's $\sigma_{\max}$), default and upper bound $\sigma(T)/\alpha(T)$. */
  sigmaMax?: number;
  /** Last time, used for the default `sigmaMin` (default 1e-3, or 1e-5 for VE). */
  tMin?: number;
  /** Karras schedule exponent $\rho$ (Eq. 5), default 7. */
  rho?: number;
  // spacing: the levels σ̃_i = σ̃(t_i) at `steps` times from `T` to `tMin` spaced as `'uniform'`,
  // `'quadratic'` or `'logSNR'` instead of Karras' (default `'karras'`: `sigmaMin`, `sigmaMax`, `rho`);
  // timesteps: explicit decreasing times, one level each (overrides the rest). Then σ̃ = 0.
  /** $S_{\text{churn}}$: total amount of stochasticity, default 0 (deterministic). */
  sChurn?: number;
  /** $S_{t\min}$: churn only where $\tilde\sigma_i \ge S_{t\min}$ (a scaled noise level); default 0. */
  sTmin?: number;
  /** $S_{t\max}$: churn only where $\tilde\sigma_i \le S_{t\max}$ (a scaled noise level, at least `sTmin`); default $\infty$. */
  sTmax?: number;
  /** $S_{\text{noise}}$: scale of the added noise, default 1. */
  sNoise?: number;
}

/**
 * EDM's stochastic Heun sampler (Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based
 * Generative Models", Alg. 2) with the Karras noise levels (Eq. 5),
 *
 * $$\tilde\sigma_i = \Big(\tilde\sigma_{\max}^{1/\rho} + \tfrac{i}{n-1}\big(\tilde\sigma_{\min}^{1/\rho} - \tilde\sigma_{\max}^{1/\rho}\big)\Big)^{\rho}, \quad i = 0, \dots, n - 1, \qquad \tilde\sigma_n = 0,$$
 *
 * for any linear SDE through its scaled variables $\tilde x = x/\alpha(t)$, $\tilde\sigma = \sigma(t)/\alpha(t)$ (EDM
 * Eq. 4 with $s(t) = \alpha(t)$; the time of a level solves $\log(\alpha^2/\sigma^2) = -2 \log \tilde\sigma$, `tFromLogSNR`). Per level, with
 * $\gamma_i = \min(S_{\text{churn}}/n, \sqrt2 - 1)$ if $\tilde\sigma_i \in [S_{t\min}, S_{t\max}]$, else 0:
 *
 * $$\hat\sigma = \tilde\sigma_i (1 + \gamma_i), \qquad \hat x = \tilde x_i + \sqrt{\hat\sigma^2 - \tilde\sigma_i^2}\, S_{\text{noise}}\, z,$$
 *
 * $$d = \frac{\hat x - D(\hat x; \hat\sigma)}{\hat\sigma}, \qquad \tilde x' = \hat x + (\tilde\sigma_{i+1} - \hat\sigma)\, d,$$
 *
 * $$\tilde x_{i+1} = \hat x + \tfrac12 (\tilde\sigma_{i+1} - \hat\sigma) \Big(d + \frac{\tilde x' - D(\tilde x'; \tilde\sigma_{i+1})}{\tilde\sigma_{i+1}}\Big),$$
 *
 * a Heun step of $d\tilde x/d\tilde\sigma = (\tilde x - D(\tilde x; \tilde\sigma))/\tilde\sigma$ (Euler, $\tilde x_{n} = \tilde x'$, on the
 * last step to $\tilde\sigma = 0$), with $z \sim \mathcal{N}(0, I)$ and the denoiser $D(\tilde x; \tilde\sigma) = \hat x_0(\alpha \tilde x, t)$.
 * $\hat\sigma$ is capped at $\tilde\sigma(T)$. With `spacing` other than `'karras'` or explicit `timesteps`, the levels are
 * $\tilde\sigma(t_i)$ on that time grid. NFE = $2n - 1$. Samples `[B, ...]`.
 */
export async function edmSample(options: EDMSampleOptions): Promise<SampleResult> {
  const run = new SamplingRun('edmSample', options);
  const sde = options.sde;
  if (typeof (sde as { tFromLogSNR?: unknown }).tFromLogSNR !== 'function') {
    throw new SbmArgumentError('options.sde', 'expected an SDE (with logSNR and tFromLogSNR) for edmSample');
  }
  const n = readSteps(options.steps, 18);
  const tMin = readTMin(sde, options.tMin);
  const scaled = (t: number) => sde.sigma(t) / sde.alpha(t);
  const ceiling = scaled(sde.T);
  const sigmaMax = options.sigmaMax ?? ceiling;
  const sigmaMin = options.sigmaMin ?? scaled(tMin);
  assertPositive('options.sigmaMin', sigmaMin);
  if (!(sigmaMax <= ceiling * (1 + 1e-9) && sigmaMax > sigmaMin)) {
    throw new SbmArgumentError(
      'options.sigmaMax',
      `expected sigmaMin (${sigmaMin}) < sigmaMax <= σ(T)/α(T) = ${ceiling}, got ${sigmaMax}`,
    );
  }
  if (!(sigmaMin >= scaled(0))) {
    throw new SbmArgumentError(
      'options.sigmaMin',
      `expected sigmaMin >= σ(0)/α(0) = ${scaled(0)}, got ${sigmaMin}`,
    );
  }
  const sChurn = options.sChurn ?? 0;
  const sTmin = options.sTmin ?? 0;
  const sTmax = options.sTmax ?? Number.POSITIVE_INFINITY;
  const sNoise = options.sNoise ?? 1;
  assertNonNegative('options.sChurn', sChurn);
  assertNonNegative('options.sTmin', sTmin);
  assertNonNegative('options.sNoise', sNoise);
  if (!(sTmax >= sTmin))
    throw new SbmArgumentError('options.sTmax', `expected sTmax >= sTmin (${sTmin}), got ${sTmax}`);
  const karras = (options.spacing ?? 'karras') === 'karras' && options.timesteps === undefined;
  const sigmas = karras
    ? karrasSigmas(n, sigmaMin, sigmaMax, options.rho ?? 7)
    : [...gridTimes(sde, { ...options, steps: n, tMin }, { steps: n, spacing: 'karras' }, 1).map(scaled), 0];
  const levels = sigmas.length - 1;
  const timeOf = (sigma: number) => (sigma >= ceiling ? sde.T : sde.tFromLogSNR(-2 * Math.log(sigma)));
  // Denoiser in the scaled variables: D(x̃; σ̃) = x̂_0(α(t) x̃, t).
  const denoise = async (xs: tf.Tensor, sigma: number): Promise<tf.Tensor> => {
    const t = timeOf(sigma);
    const input = tf.tidy(() => tf.mul(xs, sde.alpha(t)));
    try {
      return await run.evaluate(input, t, 'x0');
    } finally {
      input.dispose();
    }
  };
  const start = run.initial(sde.priorStd);
  const samples = await guarded(linearCombination([[1 / sde.alpha(sde.T), start]]), async (state) => {
    start.dispose();
    for (let i = 0; i < levels; i++) {
      const sigma = sigmas[i]!;
      const next = sigmas[i + 1]!;
      const gamma = sigma >= sTmin && sigma <= sTmax ? Math.min(sChurn / levels, Math.SQRT2 - 1) : 0;
      const sigmaHat = Math.min(sigma * (1 + gamma), ceiling);
      if (sigmaHat > sigma) {
        const z = run.noise();
        const churned = linearCombination([
          [1, state.x],
          [Math.sqrt(sigmaHat ** 2 - sigma ** 2) * sNoise, z],
        ]);
        tf.dispose([z, state.x]);
        state.x = churned;
      }
      const d0 = await denoise(state.x, sigmaHat);
      // x_{i+1} = x̂ + (σ_{i+1} − σ̂) (x̂ − D)/σ̂
      const h = next - sigmaHat;
      let result = linearCombination([
        [1 + h / sigmaHat, state.x],
        [-h / sigmaHat, d0],
      ]);
      if (next > 0) {
        const d1 = await denoise(result, next);
        // Heun: x̂ + (h/2) [(x̂ − D0)/σ̂ + (x' − D1)/σ'] with x' the Euler value.
        const corrected = linearCombination([
          [1 + h / (2 * sigmaHat), state.x],
          [-h / (2 * sigmaHat), d0],
          [h / (2 * next), result],
          [-h / (2 * next), d1],
        ]);
        tf.dispose([d1, result]);
        result = corrected;
      }
      state.x.dispose();
      state.x = result;
      await run.afterStep(i, levels, next > 0 ? timeOf(next) : 0, state.x, run.keepDenoised(d0));
    }
  });
  return { samples, nfe: run.nfe };
}
