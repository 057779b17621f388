import {
  assertInteger,
  assertPositive,
  describeValue,
  expandToRank,
  SbmArgumentError,
  type SDE,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { DDIMStepper } from './ddim.js';
import {
  guarded,
  linearCombination,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';
import { gridTimes, type TimeGridOptions } from './time-grid.js';

/** Predictors of {@link pcSample} (Song et al. 2021, Sec. 4.2 and App. F). */
export type Predictor = 'eulerMaruyama' | 'reverseDiffusion' | 'ancestral' | 'none';
/** Correctors of {@link pcSample}. */
export type Corrector = 'langevin' | 'annealedLangevin' | 'none';

const PREDICTORS: readonly Predictor[] = ['eulerMaruyama', 'reverseDiffusion', 'ancestral', 'none'];
const CORRECTORS: readonly Corrector[] = ['langevin', 'annealedLangevin', 'none'];

/** Options of {@link pcSample}. */
export interface PCSampleOptions extends SamplerBaseOptions<SDE>, Omit<TimeGridOptions, 'finalStep'> {
  /** Default `'reverseDiffusion'`. */
  predictor?: Predictor;
  /** Default `'langevin'`. */
  corrector?: Corrector;
  // steps: noise levels (predictor steps) from `T` to `tMin`, default `sde.N`; spacing default 'uniform'.
  /** Corrector steps per noise level, default 1. */
  correctorSteps?: number;
  /** Signal-to-noise ratio $r$ of the Langevin step rule (Alg. 4–5), default 0.16. */
  snr?: number;
  /**
   * Norms of the Langevin step rule: `'batch'` (default, as score_sde: per-sample norms averaged over
   * the batch, so the step size — not the noise — depends on the batch) or `'sample'` (each sample its
   * own step size: fully batch-independent, but unstable in low dimension where $\lVert s_\theta \rVert$ of one sample
   * can be near 0).
   */
  langevinNorm?: 'sample' | 'batch';
  /** Base step size $\epsilon$ of annealed Langevin ($\alpha_i = \epsilon\, \sigma_i^2 / \sigma_L^2$), default 2e-5 (NCSN). */
  stepSize?: number;
  /** Return the noise-free mean of the last predictor step (score_sde's `noise_removal`), default true. */
  denoise?: boolean;
}

/**
 * Predictor–corrector sampling (Song et al. 2021, Alg. 1–3) of a forward {@link SDE} with a score model
 * $s_\theta(x, t) \approx \nabla_x \log p_t(x)$, on a time grid $t_0 = T > \dots > t_n = t_{\min}$ (uniform by
 * default; any `spacing` or explicit `timesteps`); `x`, `z` are `[B, ...]`, $z \sim \mathcal{N}(0, I)$ fresh at every
 * use. Each noise level runs `correctorSteps` corrector steps at $t = t_i$, then one predictor step from $t$ to
 * $s = t_{i+1}$. With $a = \alpha_t/\alpha_s$ and $v = \sigma_t^2 - a^2 \sigma_s^2$, the exact forward transition is
 * $x_t = a\, x_s + \sqrt{v}\, z$, and the predictors are:
 *
 * - `'eulerMaruyama'` (Eq. 6 discretized, $\Delta = t - s$):
 *   $$x \leftarrow x - \big[f(t)\, x - g(t)^2 s_\theta(x, t)\big] \Delta + g(t) \sqrt{\Delta}\, z;$$
 * - `'reverseDiffusion'` (default; Eq. 46–47 on any grid):
 *   $$x \leftarrow (2 - a)\, x + v\, s_\theta(x, t) + \sqrt{v}\, z,$$
 *   on the SDE's own grid equal to `sde.reverse(s).discretize` for VE, and for VP up to score_sde's
 *   $\beta_i \approx \beta(t_i)/N$;
 * - `'ancestral'`: a draw of the Gaussian posterior $q(x_s \mid x_t, \hat x_0)$ (DDPM/SMLD ancestral sampling,
 *   {@link DDIMStepper} with $\eta = 1$).
 *
 * The correctors:
 *
 * - `'langevin'` (default; Alg. 4–5), with the step size set by the signal-to-noise ratio $r$ = `snr`:
 *   $$\epsilon = 2 a_i \Big(\frac{r \lVert z \rVert}{\lVert s_\theta(x, t) \rVert}\Big)^2, \qquad x \leftarrow x + \epsilon\, s_\theta(x, t) + \sqrt{2 \epsilon}\, z,$$
 *   $a_i = (\alpha_t/\alpha_s)^2$ ($1 - \beta_i$ for VP, 1 for VE); the norms are per sample, or each averaged
 *   over the batch (`langevinNorm: 'batch'`, default, as score_sde);
 * - `'annealedLangevin'` (Song & Ermon 2019, Alg. 1): $\alpha_i = \epsilon\, \sigma(t)^2 / \sigma(t_{\min})^2$ with
 *   $\epsilon$ = `stepSize`, $x \leftarrow x + \tfrac12 \alpha_i\, s_\theta(x, t) + \sqrt{\alpha_i}\, z$.
 *
 * With `denoise` (default) the last predictor step adds no noise. NFE =
 * `steps · (predictor ≠ 'none' ? 1 : 0) + steps · correctorSteps`.
 */
export async function pcSample(options: PCSampleOptions): Promise<SampleResult> {
  const run = new SamplingRun('pcSample', options);
  const sde = options.sde;
  if (typeof (sde as { driftCoefficient?: unknown }).driftCoefficient !== 'function') {
    throw new SbmArgumentError('options.sde', 'expected an SDE (VPSDE, SubVPSDE, VESDE, ...) for pcSample');
  }
  const predictor = options.predictor ?? 'reverseDiffusion';
  const corrector = options.corrector ?? 'langevin';
  if (!PREDICTORS.includes(predictor)) {
    throw new SbmArgumentError(
      'options.predictor',
      `expected one of ${PREDICTORS.join(', ')}, got ${describeValue(predictor)}`,
    );
  }
  if (!CORRECTORS.includes(corrector)) {
    throw new SbmArgumentError(
      'options.corrector',
      `expected one of ${CORRECTORS.join(', ')}, got ${describeValue(corrector)}`,
    );
  }
  const correctorSteps = corrector === 'none' ? 0 : (options.correctorSteps ?? 1);
  if (corrector !== 'none') assertInteger('options.correctorSteps', correctorSteps);
  const snr = options.snr ?? 0.16;
  assertPositive('options.snr', snr);
  const stepSize = options.stepSize ?? 2e-5;
  assertPositive('options.stepSize', stepSize);
  const denoise = options.denoise ?? true;
  const langevinNorm = options.langevinNorm ?? 'batch';
  if (langevinNorm !== 'sample' && langevinNorm !== 'batch') {
    throw new SbmArgumentError(
      'options.langevinNorm',
      `expected 'sample' or 'batch', got ${describeValue(langevinNorm)}`,
    );
  }
  const grid = gridTimes(sde, options, { steps: sde.N, spacing: 'uniform' });
  const n = grid.length - 1;
  const sigmaLast = sde.sigma(grid[n]!);
  if (corrector === 'annealedLangevin' && !(sigmaLast > 0)) {
    throw new SbmArgumentError('options.tMin', 'annealed Langevin needs sigma(tMin) > 0');
  }
  const ancestral = new DDIMStepper({ sde, timesteps: grid, eta: 1, prediction: 'score' });

  const samples = await guarded(run.initial(sde.priorStd), async (state) => {
    for (let i = 0; i < n; i++) {
      const t = grid[i]!;
      const s = grid[i + 1]!;
      const a = sde.alpha(t) / sde.alpha(s);
      for (let k = 0; k < correctorSteps; k++) {
        const score = await run.evaluate(state.x, t, 'score');
        const z = run.noise();
        const next =
          corrector === 'langevin'
            ? langevinStep(state.x, score, z, snr, a * a, langevinNorm === 'batch')
            : annealedStep(state.x, score, z, (stepSize * sde.sigma(t) ** 2) / sigmaLast ** 2);
        tf.dispose([score, z]);
        state.x.dispose();
        state.x = next;
      }
      let denoised: tf.Tensor | undefined;
      if (predictor !== 'none') {
        const score = await run.evaluate(state.x, t, 'score');
        denoised = run.denoisedFor(state.x, t, score, 'score');
        const addNoise = !(denoise && i === n - 1);
        const z = addNoise ? run.noise() : undefined;
        const next = predictorStep(predictor, run, ancestral, i, state.x, score, z, t, s, a);
        tf.dispose([score, z]);
        state.x.dispose();
        state.x = next;
      }
      await run.afterStep(i, n, s, state.x, denoised);
    }
  });
  return { samples, nfe: run.nfe };
}

function predictorStep(
  predictor: Predictor,
  run: SamplingRun,
  ancestral: DDIMStepper,
  i: number,
  x: tf.Tensor,
  score: tf.Tensor,
  z: tf.Tensor | undefined,
  t: number,
  s: number,
  a: number,
): tf.Tensor {
  const sde = run.sde as SDE;
  if (predictor === 'ancestral') {
    // Without z (last step with denoise) use a zero-noise draw: the posterior mean.
    const noise = z ?? tf.zerosLike(x);
    const { prevSample, denoised } = ancestral.step(score, { index: i, t, tNext: s }, x, noise);
    tf.dispose([denoised, z === undefined ? noise : undefined]);
    return prevSample;
  }
  if (predictor === 'eulerMaruyama') {
    const dt = t - s;
    const f = sde.driftCoefficient(t);
    const g = sde.diffusionCoefficient(t);
    const terms: [number, tf.Tensor][] = [
      [1 - f * dt, x],
      [g * g * dt, score],
    ];
    if (z) terms.push([g * Math.sqrt(dt), z]);
    return linearCombination(terms);
  }
  // reverse diffusion
  const v = Math.max(sde.sigma(t) ** 2 - a * a * sde.sigma(s) ** 2, 0);
  const terms: [number, tf.Tensor][] = [
    [2 - a, x],
    [v, score],
  ];
  if (z) terms.push([Math.sqrt(v), z]);
  return linearCombination(terms);
}

/** Per-sample L2 norms `[B, 1, …, 1]` of `v [B, ...]`. */
function sampleNorms(v: tf.Tensor): tf.Tensor {
  const B = v.shape[0]!;
  return expandToRank(tf.norm(tf.reshape(v, [B, -1]), 'euclidean', 1) as tf.Tensor1D, v.rank);
}

/** Langevin corrector with the signal-to-noise step rule (Song et al. 2021, Alg. 4/5), per sample. */
function langevinStep(
  x: tf.Tensor,
  score: tf.Tensor,
  z: tf.Tensor,
  snr: number,
  alpha: number,
  batchNorm: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    const norms = (v: tf.Tensor) => (batchNorm ? tf.mean(sampleNorms(v)) : sampleNorms(v));
    const ratio = tf.div(norms(z), tf.maximum(norms(score), 1e-30));
    const step = tf.mul(tf.square(tf.mul(ratio, snr)), 2 * alpha);
    return tf.add(tf.add(x, tf.mul(step, score)), tf.mul(tf.sqrt(tf.mul(step, 2)), z));
  });
}

/** Annealed Langevin step (Song & Ermon 2019, Alg. 1): `x + ½ α s + √α z`. */
function annealedStep(x: tf.Tensor, score: tf.Tensor, z: tf.Tensor, alpha: number): tf.Tensor {
  return linearCombination([
    [1, x],
    [0.5 * alpha, score],
    [Math.sqrt(alpha), z],
  ]);
}
