#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createRng, energyDistance, sampleMean, useCpuBackend } from '@sbm/test-utils';
import { encodePng } from './png.js';
import { runSamplersDemo } from './samplers-demo.js';
import { scatterPanel, tilePanels } from './scatter-plot.js';
import { demoMixture, runSdeDemo } from './sde-demo.js';

const { values } = parseArgs({
  options: {
    demo: { type: 'string', default: 'samplers' },
    sde: { type: 'string', default: 'VP' },
    out: { type: 'string', default: 'demo-out' },
    samples: { type: 'string', default: '2000' },
    steps: { type: 'string' },
    'ode-steps': { type: 'string', default: '500' },
    seed: { type: 'string', default: '0' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(`sbm-demo: sample a 2-D Gaussian mixture using its exact score as the model, print how close each
sampler gets, and write a PNG of the samples next to the true mixture.

Options:
  --demo NAME       'samplers' (default): every sampler of @sbm/samplers at its defaults -> samplers-demo.png
                    'sde': hand-written reverse diffusion and Euler PF-ODE on @sbm/sde -> sde-demo.png
  --sde NAME        for --demo samplers: VP (default), sub-VP or VE
  --out DIR         output folder (default demo-out)
  --samples N       samples per sampler (default 2000)
  --steps N         for --demo sde: reverse-diffusion steps, the SDEs' N (default 1000)
  --ode-steps N     for --demo sde: probability-flow ODE Euler steps (default 500)
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

function writeImage(name: string, truth: Float32Array, panels: Float32Array[], columns: number): string {
  const image = tilePanels(
    [scatterPanel(truth, { color: [180, 30, 30] }), ...panels.map((p) => scatterPanel(p))],
    8,
    columns,
  );
  const outDir = resolve(values.out!);
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, name);
  writeFileSync(file, encodePng(image.width, image.height, image.rgba));
  return file;
}

await useCpuBackend();
const samples = positiveInt('samples', values.samples)!;
const seed = Number(values.seed);
// Reference level: the energy distance between two independent samples of the mixture itself.
const noiseFloor = (truth: Float32Array) =>
  energyDistance(
    Float32Array.from(demoMixture.sample(samples, createRng(seed + 1)).x),
    truth,
    samples,
    samples,
    2,
  );
const m = demoMixture.mean();
console.log(`Data: 3-component Gaussian mixture in 2-D, mean (${m.map((v) => v.toFixed(3)).join(', ')}).`);

if (values.demo === 'samplers') {
  const sde = values.sde as 'VP' | 'sub-VP' | 'VE';
  if (!['VP', 'sub-VP', 'VE'].includes(sde)) {
    console.error(`--sde: expected VP, sub-VP or VE, got ${values.sde}`);
    process.exit(2);
  }
  const { truth, results } = await runSamplersDemo({ samples, sde, seed });
  console.log(
    `Energy distance between two independent samples of the data (the noise floor): ${noiseFloor(truth).toFixed(4)}\n`,
  );
  console.log(`${sde} SDE   sampler                            NFE   energy dist.   seconds`);
  results.forEach((r, i) => {
    console.log(
      `panel ${String(i + 2).padStart(2)}  ${r.sampler.padEnd(33)}${String(r.nfe).padStart(5)}${r.energy.toFixed(4).padStart(15)}${r.seconds.toFixed(1).padStart(10)}`,
    );
  });
  const file = writeImage(
    'samplers-demo.png',
    truth,
    results.map((r) => r.samples),
    4,
  );
  console.log(`\nWrote ${file}: panel 1 (red) is the true mixture; the others follow the table, 4 per row.`);
} else if (values.demo === 'sde') {
  const { truth, results } = runSdeDemo({
    samples,
    steps: positiveInt('steps', values.steps),
    odeSteps: positiveInt('ode-steps', values['ode-steps']),
    seed,
  });
  console.log(
    `Energy distance between two independent samples of the data (the noise floor): ${noiseFloor(truth).toFixed(4)}\n`,
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
  const file = writeImage(
    'sde-demo.png',
    truth,
    results.map((r) => r.samples),
    results.length + 1,
  );
  console.log(
    `\nWrote ${file}: panels left to right are the data (red), then ${results.map((r) => `${r.sde} ${r.sampler}`).join(', ')}.`,
  );
} else {
  console.error(`--demo: expected 'samplers' or 'sde', got ${values.demo}`);
  process.exit(2);
}
