import {
  assertNonNegative,
  convertPrediction,
  describeValue,
  type MarginalCoefficients,
  type Parameterization,
  SbmArgumentError,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  guarded,
  linearCombination,
  priorStdOf,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';
import type { StepInfo, StepOutput } from './stepper.js';
import { gridTimes, type TimeGridOptions } from './time-grid.js';

/** Options of {@link DDIMStepper}. */
export interface DDIMStepperOptions extends Omit<TimeGridOptions, 'finalStep'> {
  /** Marginal coefficients: an SDE, or `discreteMarginals(schedule)` for a DDPM checkpoint (time = step index). */
  sde: MarginalCoefficients;
  /** Parameterization of the model outputs passed to `step`, default `'eps'`. */
  prediction?: Parameterization;
  /**
   * $\eta \ge 0$ of DDIM (Song et al. 2021, Eq. 16), the fraction of the posterior standard deviation used as
   * noise: 0 deterministic (default), 1 the DDPM posterior (ancestral sampling).
   */
  eta?: number;
  /**
   * Variance of the noise: `'small'` (default) is $\eta^2 \tilde\sigma^2$ with the posterior variance
   * $\tilde\sigma^2 = \sigma_s^2 \big(1 - \alpha_{t|s}^2 \sigma_s^2 / \sigma_t^2\big)$, $\alpha_{t|s} = \alpha_t/\alpha_s$
   * (DDIM, and DDPM's $\tilde\beta_t$); `'large'` keeps the posterior mean but adds the full forward variance
   * $\sigma_t^2 - \alpha_{t|s}^2 \sigma_s^2$ (DDPM's $\sigma_t^2 = \beta_t$; `eta` is then not used).
   */
  variance?: 'small' | 'large';
  // Times (TimeGridOptions): explicit decreasing `timesteps` in `[0, T]` (any subset, e.g.
  // `discreteTimesteps(1000, 50)`), or `steps` (default 50) times from `T` to `tMin` with `spacing`
  // (default 'uniform'; 'logSNR' and 'karras' need an SDE or discreteMarginals). Every time is
  // evaluated; the last step goes to clean data.
}

/**
 * The DDIM update (Song et al. 2021, "Denoising Diffusion Implicit Models", Eq. 12) for any marginal
 * $x_t = \alpha_t x_0 + \sigma_t \epsilon$, as a stateless stepper. From $x_t$ and the model output at $t$,
 * converted to $\hat\epsilon$, with $\hat x_0 = (x_t - \sigma_t \hat\epsilon)/\alpha_t$, the step to $s < t$ is
 *
 * $$x_s = \alpha_s \hat x_0 + \sqrt{\sigma_s^2 - c^2}\,\hat\epsilon + c\,z, \qquad z \sim \mathcal{N}(0, I),$$
 *
 * $$c = \eta\,\sigma_s \sqrt{1 - \Big(\frac{\alpha_t \sigma_s}{\alpha_s \sigma_t}\Big)^2},$$
 *
 * where $c$ is the posterior standard deviation times $\eta$ (the paper's $\sigma_t(\eta)$; its $\sqrt{\alpha_t}$
 * is the $\alpha_t$ here, DDPM's $\sqrt{\bar\alpha_t}$). $\eta = 0$ is deterministic; $\eta = 1$ is DDPM's
 * ancestral step (Ho et al. 2020, Eq. 6–7). The last step goes to clean data ($\alpha = 1$, $\sigma = 0$), where
 * $x_0 = \hat x_0$. Shapes: `x`, the model output, `noise` and the result are all `[B, ...]`.
 *
 * @example
 * ```ts
 * const ddim = new DDIMStepper({ sde, steps: 50, eta: 0 });
 * for (const info of ddim.schedule()) {
 *   const eps = myModel(x, info.t);
 *   const { prevSample, denoised } = ddim.step(eps, info, x);
 *   tf.dispose([x, eps, denoised]); x = prevSample;
 * }
 * ```
 */
export class DDIMStepper {
  /** The marginal coefficients $\alpha(t)$, $\sigma(t)$ of the forward process (an SDE or `discreteMarginals`). */
  readonly sde: MarginalCoefficients;
  /** Parameterization of the model outputs passed to `step` (`'eps'` by default); converted to $\hat\epsilon$. */
  readonly prediction: Parameterization;
  /** DDIM's $\eta \ge 0$ (0 deterministic, 1 the DDPM posterior); default 0. */
  readonly eta: number;
  /** `'small'` ($\eta^2 \tilde\sigma^2$) or `'large'` (the forward variance) noise; see {@link DDIMStepperOptions.variance}. */
  readonly variance: 'small' | 'large';
  /** The model times, decreasing. */
  readonly timesteps: readonly number[];

  /** Checks the options and builds the time grid (default 50 times uniform from `T` to `tMin`). */
  constructor(options: DDIMStepperOptions) {
    const { sde } = options;
    if (!sde || typeof sde.alpha !== 'function') {
      throw new SbmArgumentError(
        'options.sde',
        `expected an SDE or marginal coefficients, got ${describeValue(sde)}`,
      );
    }
    this.sde = sde;
    this.prediction = options.prediction ?? 'eps';
    this.eta = options.eta ?? 0;
    assertNonNegative('options.eta', this.eta);
    this.variance = options.variance ?? 'small';
    if (this.variance !== 'small' && this.variance !== 'large') {
      throw new SbmArgumentError(
        'options.variance',
        `expected 'small' or 'large', got ${describeValue(this.variance)}`,
      );
    }
    this.timesteps = gridTimes(sde, options, { steps: 50, spacing: 'uniform' }, 1);
    Object.freeze(this.timesteps);
  }

  /** The steps: evaluate at `timesteps[i]`, step to `timesteps[i + 1]` (the last one to clean data). */
  schedule(): StepInfo[] {
    const ts = this.timesteps;
    return ts.map((t, index) => ({ index, t, tNext: index + 1 < ts.length ? ts[index + 1]! : null }));
  }

  /**
   * One DDIM step from `x` (at `info.t`) to `info.tNext`.
   * @param modelOutput - the model's prediction at `(x, info.t)` in `prediction` parameterization, shape of `x`.
   * @param info - a {@link StepInfo} (from `schedule()` or your own, with `tNext < t`).
   * @param x - the current state `[B, ...]`.
   * @param noise - standard normal noise of the shape of `x`; required when the step adds noise (η > 0 or 'large').
   * @returns `prevSample` at `tNext` and `denoised` ($\hat x_0$); inputs are not disposed.
   */
  step(modelOutput: tf.Tensor, info: StepInfo, x: tf.Tensor, noise?: tf.Tensor): StepOutput {
    const { sde } = this;
    const { t, tNext } = info;
    if (!(t >= 0 && t <= sde.T) || (tNext !== null && !(tNext >= 0 && tNext < t))) {
      throw new SbmArgumentError(
        'info',
        `expected t in [0, T] and tNext in [0, t) or null, got t = ${t}, tNext = ${tNext}`,
      );
    }
    const alphaT = sde.alpha(t);
    const sigmaT = sde.sigma(t);
    if (!(sigmaT > 0)) throw new SbmArgumentError('info', `expected sigma(t) > 0, got t = ${t}`);
    const alphaS = tNext === null ? 1 : sde.alpha(tNext);
    const sigmaS = tNext === null ? 0 : sde.sigma(tNext);
    const ratio = (alphaT * sigmaS) / (alphaS * sigmaT);
    const posteriorStd = sigmaS * Math.sqrt(Math.max(1 - ratio * ratio, 0));
    const cMean = this.variance === 'large' ? posteriorStd : this.eta * posteriorStd;
    const forwardStd = Math.sqrt(Math.max(sigmaT * sigmaT - (alphaT / alphaS) ** 2 * sigmaS * sigmaS, 0));
    const cNoise = tNext === null ? 0 : this.variance === 'large' ? forwardStd : cMean;
    if (cNoise > 0 && !(noise instanceof tf.Tensor && tf.util.arraysEqual(noise.shape, x.shape))) {
      throw new SbmArgumentError(
        'noise',
        `expected standard normal noise of the shape of x [${x.shape.join(',')}], got ${describeValue(noise)}`,
      );
    }
    return tf.tidy(() => {
      const eps =
        this.prediction === 'eps'
          ? modelOutput
          : convertPrediction({ sde, x, t, value: modelOutput, from: this.prediction, to: 'eps' });
      const denoised = linearCombination([
        [1 / alphaT, x],
        [-sigmaT / alphaT, eps],
      ]);
      const terms: [number, tf.Tensor][] = [
        [alphaS, denoised],
        [Math.sqrt(Math.max(sigmaS * sigmaS - cMean * cMean, 0)), eps],
      ];
      if (cNoise > 0) terms.push([cNoise, noise!]);
      return { prevSample: linearCombination(terms), denoised, state: undefined };
    });
  }
}

/** Options of {@link ddimSample}. */
export interface DDIMSampleOptions
  extends SamplerBaseOptions,
    Omit<DDIMStepperOptions, 'sde' | 'prediction'> {}

/**
 * DDIM sampling (Song et al. 2021, DDIM, Eq. 12) with $\eta$ and any subset of timesteps, driven by
 * {@link DDIMStepper}:
 *
 * $$x_s = \alpha_s \hat x_0 + \sqrt{\sigma_s^2 - c^2}\,\hat\epsilon_\theta(x_t, t) + c\,z, \qquad c = \eta\,\sigma_s \sqrt{1 - \alpha_{t|s}^2 \sigma_s^2 / \sigma_t^2}.$$
 *
 * with $\alpha_{t|s} = \alpha_t/\alpha_s$, $\hat x_0 = (x_t - \sigma_t \hat\epsilon_\theta)/\alpha_t$ and $z \sim \mathcal{N}(0, I)$.
 * Default: 50 uniform times from `T` to `tMin`, $\eta = 0$ (a first-order solver of the probability-flow ODE
 * in the variables $x/\alpha$, $\sigma/\alpha$); the last step lands on clean data. One model evaluation per
 * step. `x` is `[B, ...]` throughout.
 *
 * @returns `samples` of `shape` (or `xT.shape`) and `nfe`.
 */
export async function ddimSample(options: DDIMSampleOptions): Promise<SampleResult> {
  return runDdim('ddimSample', options, new DDIMStepper({ ...options, prediction: 'eps' }));
}

/** Options of {@link ddpmSample}. */
export interface DDPMSampleOptions
  extends SamplerBaseOptions,
    Omit<DDIMStepperOptions, 'sde' | 'prediction' | 'eta'> {}

/**
 * DDPM ancestral sampling (Ho et al. 2020, Alg. 2): a draw of the Gaussian posterior $q(x_s \mid x_t, \hat x_0)$,
 *
 * $$x_s = \tilde\mu(x_t, \hat x_0) + \sigma z, \qquad z \sim \mathcal{N}(0, I),$$
 *
 * $$\tilde\mu(x_t, \hat x_0) = \frac{\alpha_{t|s} \sigma_s^2}{\sigma_t^2}\, x_t + \frac{\alpha_s (\sigma_t^2 - \alpha_{t|s}^2 \sigma_s^2)}{\sigma_t^2}\, \hat x_0, \qquad \alpha_{t|s} = \frac{\alpha_t}{\alpha_s},$$
 *
 * with $\sigma^2 = \tilde\beta = \sigma_s^2 (1 - \alpha_{t|s}^2 \sigma_s^2/\sigma_t^2)$ (`variance: 'small'`, default)
 * or $\sigma^2 = \beta = \sigma_t^2 - \alpha_{t|s}^2 \sigma_s^2$ (`'large'`); no noise on the last step, which lands
 * on $\hat x_0$. It is {@link DDIMStepper} with $\eta = 1$. By default every one of the SDE's `N` times
 * (1000 if it has none) from `T` to `tMin` (a DDPM checkpoint's own steps when the marginals are
 * `discreteMarginals(schedule)` and `timesteps` are its indices). `x` is `[B, ...]`.
 */
export async function ddpmSample(options: DDPMSampleOptions): Promise<SampleResult> {
  const N = (options.sde as { N?: number } | undefined)?.N ?? 1000;
  const stepper = new DDIMStepper({ ...options, steps: options.steps ?? N, eta: 1, prediction: 'eps' });
  return runDdim('ddpmSample', options, stepper);
}

async function runDdim(
  name: string,
  options: SamplerBaseOptions,
  stepper: DDIMStepper,
): Promise<SampleResult> {
  const run = new SamplingRun(name, options);
  const schedule = stepper.schedule();
  const noisy = stepper.eta > 0 || stepper.variance === 'large';
  const samples = await guarded(run.initial(priorStdOf(run.sde)), async (state) => {
    for (const info of schedule) {
      const eps = await run.evaluate(state.x, info.t, 'eps');
      const noise = noisy && info.tNext !== null ? run.noise() : undefined;
      const { prevSample, denoised } = stepper.step(eps, info, state.x, noise);
      tf.dispose([eps, noise]);
      state.x.dispose();
      state.x = prevSample;
      await run.afterStep(info.index, schedule.length, info.tNext ?? 0, state.x, run.keepDenoised(denoised));
    }
  });
  return { samples, nfe: run.nfe };
}
