/**
 * The samplers of the live page's picker and the number of model evaluations (NFE) each one documents for a step
 * count. No DOM and no tensors, so that a test outside the browser can compute what the page must report.
 */
import { SbmArgumentError } from '@sbm/sde';

/** The picker's samplers, in the picker's order. */
export const SAMPLER_IDS = [
  'pc-euler-maruyama',
  'pc-langevin',
  'ddpm',
  'ddim',
  'dpm-solver-pp-2m',
  'unipc',
  'dpm-solver-3',
  'edm-heun',
  'ode-heun',
  'ode-rk45',
] as const;

/** One of {@link SAMPLER_IDS}. */
export type SamplerId = (typeof SAMPLER_IDS)[number];

/** What the picker shows and the NFE rule, for each sampler. */
export const SAMPLER_INFO: Readonly<Record<SamplerId, { label: string; rule: string }>> = {
  'pc-euler-maruyama': { label: 'PC: Euler–Maruyama, no corrector', rule: 'N' },
  'pc-langevin': { label: 'PC: reverse diffusion + Langevin corrector', rule: '2N' },
  ddpm: { label: 'DDPM ancestral', rule: 'N' },
  ddim: { label: 'DDIM (η = 0)', rule: 'N' },
  'dpm-solver-pp-2m': { label: 'DPM-Solver++(2M)', rule: 'N' },
  unipc: { label: 'UniPC-2 (bh2)', rule: 'N' },
  'dpm-solver-3': { label: 'DPM-Solver-3 (single-step)', rule: '3N' },
  'edm-heun': { label: 'EDM Heun (Karras σ)', rule: '2N − 1' },
  'ode-heun': { label: 'Probability-flow ODE, Heun', rule: '2N' },
  'ode-rk45': { label: 'Probability-flow ODE, adaptive RK45', rule: '2 + 6 × (accepted + rejected steps)' },
};

/** Steps the adaptive RK45 solver took, as `odeSample` reports them. */
export interface AdaptiveSteps {
  /** Accepted steps. */
  accepted: number;
  /** Rejected steps. */
  rejected: number;
}

/**
 * The NFE a sampler of the picker spends for `steps` steps (the slider's N), from each sampler's documented rule
 * (`@sbm/samplers`):
 * - PC with the Euler–Maruyama predictor and no corrector: N; with one Langevin corrector step per level: 2N;
 * - DDPM, DDIM, DPM-Solver++(2M), UniPC: N (one evaluation per step);
 * - DPM-Solver-3 (single-step, order 3, ending at `tMin`): 3N;
 * - EDM Heun: 2N − 1 (Euler on the last step to σ = 0);
 * - probability-flow ODE with Heun: 2N;
 * - adaptive RK45 (Dormand–Prince, first-same-as-last): one evaluation at the start, one to choose the first step
 *   size, then six per attempted step: 2 + 6 (accepted + rejected), with the counts `odeSample` reports (`steps` is
 *   not used).
 */
export function expectedNfe(sampler: SamplerId, steps: number, adaptive?: AdaptiveSteps): number {
  if (!SAMPLER_IDS.includes(sampler))
    throw new SbmArgumentError(
      'sampler',
      `expected one of ${SAMPLER_IDS.join(', ')}, got ${String(sampler)}`,
    );
  if (sampler === 'ode-rk45') {
    if (adaptive === undefined)
      throw new SbmArgumentError('adaptive', 'ode-rk45 needs the accepted and rejected step counts');
    return 2 + 6 * (adaptive.accepted + adaptive.rejected);
  }
  if (!(Number.isInteger(steps) && steps >= 1))
    throw new SbmArgumentError('steps', `expected an integer >= 1, got ${steps}`);
  switch (sampler) {
    case 'pc-langevin':
    case 'ode-heun':
      return 2 * steps;
    case 'dpm-solver-3':
      return 3 * steps;
    case 'edm-heun':
      return 2 * steps - 1;
    default:
      return steps;
  }
}
