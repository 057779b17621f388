#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng, energyDistance, sampleMean, useCpuBackend } from '@sbm/test-utils';
import { encodePng } from './png.js';
import { scatterPanel, tilePanels } from './scatter-plot.js';
import { demoMixture, runSdeDemo } from './sde-demo.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'demo-out' },
    samples: { type: 'string', default: '2000' },
    steps: { type: 'string' },
    'ode-steps': { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`sbm-demo: reverse the VP, sub-VP and VE SDEs of @sbm/sde with the exact score of a 2-D
Gaussian mixture, print how close each sampler gets, and write a PNG of the samples.

Options:
  --out DIR         output folder (default demo-out)
  --samples N       samples per sampler (default 2000)
  --steps N         reverse-diffusion steps, the SDEs' N (default 1000)
  --ode-steps N     probability-flow ODE Euler steps (default 500)
  --seed N          random seed (default 0)`);
  process.exit(0);
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: expected a positive integer, got ${value}`);
    process.exit(2);
  }
  return n;
}

await useCpuBackend();
const samples = positiveInt('samples', values.samples)!;
const { truth, results } = runSdeDemo({
  samples,
  steps: positiveInt('steps', values.steps),
  odeSteps: positiveInt('ode-steps', values['ode-steps']),
  seed: Number(values.seed),
});

// Reference level: the energy distance between two independent samples of the mixture itself.
const other = Float32Array.from(demoMixture.sample(samples, createRng(Number(values.seed) + 1)).x);
const floor = energyDistance(other, truth, samples, samples, 2);
const m = demoMixture.mean();
console.log(`Data: 3-component Gaussian mixture in 2-D, mean (${m.map((v) => v.toFixed(3)).join(', ')}).`);
console.log(
  `Energy distance between two independent samples of the data (the noise floor): ${floor.toFixed(4)}\n`,
);
console.log('SDE     sampler                        energy dist.   mean               seconds');
for (const r of results) {
  console.log(
    `${r.sde.padEnd(8)}${r.sampler.padEnd(31)}${r.energy.toFixed(4).padStart(12)}   (${r.mean
      .map((v) => v.toFixed(3).padStart(6))
      .join(', ')})   ${r.seconds.toFixed(1).padStart(6)}`,
  );
}
const truthMean = sampleMean(truth, samples, 2);
console.log(
  `${'data'.padEnd(39)}${''.padStart(12)}   (${truthMean.map((v) => v.toFixed(3).padStart(6)).join(', ')})`,
);

const panels = [
  scatterPanel(truth, { color: [180, 30, 30] }),
  ...results.map((r) => scatterPanel(r.samples)),
];
const image = tilePanels(panels);
const outDir = resolve(values.out!);
mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'sde-demo.png');
writeFileSync(file, encodePng(image.width, image.height, image.rgba));
console.log(
  `\nWrote ${file}: panels left to right are the data (red), then ${results
    .map((r) => `${r.sde} ${r.sampler}`)
    .join(', ')}.`,
);
