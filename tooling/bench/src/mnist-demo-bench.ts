import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupBackend } from '@sbm/backend';
import { loadConfig, MNIST_DEMO_PRESET, Reporter, runMnistDemo } from '@sbm/trainer';
import { markdownTable } from './timing.js';

/** Training budgets measured, in steps: the demo's own (`training.nIters`), then two and three times it. */
const BUDGET_MULTIPLES = [1, 2, 3];

/** The goal of the main job: generated digits classified with confidence ≥ 0.9 at least this share of the real digits' share. */
const GOAL_RATIO = 0.8;

/**
 * `pnpm bench mnist-demo`: the main job (`pnpm demo`) from scratch, then the same run continued to two and three
 * times its steps (one training trajectory: the run resumes exactly), measured after each budget the way
 * the demo measures itself. Writes the demo's grid to bench/results/mnist-demo.png and the longest budget's
 * to mnist-demo-<steps>.png.
 */
export async function mnistDemoBench(outDir: string): Promise<string> {
  const report = await setupBackend({ prefer: 'wasm', importModule: (name: string) => import(name) });
  const config = await loadConfig({ preset: MNIST_DEMO_PRESET });
  const runDir = await mkdtemp(join(tmpdir(), 'sbm-mnist-demo-bench-'));
  const reporter = new Reporter({ mode: 'pretty', out: process.stderr, err: process.stderr });
  const rows: (string | number)[][] = [];
  let trainSeconds = 0;
  let firstReport = '';
  const grids: string[] = [];
  try {
    for (const k of BUDGET_MULTIPLES) {
      const steps = k * config.training.nIters;
      const r = await runMnistDemo({ config, runDir, reporter, steps });
      const m = r.metrics!;
      trainSeconds += r.seconds.train;
      const ratio = m.confidentShare / m.realConfidentShare;
      rows.push([
        steps,
        (trainSeconds / 60).toFixed(1),
        ((r.seconds.sample + r.seconds.measure) / 60).toFixed(1),
        `${(100 * m.confidentShare).toFixed(1)} %`,
        `${(100 * m.realConfidentShare).toFixed(1)} %`,
        `${ratio.toFixed(2)}${ratio >= GOAL_RATIO ? ' ✓' : ''}`,
        `${m.frechet.toFixed(2)} (${m.frechetFloor.toFixed(2)})`,
        m.histogram.join(' '),
      ]);
      const name = k === 1 ? 'mnist-demo.png' : `mnist-demo-${steps}.png`;
      if (k === 1 || k === BUDGET_MULTIPLES.at(-1)) {
        await copyFile(r.gridPath!, join(outDir, name));
        grids.push(name);
      }
      if (k === 1) firstReport = await readFile(r.reportPath!, 'utf8');
    }
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
  return [
    `The main job, \`pnpm demo\` (preset \`${MNIST_DEMO_PRESET}\`: ${config.training.nIters} steps), from scratch on`,
    `${report.backendName} (${report.threads ?? '?'} threads), then the same run continued to ${BUDGET_MULTIPLES.slice(
      1,
    )
      .map((k) => k * config.training.nIters)
      .join(' and ')} steps. Each budget samples 500 digits with the preset's sampler and measures them with`,
    "the demo's classifier (a small CNN trained on the 8,000 training digits; held-out: the other 2,000).",
    `Goal: a confident share (max p ≥ 0.9) of at least ${GOAL_RATIO} × the real digits' own share.`,
    '',
    markdownTable(
      [
        'steps',
        'training (min, cumulative)',
        'sample + measure (min)',
        'confident',
        'real',
        'ratio',
        'Fréchet (floor)',
        'class histogram 0–9',
      ],
      rows,
    ),
    '',
    ...grids.map((g) => `![${g}](${g})`),
    '',
    "## The demo's own report",
    '',
    firstReport,
  ].join('\n');
}
