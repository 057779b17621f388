import {
  convertPrediction,
  describeValue,
  type Parameterization,
  SbmArgumentError,
  type SDE,
  type TimeSpacing,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { requireLogSNR, solverTimes } from './dpm-solver.js';
import {
  guarded,
  linearCombination,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';
import type { StepInfo, StepOutput } from './stepper.js';

/** Multistep history of {@link DPMSolverPlusPlusStepper}: the previous denoised estimate and its step. */
export interface DPMSolverPlusPlusState {
  /** `x̂_0` at the previous step's time (owned by the state). */
  previousDenoised: tf.Tensor;
  /** `h` of the previous step (in λ). */
  previousH: number;
}

/** Options of {@link DPMSolverPlusPlusStepper}. */
export interface DPMSolverPlusPlusStepperOptions {
  sde: SDE;
  /** Parameterization of the model outputs passed to `step`, default `'eps'`. */
  prediction?: Parameterization;
  /** Number of steps (= NFE), default 25. */
  steps?: number;
  /** Last time (default 1e-3, or 1e-5 for VE). */
  tMin?: number;
  /** `'logSNR'` (default), `'uniform'` or `'quadratic'`. */
  spacing?: TimeSpacing;
  /** Explicit decreasing times `t_0 = T > … > t_n` (overrides steps/spacing/tMin). */
  timesteps?: readonly number[];
  /** Use a first-order last step when there are fewer than 15 steps (as diffusers), default true. */
  lowerOrderFinal?: boolean;
}

/**
 * DPM-Solver++(2M) (Lu et al. 2022b, Alg. 2), a stateless multistep stepper with data prediction in
 * `λ = log(α/σ)`: with `h_i = λ_{t_i} − λ_{t_{i−1}}`, `r_i = h_{i−1}/h_i` and `x̂_0` the model's denoised
 * estimate, `D_i = (1 + 1/(2r_i)) x̂_0(t_{i−1}) − (1/(2r_i)) x̂_0(t_{i−2})` (first step: `D = x̂_0`), and
 * `x_{t_i} = (σ_{t_i}/σ_{t_{i−1}}) x_{t_{i−1}} − α_{t_i} (e^{−h_i} − 1) D_i`.
 * The state carries only the previous `x̂_0`.
 */
export class DPMSolverPlusPlusStepper {
  readonly sde: SDE;
  readonly prediction: Parameterization;
  /** Step times, decreasing, `steps + 1` of them. */
  readonly timesteps: readonly number[];
  readonly lowerOrderFinal: boolean;

  constructor(options: DPMSolverPlusPlusStepperOptions) {
    requireLogSNR(options?.sde, 'DPMSolverPlusPlusStepper');
    this.sde = options.sde;
    this.prediction = options.prediction ?? 'eps';
    this.timesteps = Object.freeze(solverTimes(options.sde, options, 25));
    this.lowerOrderFinal = options.lowerOrderFinal ?? true;
  }

  /** The steps: evaluate at `timesteps[i]`, step to `timesteps[i + 1]`. */
  schedule(): StepInfo[] {
    const ts = this.timesteps;
    return ts.slice(0, -1).map((t, index) => ({ index, t, tNext: ts[index + 1]! }));
  }

  /**
   * One step from `x` (at `info.t`) to `info.tNext`, given the model output at `(x, info.t)` and the
   * state returned by the previous step (`undefined` on the first). The passed state is consumed
   * (its tensor is disposed); the returned state owns a copy of this step's `x̂_0`.
   */
  step(
    modelOutput: tf.Tensor,
    info: StepInfo,
    x: tf.Tensor,
    state?: DPMSolverPlusPlusState,
  ): StepOutput<DPMSolverPlusPlusState> {
    const { sde } = this;
    const { t, tNext, index } = info;
    if (tNext === null || !(t > tNext && tNext >= 0 && t <= sde.T)) {
      throw new SbmArgumentError(
        'info',
        `expected T >= t > tNext >= 0, got t = ${t}, tNext = ${describeValue(tNext)}`,
      );
    }
    const h = 0.5 * (sde.logSNR(tNext) - sde.logSNR(t));
    const steps = this.timesteps.length - 1;
    const firstOrder = state === undefined || (this.lowerOrderFinal && steps < 15 && index === steps - 1);
    const out = tf.tidy(() => {
      const denoised = convertPrediction({ sde, x, t, value: modelOutput, from: this.prediction, to: 'x0' });
      const terms: [number, tf.Tensor][] = [[sde.sigma(tNext) / sde.sigma(t), x]];
      const c = -sde.alpha(tNext) * Math.expm1(-h);
      if (firstOrder) {
        terms.push([c, denoised]);
      } else {
        const r = state!.previousH / h;
        terms.push([c * (1 + 1 / (2 * r)), denoised], [-c / (2 * r), state!.previousDenoised]);
      }
      const prevSample = linearCombination(terms);
      return { prevSample, denoised, kept: tf.clone(denoised) };
    });
    state?.previousDenoised.dispose();
    return {
      prevSample: out.prevSample,
      denoised: out.denoised,
      state: { previousDenoised: out.kept, previousH: h },
    };
  }
}

/** Options of {@link dpmSolverPlusPlusSample}. */
export interface DPMSolverPlusPlusOptions
  extends SamplerBaseOptions<SDE>,
    Omit<DPMSolverPlusPlusStepperOptions, 'sde' | 'prediction'> {}

/**
 * Samples with DPM-Solver++(2M) (Lu et al. 2022b) driven by {@link DPMSolverPlusPlusStepper}; default
 * 25 steps uniform in log-SNR from `T` to `tMin`. NFE = steps.
 */
export async function dpmSolverPlusPlusSample(options: DPMSolverPlusPlusOptions): Promise<SampleResult> {
  const run = new SamplingRun('dpmSolverPlusPlusSample', options);
  const stepper = new DPMSolverPlusPlusStepper({ ...options, prediction: 'x0' });
  const schedule = stepper.schedule();
  let history: DPMSolverPlusPlusState | undefined;
  try {
    const samples = await guarded(run.initial(options.sde.priorStd), async (holder) => {
      for (const info of schedule) {
        const x0 = await run.evaluate(holder.x, info.t, 'x0');
        const { prevSample, denoised, state } = stepper.step(x0, info, holder.x, history);
        history = state;
        tf.dispose([x0, holder.x]);
        holder.x = prevSample;
        await run.afterStep(info.index, schedule.length, info.tNext!, holder.x, run.keepDenoised(denoised));
      }
    });
    return { samples, nfe: run.nfe };
  } finally {
    history?.previousDenoised.dispose();
  }
}
