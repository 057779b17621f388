// Examples of the guide "Choosing a sampler" (guides/choosing-a-sampler.md). Run by choosing-a-sampler.test.ts.
import {
  ddimSample,
  dpmSolverPlusPlusSample,
  dpmSolverSample,
  edmSample,
  type ModelAdapter,
  type ModelLike,
  odeSample,
  pcSample,
  type SampleResult,
  unipcSample,
} from '@sbm/samplers';
import type { SDE } from '@sbm/sde';

// #region ten-nfe
/**
 * Ten model evaluations: UniPC-2 (`bh2`) with quadratic time steps, the
 * best VP entry at 10 NFE of the benchmark table; on a VE SDE keep the
 * default log-SNR spacing.
 */
export async function sampleAtTenNfe(
  sde: SDE,
  model: ModelAdapter | ModelLike,
  shape: number[],
  seed: number,
): Promise<SampleResult> {
  return unipcSample({ sde, model, shape, steps: 10, spacing: 'quadratic', seed });
}
// #endregion ten-nfe

// #region menu
/**
 * Every family of sampler on the same model; each result reports its
 * samples and NFE.
 */
export async function samplerMenu(
  sde: SDE,
  model: ModelAdapter | ModelLike,
  shape: number[],
  seed: number,
): Promise<Record<string, SampleResult>> {
  return {
    // predictor–corrector (reverse diffusion + Langevin): 2 NFE per step
    pc: await pcSample({ sde, model, shape, seed, steps: 100 }),
    // probability-flow ODE, adaptive RK45 (rtol = atol = 1e-5): NFE set by the solver
    ode: await odeSample({ sde, model, shape, seed }),
    // DDIM, deterministic (eta 0), 50 steps: 1 NFE per step
    ddim: await ddimSample({ sde, model, shape, seed, steps: 50 }),
    // EDM's Heun sampler on the Karras schedule, 18 levels: 2 · 18 − 1 NFE
    edm: await edmSample({ sde, model, shape, seed, steps: 18 }),
    // DPM-Solver-3, single step: 3 NFE per step
    dpmSolver: await dpmSolverSample({ sde, model, shape, seed, order: 3, steps: 10 }),
    // DPM-Solver++(2M), multistep: 1 NFE per step
    dpmSolverPlusPlus: await dpmSolverPlusPlusSample({ sde, model, shape, seed, steps: 20 }),
    // UniPC-2 bh2, multistep; its corrector reuses the next evaluation: 1 NFE per step
    unipc: await unipcSample({ sde, model, shape, seed, steps: 10 }),
  };
}
// #endregion menu
