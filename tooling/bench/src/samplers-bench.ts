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
import { type SDE, type TimeSpacing, VESDE, VPSDE } from '@sbm/sde';
import { createRng, energyDistance, GaussianMixture, type LinearSdeSpec } from '@sbm/test-utils';
import { bestAtBudget, nfeCell, stepsForBudget } from './quality-table.js';
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
const BUDGETS = [5, 10, 15, 20, 25, 50];
const SPACINGS: TimeSpacing[] = ['uniform', 'quadratic', 'logSNR', 'karras'];

/** The grid options a row passes to its sampler. */
interface Grid {
  spacing: TimeSpacing;
  finalStep?: 'tMin' | 'clean';
}

type Run = (o: SamplerBaseOptions<SDE>, steps: number, grid: Grid) => Promise<SampleResult>;

/**
 * One sampler of the table: how many model evaluations `steps` steps cost (NFE), and how to run it.
 * `perStep` and `extra` give NFE = perStep · steps + extra.
 */
interface Entry {
  label: string;
  perStep: number;
  extra: number;
  run: Run;
  /** Default spacing of the sampler (marked in the table). */
  defaultSpacing: TimeSpacing;
}

const entries: Entry[] = [
  {
    label: 'PC: Euler–Maruyama',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'uniform',
    run: (o, steps, g) => pcSample({ ...o, ...g, steps, predictor: 'eulerMaruyama', corrector: 'none' }),
  },
  {
    label: 'PC: reverse diffusion + Langevin',
    perStep: 2,
    extra: 0,
    defaultSpacing: 'uniform',
    run: (o, steps, g) => pcSample({ ...o, ...g, steps }),
  },
  {
    label: 'PC: ancestral',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'uniform',
    run: (o, steps, g) => pcSample({ ...o, ...g, steps, predictor: 'ancestral', corrector: 'none' }),
  },
  {
    label: 'DDPM ancestral',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'uniform',
    run: (o, steps, g) => ddpmSample({ ...o, ...g, steps }),
  },
  {
    label: 'DDIM η = 0',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'uniform',
    run: (o, steps, g) => ddimSample({ ...o, ...g, steps }),
  },
  {
    label: 'PF-ODE Euler',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'uniform',
    run: (o, steps, g) => odeSample({ ...o, ...g, method: 'euler', steps }),
  },
  {
    label: 'PF-ODE Heun',
    perStep: 2,
    extra: 0,
    defaultSpacing: 'uniform',
    run: (o, steps, g) => odeSample({ ...o, ...g, method: 'heun', steps }),
  },
  {
    label: 'EDM Heun',
    perStep: 2,
    extra: -1,
    defaultSpacing: 'karras',
    run: (o, steps, g) => edmSample({ ...o, spacing: g.spacing, steps }),
  },
  {
    label: 'DPM-Solver-1',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'logSNR',
    run: (o, steps, g) => dpmSolverSample({ ...o, ...g, steps, order: 1 }),
  },
  {
    label: 'DPM-Solver-2',
    perStep: 2,
    extra: 0,
    defaultSpacing: 'logSNR',
    run: (o, steps, g) => dpmSolverSample({ ...o, ...g, steps, order: 2 }),
  },
  {
    label: 'DPM-Solver-3',
    perStep: 3,
    extra: 0,
    defaultSpacing: 'logSNR',
    run: (o, steps, g) => dpmSolverSample({ ...o, ...g, steps, order: 3 }),
  },
  {
    label: 'DPM-Solver++(2M)',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'logSNR',
    run: (o, steps, g) => dpmSolverPlusPlusSample({ ...o, ...g, steps }),
  },
  {
    label: 'DPM-Solver++(3M)',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'logSNR',
    run: (o, steps, g) => dpmSolverPlusPlusSample({ ...o, ...g, steps, order: 3 }),
  },
  {
    label: 'DPM-Solver++(2M) SDE',
    perStep: 1,
    extra: 0,
    defaultSpacing: 'logSNR',
    run: (o, steps, g) => dpmSolverPlusPlusSample({ ...o, ...g, steps, algorithm: 'sde-dpmsolver++' }),
  },
  ...([2, 3] as const).flatMap((order) =>
    (['bh1', 'bh2'] as const).map(
      (variant): Entry => ({
        label: `UniPC-${order} ${variant}`,
        perStep: 1,
        extra: 0,
        defaultSpacing: 'logSNR',
        run: (o, steps, g) => unipcSample({ ...o, ...g, steps, order, variant }),
      }),
    ),
  ),
];

