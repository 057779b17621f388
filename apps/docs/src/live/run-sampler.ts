import {
  ddimSample,
  ddpmSample,
  dpmSolverPlusPlusSample,
  dpmSolverSample,
  edmSample,
  type ModelAdapter,
  type ModelLike,
  odeSample,
  pcSample,
  type StepCallbackInfo,
  unipcSample,
} from '@sbm/samplers';
import { SbmArgumentError, type SDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { SAMPLER_IDS, type SamplerId } from './expected-nfe.js';

/** Options of {@link runSampler}. */
export interface RunSamplerOptions {
  /** The forward SDE (the page uses a VP SDE). */
  sde: SDE;
  /** A score function `(x, t) => ∇log p_t(x)` or a model wrapped with `wrapModel`. */
  model: ModelAdapter | ModelLike;
  /** Step count N (the slider); not used by `'ode-rk45'`. */
  steps: number;
  /** Output shape `[B, D]`. */
  shape: readonly number[];
  /** Seed of the samplers' noise streams. */
  seed: number;
  /**
   * After every step, with the state in data space (EDM's scaled state `x/α` is multiplied back by `α(t)`); the
   * tensor is valid only during the call.
   */
  onStep?: (x: tf.Tensor, t: number, index: number, total: number) => void | Promise<void>;
  /** Stops the run between steps. */
  signal?: AbortSignal;
}

/** What {@link runSampler} returns. */
export interface RunSamplerResult {
  /** The samples `[B, D]` (the caller disposes them). */
  samples: tf.Tensor;
  /** Model evaluations, as the sampler reports them. */
  nfe: number;
  /** `'ode-rk45'` only: accepted and rejected steps. */
  adaptive?: { accepted: number; rejected: number };
}

/**
 * Runs the sampler `id` of the picker with its `@sbm/samplers` defaults and `steps` steps:
 * `pcSample` (Euler–Maruyama, no corrector / reverse diffusion + one Langevin step), `ddpmSample`, `ddimSample`,
 * `dpmSolverPlusPlusSample` (2M), `unipcSample`, `dpmSolverSample` (order 3), `edmSample`, `odeSample` (Heun, or
 * adaptive RK45 with rtol = atol = 1e-5).
 */
export async function runSampler(id: SamplerId, options: RunSamplerOptions): Promise<RunSamplerResult> {
  if (!SAMPLER_IDS.includes(id)) {
    throw new SbmArgumentError('id', `expected one of ${SAMPLER_IDS.join(', ')}, got ${String(id)}`);
  }
  const { sde, model, steps, shape, seed, signal } = options;
  const onStep = options.onStep;
  const callback = onStep
    ? async (info: StepCallbackInfo) => {
        if (id !== 'edm-heun') return onStep(info.x, info.t, info.index, info.steps);
        // EDM steps x̃ = x/α(t): show x = α(t) x̃.
        const x = tf.mul(info.x, sde.alpha(info.t));
        try {
          await onStep(x, info.t, info.index, info.steps);
        } finally {
          x.dispose();
        }
      }
    : undefined;
  const base = { sde, model, shape, seed, signal, onStep: callback };
  switch (id) {
    case 'pc-euler-maruyama':
      return pcSample({ ...base, steps, predictor: 'eulerMaruyama', corrector: 'none' });
    case 'pc-langevin':
      return pcSample({
        ...base,
        steps,
        predictor: 'reverseDiffusion',
        corrector: 'langevin',
        correctorSteps: 1,
      });
    case 'ddpm':
      return ddpmSample({ ...base, steps });
    case 'ddim':
      return ddimSample({ ...base, steps, eta: 0 });
    case 'dpm-solver-pp-2m':
      return dpmSolverPlusPlusSample({ ...base, steps, order: 2 });
    case 'unipc':
      return unipcSample({ ...base, steps });
    case 'dpm-solver-3':
      return dpmSolverSample({ ...base, steps, order: 3 });
    case 'edm-heun':
      return edmSample({ ...base, steps });
    case 'ode-heun':
      return odeSample({ ...base, method: 'heun', steps });
    case 'ode-rk45': {
      const result = await odeSample({ ...base, method: 'rk45' });
      return {
        samples: result.samples,
        nfe: result.nfe,
        adaptive: { accepted: result.steps, rejected: result.rejected },
      };
    }
  }
}
