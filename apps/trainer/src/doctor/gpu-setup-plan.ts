/**
 * The plan of `pnpm gpu:setup` (`apps/trainer/scripts/gpu-setup.mjs`): on a Linux x64 GPU box
 * with Node 20, run the install script of `@tensorflow/tfjs-node-gpu` that pnpm skipped, then the
 * doctor. The script itself only executes this plan.
 *
 * pnpm 10 runs a dependency's install script only if the package may build: `onlyBuiltDependencies`
 * in pnpm-workspace.yaml (this repository lists `@tensorflow/tfjs-node-gpu` in
 * `ignoredBuiltDependencies` instead). `pnpm rebuild <pkg>` follows the same rule and silently does
 * nothing for a package that may not build, and `--config.onlyBuiltDependencies[]=…` on the command
 * line does not change that; `--config.dangerouslyAllowAllBuilds=true` does, and together with
 * naming one package it runs that package's script only (not its dependencies'), without editing
 * pnpm-workspace.yaml. The package is a dependency of `@sbm/trainer`, not of the root, so the
 * command needs `--filter @sbm/trainer`; at the root it rebuilds nothing, also silently. (Checked
 * with pnpm 10.34.9 on a throw-away workspace.)
 *
 * @module
 */

import { assessNodeForGpu, minimumNode20, supportedNodeMajor } from './node-support.js';
import { tfjsNodeGpuPackage } from './tfjs-node-gpu-install.js';

/** Where and how the setup runs. */
export interface GpuSetupEnvironment {
  /** `process.platform`. */
  platform: string;
  /** `process.arch`. */
  arch: string;
  /** `process.version`. */
  nodeVersion: string;
  /** The repository root (where pnpm-workspace.yaml is). */
  repoRoot: string;
  /** `process.execPath`. */
  nodePath?: string;
  /** `npm_execpath` when run through `pnpm gpu:setup` (pnpm's own script): pnpm is then run with this Node. */
  npmExecPath?: string | undefined;
}

/** One command of the plan. */
export interface GpuSetupStep {
  description: string;
  command: string;
  args: string[];
  cwd: string;
}

/** The plan, or why there is none. */
export type GpuSetupPlan =
  | { ok: true; steps: GpuSetupStep[]; notes: string[] }
  | { ok: false; error: string };

/** Options of the script. */
export interface GpuSetupArgs {
  /** Print the plan and run the doctor, without running the install script. */
  dryRun: boolean;
  /** Skip the install script (it already ran) and only run the doctor. */
  doctorOnly: boolean;
  help: boolean;
}

/** The script's usage text. */
export const gpuSetupUsage = `Usage: pnpm gpu:setup [--dry-run] [--doctor-only]

Runs the install script of ${tfjsNodeGpuPackage} that pnpm skipped (downloads libtensorflow 2.9.1
for CUDA 11.2 and the native addon), then \`sbm doctor\`. Linux x64 and Node 20 only.

  --dry-run      print what would run, run only the doctor
  --doctor-only  skip the install script, run the doctor
  --help         this text`;

/** Parses the script's arguments; unknown ones throw with the usage. */
export function parseGpuSetupArgs(argv: readonly string[]): GpuSetupArgs {
  const args: GpuSetupArgs = { dryRun: false, doctorOnly: false, help: false };
  for (const a of argv) {
    if (a === '--dry-run') args.dryRun = true;
    else if (a === '--doctor-only') args.doctorOnly = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a === '--') continue;
    else throw new Error(`gpu:setup: unknown argument ${JSON.stringify(a)}\n\n${gpuSetupUsage}`);
  }
  return args;
}

function pnpmCommand(env: GpuSetupEnvironment): { command: string; prefix: string[] } {
  const exec = env.npmExecPath;
  if (exec !== undefined && /pnpm(\.c?js)?$/.test(exec) && /\.c?js$/.test(exec)) {
    return { command: env.nodePath ?? 'node', prefix: [exec] };
  }
  return { command: 'pnpm', prefix: [] };
}

/**
 * Plans the setup, or refuses: only Linux x64 has a CUDA build of libtensorflow that this
 * repository supports, and only Node 20 (≥ 20.11) is accepted (see `node-support.ts` for what
 * goes wrong on Node 22 and 23+).
 */
export function planGpuSetup(env: GpuSetupEnvironment): GpuSetupPlan {
  if (env.platform !== 'linux' || env.arch !== 'x64') {
    return {
      ok: false,
      error:
        `gpu:setup: GPU training needs Linux x64 (this is ${env.platform} ${env.arch}). ${tfjsNodeGpuPackage} 4.22.0 ` +
        'downloads a CUDA build of libtensorflow only for linux-x86_64 (and Windows, which this repository does not ' +
        'support). Training still works here on the wasm or cpu backend.',
    };
  }
  const major = Number(env.nodeVersion.replace(/^v/, '').split('.')[0]);
  const node = assessNodeForGpu(env.nodeVersion);
  if (major !== supportedNodeMajor || node.status !== 'ok') {
    return {
      ok: false,
      error: `gpu:setup: Node ${supportedNodeMajor} (≥ ${minimumNode20}) is required. ${node.detail}. Fix: ${node.fix ?? ''}`,
    };
  }
  const pnpm = pnpmCommand(env);
  return {
    ok: true,
    steps: [
      {
        description: `run the install script of ${tfjsNodeGpuPackage} (node scripts/install.js gpu download)`,
        command: pnpm.command,
        args: [
          ...pnpm.prefix,
          '--filter',
          '@sbm/trainer',
          '--config.dangerouslyAllowAllBuilds=true',
          'rebuild',
          tfjsNodeGpuPackage,
        ],
        cwd: env.repoRoot,
      },
    ],
    notes: [
      'downloads libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz from storage.googleapis.com (several hundred MB; ' +
        'TFJS_NODE_CDN_STORAGE or TFJS_NODE_BASE_URI point it at a mirror)',
      'node-pre-gyp then fetches the prebuilt addon (napi-v8) or, failing that, compiles it: that needs python3, make and g++',
      'pnpm rebuild exits 0 even when it built nothing; the doctor that follows checks the result',
    ],
  };
}
