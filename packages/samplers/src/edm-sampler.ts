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
  /** Number of noise levels `n` (Heun steps), default 18 (35 NFE). */
  steps?: number;
  /** Smallest scaled noise level `σ̃_min`, default `σ(tMin)/α(tMin)`. */
  sigmaMin?: number;
  /** Largest scaled noise level `σ̃_max`, default `σ(T)/α(T)`. */
  sigmaMax?: number;
  /** Last time, used for the default `sigmaMin` (default 1e-3, or 1e-5 for VE). */
  tMin?: number;
  /** Karras schedule exponent ρ, default 7. */
  rho?: number;
  // spacing: the levels σ̃_i = σ̃(t_i) at `steps` times from `T` to `tMin` spaced as `'uniform'`,
  // `'quadratic'` or `'logSNR'` instead of Karras' (default `'karras'`: `sigmaMin`, `sigmaMax`, `rho`);
  // timesteps: explicit decreasing times, one level each (overrides the rest). Then σ̃ = 0.
  /** `S_churn`: total amount of stochasticity, default 0 (deterministic). */
  sChurn?: number;
  /** `S_tmin`, `S_tmax`: churn only where `σ̃_i ∈ [S_tmin, S_tmax]`; defaults 0 and ∞. */
  sTmin?: number;
  sTmax?: number;
  /** `S_noise`: scale of the added noise, default 1. */
  sNoise?: number;
}

/**
 * EDM's stochastic Heun sampler (Karras et al. 2022, Alg. 2) with the Karras noise levels (Eq. 5),
 * for any linear SDE through its scaled variables `x̃ = x/α(t)`, `σ̃ = σ(t)/α(t)` (EDM Eq. 4 with
 * `s(t) = α(t)`; `t = tFromLogSNR(−2 log σ̃)`): per level, `γ_i = min(S_churn/n, √2 − 1)` if
 * `σ̃_i ∈ [S_tmin, S_tmax]`, `σ̂ = σ̃_i (1 + γ_i)`, `x̂ = x̃ + √(σ̂² − σ̃_i²) S_noise z`, then a Heun step
 * of `dx̃/dσ̃ = (x̃ − D(x̃; σ̃))/σ̃` to `σ̃_{i+1}` (Euler on the last step to `σ̃ = 0`), with the denoiser
 * `D(x̃; σ̃) = x̂_0(α x̃, t)`. `σ̂` is capped at `σ̃(T)`. NFE = `2n − 1`.
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