/**
 * Sample quality against model evaluations: every sampler of @sbm/samplers with every time-step spacing,
 * driven by the exact score of a 2-D Gaussian mixture and scored by the energy distance of its samples to
 * an independent sample of the mixture (0 for a perfect sampler; independent samples of the mixture give
 * the noise floor). Ends with the best sampler at ≤ 10 NFE per SDE and its ratio to the noise floor.
 */
export async function samplersBench(): Promise<string> {
  const n = 2000;
  const truth = mixture.sample(n, createRng(1)).x;
  // The noise floor: energy distances of five independent samples of the data to `truth`.
  const floors = [2, 3, 4, 5, 6].map(
    (seed) => 1000 * energyDistance(mixture.sample(n, createRng(seed)).x, truth, n, n, 2),
  );
  const floor = floors.reduce((a, b) => a + b, 0) / floors.length;
  const sdes: [string, SDE, LinearSdeSpec][] = [
    ['VP', new VPSDE(), { kind: 'vp', betaMin: 0.1, betaMax: 20 }],
    ['VE', new VESDE(), { kind: 've', sigmaMin: 0.01, sigmaMax: 50 }],
  ];
  const sections: string[] = [
    `Data: 3-component 2-D Gaussian mixture with exact scores; ${n} samples per run, seeds ${SEEDS.join(', ')}; energy distance`,
    `(×1000) to an independent sample of ${n} points of the data, mean of the three seeds. Noise floor: five independent`,
    `samples of the data score ${floors.map((f) => f.toFixed(2)).join(', ')}, i.e. a perfect sampler would average ≈ ${floor.toFixed(2)}.`,
    'Columns are NFE budgets: each sampler takes the most steps that fit the budget (an actual NFE below the',
    "budget is shown in parentheses). Schedule: the spacing of the step times from T to tMin (score_sde's",
    "tMin: 1e-3 for VP, 1e-5 for VE); * marks the sampler's default. Deterministic samplers converge to the",
    'probability-flow ODE from the same latents, whose value (RK45) closes each section.',
    '',
  ];
  const summary: string[] = [];
  for (const [name, sde, spec] of sdes) {
    const model = mixture.scoreFn(spec);
    const rows: (string | number)[][] = [];
    const cells: { label: string; nfe: number; energy: number }[] = [];
    for (const entry of entries) {
      for (const spacing of SPACINGS) {
        const row: (string | number)[] = [
          entry.label,
          spacing === entry.defaultSpacing ? `${spacing} *` : spacing,
        ];
        for (const budget of BUDGETS) {
          const steps = stepsForBudget(budget, entry.perStep, entry.extra);
          if (steps === null) {
            row.push('—');
            continue;
          }
          const energies: number[] = [];
          let nfe = 0;
          for (const seed of SEEDS) {
            const result = await entry.run({ sde, model, shape: [n, 2], seed }, steps, { spacing });
            nfe = result.nfe;
            energies.push(1000 * energyDistance(result.samples.dataSync(), truth, n, n, 2));
            result.samples.dispose();
          }
          const mean = energies.reduce((a, b) => a + b, 0) / energies.length;
          cells.push({ label: `${entry.label}, ${spacing}`, nfe, energy: mean });
          row.push(nfeCell(mean, nfe, budget));
        }
        rows.push(row);
        console.error(`${name} ${row.join(' | ')}`);
      }
    }
    // The converged probability-flow ODE from the same latents: what every deterministic sampler tends to.
    let converged = 0;
    let rk45Nfe = 0;
    for (const seed of SEEDS) {
      const rk45 = await odeSample({ sde, model, shape: [n, 2], seed, rtol: 1e-5, atol: 1e-5 });
      converged += (1000 * energyDistance(rk45.samples.dataSync(), truth, n, n, 2)) / SEEDS.length;
      rk45Nfe = Math.max(rk45Nfe, rk45.nfe);
      rk45.samples.dispose();
    }
    const best = bestAtBudget(cells, 10);
    const ratio = best ? best.energy / floor : Number.NaN;
    summary.push(
      `- ${name}: best at ≤ 10 NFE is ${best?.label} (NFE ${best?.nfe}) with ${best?.energy.toFixed(2)}, ` +
        `${ratio.toFixed(2)}× the noise floor (goal ≤ 1.5×: ${ratio <= 1.5 ? 'met' : 'not met'}).`,
    );
    sections.push(
      `## ${name} SDE`,
      '',
      markdownTable(['sampler', 'schedule', ...BUDGETS.map((b) => `NFE ${b}`)], rows),
      '',
      `Converged probability-flow ODE (RK45, rtol = atol = 1e-5, up to ${rk45Nfe} NFE), same seeds: ${converged.toFixed(2)}.`,
      '',
    );
  }
  sections.splice(8, 0, '## Best at 10 NFE', '', ...summary, '');
  return sections.join('\n');
}
