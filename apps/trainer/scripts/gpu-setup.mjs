#!/usr/bin/env node
// `pnpm gpu:setup`: on a Linux x64 GPU box with Node 20, runs the install script of
// @tensorflow/tfjs-node-gpu that pnpm skipped (libtensorflow 2.9.1 + the native addon), then the
// doctor. The logic lives in src/doctor/gpu-setup-plan.ts (tested); this file only executes it,
// from the built dist/ (the root script builds @sbm/trainer first).
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

let plan;
let doctor;
try {
  plan = await import('../dist/doctor/gpu-setup-plan.js');
  doctor = await import('../dist/doctor/doctor.js');
} catch (err) {
  console.error(
    `gpu:setup: apps/trainer is not built (${err.message}).\n` +
      'Run it as `pnpm gpu:setup` from the repository root, which builds @sbm/trainer first.',
  );
  process.exit(1);
}

let args;
try {
  args = plan.parseGpuSetupArgs(process.argv.slice(2));
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
if (args.help) {
  console.log(plan.gpuSetupUsage);
  process.exit(0);
}

const setup = plan.planGpuSetup({
  platform: process.platform,
  arch: process.arch,
  nodeVersion: process.version,
  repoRoot,
  nodePath: process.execPath,
  npmExecPath: process.env.npm_execpath,
});
if (!setup.ok) {
  console.error(setup.error);
  process.exit(1);
}

if (!args.doctorOnly) {
  for (const note of setup.notes) console.log(`note: ${note}`);
  for (const step of setup.steps) {
    console.log(`\n> ${step.description}\n$ ${[step.command, ...step.args].join(' ')}  (in ${step.cwd})`);
    if (args.dryRun) continue;
    const r = spawnSync(step.command, step.args, { cwd: step.cwd, stdio: 'inherit' });
    if (r.error !== undefined || r.status !== 0) {
      console.error(
        `\ngpu:setup: the step failed (${r.error?.message ?? `exit code ${r.status}`}). ` +
          'The doctor below says what is missing.',
      );
      process.exitCode = 1;
      break;
    }
  }
}

console.log('');
const report = await doctor.runDoctor();
console.log(doctor.formatDoctorReport(report));
if (!report.gpuReady) process.exitCode = 1;
