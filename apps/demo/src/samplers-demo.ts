import {
  ddimSample,
  ddpmSample,
  dpmSolverPlusPlusSample,
  dpmSolverSample,
  edmSample,
  odeSample,
  pcSample,
  type SampleResult,
  type SamplerBaseOptions,
  unipcSample,
} from '@sbm/samplers';
import { type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import { createRng, energyDistance, type LinearSdeSpec } from '@sbm/test-utils';
import { demoMixture } from './sde-demo.js';

/** Options of {@link runSamplersDemo}. */
export interface SamplersDemoOptions {
  /** Samples per sampler (default 2000). */
  samples?: number;
  /** 'VP' (default), 'sub-VP' or 'VE'. */
  sde?: 'VP' | 'sub-VP' | 'VE';
  seed?: number;
}

/** One sampler's outcome. */
export interface SamplersDemoResult {
  sampler: string;
  nfe: number;
  /** Interleaved 2-D samples. */
  samples: Float32Array;
  /** Energy distance to an independent sample of the true mixture (0 for a perfect sampler). */
  energy: number;
  seconds: number;
}

type Run = (o: SamplerBaseOptions<SDE>) => Promise<SampleResult>;

/** Every sampler of @sbm/samplers at its default settings. */
export const demoSamplers: [string, Run][] = [
  ['PC reverse diffusion + Langevin', (o) => pcSample(o)],
  ['PC Euler–Maruyama', (o) => pcSample({ ...o, predictor: 'eulerMaruyama', corrector: 'none' })],
  ['PC ancestral', (o) => pcSample({ ...o, predictor: 'ancestral', corrector: 'none' })],
  ['DDPM', (o) => ddpmSample(o)],
  ['DDIM (50 steps, η = 0)', (o) => ddimSample(o)],
  ['PF-ODE RK45', (o) => odeSample(o)],
  ['PF-ODE Heun (100)', (o) => odeSample({ ...o, method: 'heun' })],
  ['PF-ODE Euler (500)', (o) => odeSample({ ...o, method: 'euler' })],
  ['EDM Heun (18)', (o) => edmSample(o)],
  ['DPM-Solver-3 (10)', (o) => dpmSolverSample(o)],
  ['DPM-Solver++(2M) (25)', (o) => dpmSolverPlusPlusSample(o)],
  ['DPM-Solver++(3M) (25)', (o) => dpmSolverPlusPlusSample({ ...o, order: 3 })],
  ['UniPC-2 bh2 (10)', (o) => unipcSample(o)],
];

const SDES: Record<string, [SDE, LinearSdeSpec]> = {
  VP: [new VPSDE(), { kind: 'vp', betaMin: 0.1, betaMax: 20 }],
  'sub-VP': [new SubVPSDE(), { kind: 'subvp', betaMin: 0.1, betaMax: 20 }],
  VE: [new VESDE(), { kind: 've', sigmaMin: 0.01, sigmaMax: 50 }],
};

/**
 * Samples the demo mixture with every sampler of @sbm/samplers, using the mixture's exact score as the
 * model, and scores each result by its energy distance to a fresh sample of the mixture. Also returns
 * that reference sample.
 */
export async function runSamplersDemo(
  options: SamplersDemoOptions = {},
): Promise<{ truth: Float32Array; results: SamplersDemoResult[] }> {
  const n = options.samples ?? 2000;
  const seed = options.seed ?? 0;
  const [sde, spec] = SDES[options.sde ?? 'VP']!;
  const truth = Float32Array.from(demoMixture.sample(n, createRng(seed)).x);
  const results: SamplersDemoResult[] = [];
  for (const [sampler, run] of demoSamplers) {
    const start = performance.now();
    const { samples, nfe } = await run({
      sde,
      model: demoMixture.scoreFn(spec),
      shape: [n, 2],
      seed: seed + 1,
    });
    const xy = samples.dataSync() as Float32Array;
    samples.dispose();
    results.push({
      sampler,
      nfe,
      samples: xy,
      energy: energyDistance(xy, truth, n, n, 2),
      seconds: (performance.now() - start) / 1000,
    });
  }
  return { truth, results };
}
