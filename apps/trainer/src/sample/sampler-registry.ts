import {
  ddimSample,
  ddpmSample,
  dpmSolverPlusPlusSample,
  dpmSolverSample,
  edmSample,
  odeSample,
  pcSample,
  type SampleResult,
  unipcSample,
} from '@sbm/samplers';

/** The samplers of @sbm/samplers by the names the trainer's config and CLI use (`sampling.sampler`). */
export const SAMPLERS = {
  pc: pcSample,
  ode: odeSample,
  ddpm: ddpmSample,
  ddim: ddimSample,
  edm: edmSample,
  dpmSolver: dpmSolverSample,
  dpmSolverPlusPlus: dpmSolverPlusPlusSample,
  unipc: unipcSample,
} as const;

/** A sampler name of {@link SAMPLERS}. */
export type SamplerName = keyof typeof SAMPLERS;

/** A sampler as the trainer calls it: base options plus the sampler's own, as a plain object. */
export type SamplerRun = (options: Record<string, unknown>) => Promise<SampleResult>;

/** The sampler called `name`; an unknown name is an error that lists the known ones. */
export function samplerByName(name: string): SamplerRun {
  if (!Object.hasOwn(SAMPLERS, name)) {
    throw new Error(`sampling.sampler: expected one of ${Object.keys(SAMPLERS).join(', ')}, got '${name}'`);
  }
  return SAMPLERS[name as SamplerName] as unknown as SamplerRun;
}
