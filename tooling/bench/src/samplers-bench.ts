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
} from '@sbm/samplers';
import { type SDE, VESDE, VPSDE } from '@sbm/sde';
import { createRng, energyDistance, GaussianMixture, type LinearSdeSpec } from '@sbm/test-utils';
import { markdownTable } from './timing.js';

/** The demo/test mixture: three isotropic components in 2-D. */
const mixture = GaussianMixture.isotropic(
  [0.2, 0.5, 0.3],
  [
    [-2, -1.5],
    [1.5, -1],
    [0, 2],
  ],
  [0.35, 0.5, 0.3],
);

const SEEDS = [3, 4, 5];

type Run = (o: SamplerBaseOptions<SDE>) => Promise<SampleResult>;

/** Sampler configurations, each at several step counts. */
const configs: [string, (steps: number) => Run, number[]][] = [
  [
    'PC: Euler–Maruyama',
    (steps) => (o) => pcSample({ ...o, steps, predictor: 'eulerMaruyama', corrector: 'none' }),
    [100, 250, 1000],
  ],
  ['PC: reverse diffusion + Langevin', (steps) => (o) => pcSample({ ...o, steps }), [100, 250, 1000]],
  [
    'PC: ancestral',
    (steps) => (o) => pcSample({ ...o, steps, predictor: 'ancestral', corrector: 'none' }),
    [100, 1000],
  ],
  ['DDPM ancestral', (steps) => (o) => ddpmSample({ ...o, steps }), [100, 1000]],
  ['DDIM η = 0', (steps) => (o) => ddimSample({ ...o, steps }), [10, 25, 50, 100]],
  ['PF-ODE Euler', (steps) => (o) => odeSample({ ...o, method: 'euler', steps }), [50, 100, 500]],
  ['PF-ODE Heun', (steps) => (o) => odeSample({ ...o, method: 'heun', steps }), [10, 25, 100]],
  [
    'PF-ODE RK45 (rtol = atol = 10^−k)',
    (k) => (o) => odeSample({ ...o, rtol: 10 ** -k, atol: 10 ** -k }),
    [3, 5],
  ],
  ['EDM Heun (Karras σ)', (steps) => (o) => edmSample({ ...o, steps }), [5, 10, 18]],
  ['EDM Heun, S_churn = 10', (steps) => (o) => edmSample({ ...o, steps, sChurn: 10 }), [18, 40, 80]],
  ['DPM-Solver-1', (steps) => (o) => dpmSolverSample({ ...o, steps, order: 1 }), [10, 20, 30]],
  ['DPM-Solver-2', (steps) => (o) => dpmSolverSample({ ...o, steps, order: 2 }), [5, 10, 15]],
  ['DPM-Solver-3', (steps) => (o) => dpmSolverSample({ ...o, steps, order: 3 }), [4, 7, 10]],
  ['DPM-Solver++(2M)', (steps) => (o) => dpmSolverPlusPlusSample({ ...o, steps }), [5, 10, 15, 25]],
];

/**
 * Sample quality against model evaluations: every sampler of @sbm/samplers, driven by the exact score of
 * a 2-D Gaussian mixture, scored by the energy distance of its samples to an independent sample of the
 * mixture (0 for a perfect sampler; two independent samples of the mixture give the noise floor).
 */
export async function samplersBench(): Promise<string> {
  const n = 2000;
  const truth = mixture.sample(n, createRng(1)).x;
  // The noise floor: energy distances of five independent samples of the data to `truth`.
  const floors = [2, 3, 4, 5, 6].map(
    (seed) => 1000 * energyDistance(mixture.sample(n, createRng(seed)).x, truth, n, n, 2),
  );
  const sdes: [string, SDE, LinearSdeSpec][] = [
    ['VP', new VPSDE(), { kind: 'vp', betaMin: 0.1, betaMax: 20 }],
    ['VE', new VESDE(), { kind: 've', sigmaMin: 0.01, sigmaMax: 50 }],
  ];
  const sections: string[] = [
    `Data: 3-component 2-D Gaussian mixture with exact scores; ${n} samples per run, seeds ${SEEDS.join(', ')}; energy distance`,
    `(×1000) to an independent sample of ${n} points of the data. Noise floor: five independent samples of the data`,
    `score ${floors.map((f) => f.toFixed(2)).join(', ')}, i.e. a perfect sampler would average ≈ ${(floors.reduce((a, b) => a + b, 0) / floors.length).toFixed(1)}. Seconds include`,
    'the JS oracle score on the cpu backend (the machine may be shared).',
    '',
  ];
  for (const [name, sde, spec] of sdes) {
    const rows: (string | number)[][] = [];
    for (const [label, make, settings] of configs) {
      for (const s of settings) {
        // three runs with different seeds (different latents and noise); mean and range of the energy distance
        const energies: number[] = [];
        let nfe = 0;
        const start = performance.now();
        for (const seed of SEEDS) {
          const result = await make(s)({ sde, model: mixture.scoreFn(spec), shape: [n, 2], seed });
          nfe = result.nfe;
          energies.push(1000 * energyDistance(result.samples.dataSync(), truth, n, n, 2));
          result.samples.dispose();
        }
        const seconds = (performance.now() - start) / 1000 / SEEDS.length;
        const mean = energies.reduce((a, b) => a + b, 0) / energies.length;
        const range = `${Math.min(...energies).toFixed(2)}–${Math.max(...energies).toFixed(2)}`;
        rows.push([
          label,
          label.startsWith('PF-ODE RK45') ? `tol 1e-${s}` : s,
          nfe,
          mean.toFixed(2),
          range,
          seconds.toFixed(2),
        ]);
        console.error(`${name} ${label} ${s}: NFE ${nfe}, energy ${mean.toFixed(2)} (${range})`);
      }
    }
    sections.push(
      `## ${name} SDE`,
      '',
      markdownTable(
        ['sampler', 'steps', 'NFE', 'energy distance ×1000 (mean of 3)', 'range', 'seconds per run'],
        rows,
      ),
      '',
    );
  }
  return sections.join('\n');
}
