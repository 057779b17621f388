#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { backendBench } from './backend-bench.js';
import { guidanceBench } from './guidance-bench.js';
import { lossesBench } from './losses-bench.js';
import { metricsBench } from './metrics-bench.js';
import { mnistDemoBench } from './mnist-demo-bench.js';
import { samplersBench } from './samplers-bench.js';
import { sdeBench } from './sde-bench.js';
import { trainerBench } from './trainer-bench.js';
import { unetBench } from './unet-bench.js';

const benches: Record<string, (outDir: string) => Promise<string>> = {
  backend: backendBench,
  sde: sdeBench,
  samplers: samplersBench,
  losses: lossesBench,
  unet: unetBench,
  trainer: trainerBench,
  'mnist-demo': mnistDemoBench,
  metrics: metricsBench,
  guidance: guidanceBench,
};

const names = process.argv.slice(2);
if (names.length === 0 || names.some((n) => !(n in benches))) {
  console.error(`usage: pnpm bench <${Object.keys(benches).join('|')}> ...`);
  process.exit(2);
}
await useCpuBackend();
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
for (const name of names) {
  const body = await benches[name]!(outDir);
  const header = [
    `# Benchmark: ${name}`,
    '',
    `Reproduce with \`pnpm bench ${name}\`. Machine: ${cpus().length}× ${cpus()[0]?.model ?? 'unknown CPU'}, ${platform()} ${arch()}, Node ${process.version}, tfjs ${tf.version_core}.`,
    '',
  ].join('\n');
  const file = join(outDir, `${name}.md`);
  writeFileSync(file, `${header}${body}\n`);
  console.log(`${header}${body}\n\nWrote ${file}`);
}
