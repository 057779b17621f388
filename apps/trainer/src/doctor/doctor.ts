/**
 * `sbm doctor`: can this machine train on an NVIDIA GPU with `@tensorflow/tfjs-node-gpu`, and if
 * not, what exactly is missing and how to fix it. Runs `nvidia-smi` and `ldconfig -p`, reads
 * `LD_LIBRARY_PATH` and the tfjs-node-gpu package's files, and asks `@sbm/backend` which backend it
 * would pick (and, when that is `tensorflow-gpu`, whether TensorFlow registered a GPU device).
 *
 * @module
 */

import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { type BackendSelection, selectBackend } from '@sbm/backend';
import { assessGpuUse, type GpuUseVerdict, readProcSelfMaps } from './gpu-fallback.js';
import {
  type Assessment,
  assessComputeCapability,
  assessDriverVersion,
  type CheckStatus,
  cuda112MinimumDriver,
  cudaDriverLibrary,
  type GpuInfo,
  type LibraryLocation,
  libtensorflowVersion,
  locateCudaLibraries,
  needsPtxJit,
  nvidiaSmiLegacyQueryArgs,
  nvidiaSmiQueryArgs,
  parseLdconfigCache,
  parseNvidiaSmiCsv,
  requiredCudaLibraries,
} from './gpu-probe.js';
import { assessNodeForGpu } from './node-support.js';
import {
  assessAddon,
  assessLibtensorflow,
  type FileProbe,
  inspectTfjsNodeGpu,
  tfjsNodeGpuPackage,
  tfjsNodeGpuVersion,
} from './tfjs-node-gpu-install.js';

/** The outcome of running a command. */
export interface ExecResult {
  /** Exit code (`null` if killed). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The command does not exist (ENOENT). */
  notFound: boolean;
}

/** Runs a command without a shell. */
export type Exec = (file: string, args: readonly string[]) => Promise<ExecResult>;

/** What the doctor found about the backend `@sbm/backend` would pick. */
export interface BackendFinding {
  /** `selectBackend`'s answer, when one backend loads. */
  selection?: BackendSelection;
  /** Why no backend loads at all. */
  error?: string;
  /** For `tensorflow-gpu`: whether TensorFlow registered a GPU device ({@link assessGpuUse}). */
  gpu?: GpuUseVerdict;
}

/** Where the doctor looks; every field defaults to this machine. */
export interface DoctorOptions {
  /** Runs `nvidia-smi` and `ldconfig` (default: `child_process.execFile`, 15 s timeout). */
  exec?: Exec;
  /** Environment (default `process.env`): `LD_LIBRARY_PATH`, `CUDA_VISIBLE_DEVICES`, `CUDA_CACHE_MAXSIZE`. */
  env?: Record<string, string | undefined>;
  /** File access (default: `node:fs`). */
  fs?: FileProbe;
  /** Platform, architecture, Node and N-API versions (default: `process`). */
  runtime?: { platform: string; arch: string; nodeVersion: string; napiVersion: number };
  /** The directory of `@tensorflow/tfjs-node-gpu`, `null` if not installed (default: resolved from @sbm/trainer). */
  tfjsNodeGpuDir?: string | null;
  /**
   * Directories where CUDA is often installed but not on the linker's path (default:
   * `/usr/local/cuda*` `lib64` directories), to say "found in X; add it to LD_LIBRARY_PATH".
   */
  cudaInstallDirs?: string[];
  /** Probes the backend (default: `selectBackend` importing from @sbm/trainer, then {@link assessGpuUse}). */
  probeBackend?: () => Promise<BackendFinding>;
}

/** One line of the report. */
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** The exact fix, when something is to be done. */
  fix?: string;
}

/** The report of {@link runDoctor}. */
export interface DoctorReport {
  checks: DoctorCheck[];
  /** Whether GPU training works: nothing is missing and TensorFlow registered a GPU device. */
  gpuReady: boolean;
  /** The backend training will use (`tensorflow-gpu`, `wasm`, …), if any loads. */
  backendChoice: string | undefined;
  /** One closing sentence. */
  summary: string;
}

const defaultExec: Exec = (file, args) =>
  new Promise((resolve) => {
    execFile(file, [...args], { timeout: 15_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: unknown }) | null;
      resolve({
        code: e === null ? 0 : typeof e.code === 'number' ? e.code : null,
        stdout: String(stdout),
        stderr: String(stderr),
        notFound: e?.code === 'ENOENT',
      });
    });
  });

/** {@link FileProbe} over `node:fs`. */
export const nodeFileProbe: FileProbe = {
  exists: (p) => existsSync(p),
  listDirectory: (p) => {
    try {
      return readdirSync(p);
    } catch {
      return undefined;
    }
  },
  readText: (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
};

function resolveTfjsNodeGpuDir(): string | null {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${tfjsNodeGpuPackage}/package.json`));
  } catch {
    return null;
  }
}

/** `import()` from this package, so that the trainer's own (optional) dependencies are found. */
const importFromTrainer = (specifier: string): Promise<unknown> => import(specifier);

async function defaultProbeBackend(env: Record<string, string | undefined>): Promise<BackendFinding> {
  let selection: BackendSelection;
  try {
    selection = await selectBackend({ importModule: importFromTrainer });
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
  if (selection.choice !== 'tensorflow-gpu') return { selection };
  const tf = await import('@tensorflow/tfjs-core');
  return {
    selection,
    gpu: assessGpuUse({
      backendName: 'tensorflow',
      backend: tf.findBackend('tensorflow'),
      procMaps: readProcSelfMaps(),
      cudaVisibleDevices: env.CUDA_VISIBLE_DEVICES,
    }),
  };
}

async function runLdconfig(exec: Exec): Promise<{ text: string; ran: boolean }> {
  // Debian puts ldconfig in /sbin, which is not on a normal user's PATH.
  for (const file of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    const r = await exec(file, ['-p']);
    if (!r.notFound && r.code === 0) return { text: r.stdout, ran: true };
  }
  return { text: '', ran: false };
}

type GpuQuery =
  | { kind: 'gpus'; gpus: GpuInfo[] }
  | { kind: 'no-nvidia-smi' }
  | { kind: 'failed'; message: string };

async function queryGpus(exec: Exec): Promise<GpuQuery> {
  let r = await exec('nvidia-smi', nvidiaSmiQueryArgs);
  if (r.notFound) return { kind: 'no-nvidia-smi' };
  if (r.code !== 0 && /compute_cap/.test(r.stdout + r.stderr))
    r = await exec('nvidia-smi', nvidiaSmiLegacyQueryArgs);
  if (r.code !== 0) {
    const first =
      `${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? `exit code ${r.code}`;
    return { kind: 'failed', message: first.trim() };
  }
  return { kind: 'gpus', gpus: parseNvidiaSmiCsv(r.stdout) };
}

function defaultCudaInstallDirs(fs: FileProbe): string[] {
  const versions = (fs.listDirectory('/usr/local') ?? [])
    .filter((d) => /^cuda(-\d+(\.\d+)?)?$/.test(d))
    .sort();
  return versions.flatMap((d) => [
    `/usr/local/${d}/lib64`,
    `/usr/local/${d}/lib`,
    `/usr/local/${d}/targets/x86_64-linux/lib`,
  ]);
}

const driverFix =
  `install the NVIDIA driver, ${cuda112MinimumDriver} or newer (Ubuntu: \`sudo ubuntu-drivers install\`; Debian: ` +
  "`sudo apt install nvidia-driver` from non-free; or NVIDIA's .run installer), reboot, and check that `nvidia-smi` lists the GPU";

const cudaFix =
  "install the CUDA 11.2 libraries: from NVIDIA's CUDA apt repository `sudo apt install cuda-libraries-11-2`, or the " +
  'runfile `sudo sh cuda_11.2.2_460.32.03_linux.run --toolkit --silent` (https://developer.nvidia.com/cuda-11-2-2-download-archive); ' +
  'then `export LD_LIBRARY_PATH=/usr/local/cuda-11.2/lib64:$LD_LIBRARY_PATH` (or list that directory in /etc/ld.so.conf.d/cuda.conf and run `sudo ldconfig`)';

const cudnnFix =
  "install cuDNN 8.1 for CUDA 11.2: from NVIDIA's CUDA apt repository `sudo apt install libcudnn8=8.1.1.33-1+cuda11.2`, or " +
  'the archive cudnn-11.2-linux-x64-v8.1.1.33.tgz (https://developer.nvidia.com/rdp/cudnn-archive) with its lib64/ copied ' +
  'into /usr/local/cuda-11.2/lib64 and `sudo ldconfig`';

function libraryCheck(
  name: string,
  locations: LibraryLocation[],
  installed: Map<string, string>,
  fix: string,
): DoctorCheck {
  const absent = locations.filter((l) => l.path === undefined);
  if (absent.length === 0) {
    return {
      name,
      status: 'ok',
      detail: locations.map((l) => `${l.library.soname} → ${l.path} (${l.via})`).join('\n'),
    };
  }
  const lines = absent.map((l) => {
    const other = l.otherVersions.length > 0 ? `; present instead: ${l.otherVersions.join(', ')}` : '';
    return `${l.library.soname} (${l.library.component}) not found${other}`;
  });
  const offPath = [
    ...new Set(absent.map((l) => installed.get(l.library.soname)).filter((d) => d !== undefined)),
  ];
  const hint =
    offPath.length > 0
      ? `export LD_LIBRARY_PATH=${offPath.join(':')}:$LD_LIBRARY_PATH (the libraries are in ${offPath.join(', ')}, which the dynamic linker does not search)`
      : fix;
  return {
    name,
    status: 'missing',
    detail: `${lines.join('\n')}\n(libtensorflow ${libtensorflowVersion} then skips the GPU and runs on the CPU)`,
    fix: hint,
  };
}

function backendCheck(finding: BackendFinding): DoctorCheck {
  if (finding.selection === undefined) {
    return {
      name: 'backend',
      status: 'missing',
      detail: `no TensorFlow.js backend loads: ${finding.error ?? 'unknown error'}`,
      fix: 'run `pnpm install` (the wasm and cpu backends are dependencies of @sbm/trainer)',
    };
  }
  const { choice, candidates } = finding.selection;
  const passedOver = candidates
    .filter((c) => !c.available)
    .map((c) => `  passed over ${c.choice}: ${c.reason.replace(/\s*\n\s*/g, ' ').trim()}`)
    .join('\n');
  if (choice === 'tensorflow-gpu') {
    if (finding.gpu?.kind === 'gpu') {
      return { name: 'backend', status: 'ok', detail: `tensorflow-gpu: ${finding.gpu.message}` };
    }
    const reasons =
      finding.gpu !== undefined && 'reasons' in finding.gpu ? finding.gpu.reasons.join('; ') : '';
    return {
      name: 'backend',
      status: 'missing',
      detail:
        `tensorflow-gpu loads, but ${finding.gpu?.message ?? 'no GPU device was found'}` +
        (reasons ? `: ${reasons}` : '') +
        '\n`sbm train` refuses to run like this unless --allow-cpu-fallback',
      fix: 'fix the missing CUDA/cuDNN/driver items above',
    };
  }
  return {
    name: 'backend',
    status: 'warn',
    detail: `@sbm/backend picks ${choice}: training will use ${choice} on the CPU, not the GPU${passedOver ? `\n${passedOver}` : ''}`,
  };
}

/**
 * Checks everything GPU training needs and returns a structured report: platform, Node and
 * N-API, NVIDIA driver and GPUs, the CUDA 11.2 and cuDNN 8 libraries, the tfjs-node-gpu package,
 * its native addon and libtensorflow, and the backend `@sbm/backend` picks. Never throws for a
 * missing piece; each check says what is missing and the exact fix.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorReport> {
  const exec = options.exec ?? defaultExec;
  const env = options.env ?? process.env;
  const fs = options.fs ?? nodeFileProbe;
  const rt = options.runtime ?? {
    platform: process.platform,
    arch: process.arch,
    nodeVersion: process.version,
    napiVersion: Number(process.versions.napi),
  };
  const checks: DoctorCheck[] = [];
  const add = (name: string, a: Assessment) => checks.push({ name, ...a });

  add(
    'platform',
    rt.platform === 'linux' && rt.arch === 'x64'
      ? { status: 'ok', detail: `${rt.platform} ${rt.arch}` }
      : {
          status: 'missing',
          detail: `${rt.platform} ${rt.arch}: ${tfjsNodeGpuPackage} has a CUDA build of libtensorflow for Linux x64 only (here)`,
          fix: 'train on a Linux x64 machine with an NVIDIA GPU, or use the wasm/cpu backends here',
        },
  );
  const node = assessNodeForGpu(rt.nodeVersion);
  add('node', { ...node, detail: `${node.detail}, N-API ${rt.napiVersion}` });

  // Driver and GPUs.
  const query = await queryGpus(exec);
  const ldconfig = await runLdconfig(exec);
  const cache = parseLdconfigCache(ldconfig.text);
  const hasLibcuda = cache.some((e) => e.soname === cudaDriverLibrary);
  if (query.kind === 'no-nvidia-smi') {
    add('nvidia driver', {
      status: 'missing',
      detail:
        'no NVIDIA GPU / driver found: nvidia-smi is not on PATH' +
        (hasLibcuda
          ? ` (though ${cudaDriverLibrary} is in the linker cache)`
          : ` and ${cudaDriverLibrary} is not installed`),
      fix: driverFix,
    });
  } else if (query.kind === 'failed') {
    add('nvidia driver', {
      status: 'missing',
      detail: `nvidia-smi failed: ${query.message}`,
      fix: driverFix,
    });
  } else if (query.gpus.length === 0) {
    add('nvidia driver', { status: 'missing', detail: 'nvidia-smi lists no GPU', fix: driverFix });
  } else {
    const jit = query.gpus.some((g) => needsPtxJit(g.computeCapability));
    add('nvidia driver', assessDriverVersion(query.gpus[0]!.driverVersion, jit));
  }
  if (query.kind === 'gpus' && query.gpus.length > 0) {
    for (const gpu of query.gpus) add(`gpu ${gpu.index}`, assessComputeCapability(gpu, env));
  } else {
    add('gpu', { status: 'missing', detail: 'no NVIDIA GPU found' });
  }

  // CUDA 11.2 and cuDNN 8.
  const locations = locateCudaLibraries({
    ldconfig: cache,
    ldLibraryPath: env.LD_LIBRARY_PATH,
    listDirectory: fs.listDirectory,
    arch: rt.arch,
  });
  const installed = new Map<string, string>();
  for (const dir of options.cudaInstallDirs ?? defaultCudaInstallDirs(fs)) {
    for (const f of fs.listDirectory(dir) ?? []) {
      if (requiredCudaLibraries.some((l) => l.soname === f) && !installed.has(f)) installed.set(f, dir);
    }
  }
  const ldconfigNote = ldconfig.ran ? '' : '\n(ldconfig could not be run: only LD_LIBRARY_PATH was searched)';
  for (const [name, group, fix] of [
    ['cuda 11.2', 'cuda', cudaFix],
    ['cudnn 8', 'cudnn', cudnnFix],
  ] as const) {
    const check = libraryCheck(
      name,
      locations.filter((l) => l.library.group === group),
      installed,
      fix,
    );
    if (check.status !== 'ok') check.detail += ldconfigNote;
    checks.push(check);
  }

  // The package, its addon and libtensorflow.
  const dir = options.tfjsNodeGpuDir === undefined ? resolveTfjsNodeGpuDir() : options.tfjsNodeGpuDir;
  if (dir === null) {
    add('tfjs-node-gpu', {
      status: 'missing',
      detail: `${tfjsNodeGpuPackage} is not installed`,
      fix: `run \`pnpm install\` (${tfjsNodeGpuPackage} is an optional dependency of @sbm/trainer)`,
    });
  } else {
    const install = inspectTfjsNodeGpu(dir, fs);
    add(
      'tfjs-node-gpu',
      install.version === tfjsNodeGpuVersion
        ? { status: 'ok', detail: `${tfjsNodeGpuPackage} ${install.version} in ${install.packageDir}` }
        : {
            status: 'warn',
            detail: `${tfjsNodeGpuPackage} ${install.version ?? '(unknown version)'} (this repository pins ${tfjsNodeGpuVersion})`,
            fix: 'run `pnpm install`',
          },
    );
    add('native addon', assessAddon(install, rt.napiVersion));
    add('libtensorflow', assessLibtensorflow(install));
  }

  const finding = await (options.probeBackend ?? (() => defaultProbeBackend(env)))();
  checks.push(backendCheck(finding));

  const choice = finding.selection?.choice;
  const gpuReady = checks.every((c) => c.status !== 'missing') && finding.gpu?.kind === 'gpu';
  const summary = gpuReady
    ? 'GPU training: ready (tensorflow-gpu, TensorFlow registered a GPU device).'
    : `GPU training: not available — ${
        choice === undefined
          ? 'no backend loads.'
          : choice === 'tensorflow-gpu'
            ? 'tensorflow-gpu would run on the CPU; `sbm train` refuses that unless --allow-cpu-fallback.'
            : `training will use the ${choice} backend (CPU).`
      } Fix the items marked "missing", top to bottom.`;
  return { checks, gpuReady, backendChoice: choice, summary };
}

const colors: Record<CheckStatus, string> = { ok: '\u001b[32m', warn: '\u001b[33m', missing: '\u001b[31m' };

/** Options of {@link formatDoctorReport}. */
export interface FormatOptions {
  /** ANSI colors for the status column (default: only when stdout is a TTY and `NO_COLOR` is unset). */
  color?: boolean;
}

/**
 * Renders a report as aligned plain text: one row per check (status, name, detail), continuation
 * lines and `fix:` lines indented under the detail, then the summary.
 */
export function formatDoctorReport(report: DoctorReport, options: FormatOptions = {}): string {
  const color = options.color ?? (process.stdout.isTTY === true && process.env.NO_COLOR === undefined);
  const nameWidth = Math.max(...report.checks.map((c) => c.name.length));
  const statusWidth = 'missing'.length;
  const indent = ' '.repeat(2 + statusWidth + 2 + nameWidth + 2);
  const lines = [
    `sbm doctor — GPU training with ${tfjsNodeGpuPackage} ${tfjsNodeGpuVersion} (libtensorflow ${libtensorflowVersion}, CUDA 11.2, cuDNN 8)`,
    '',
  ];
  for (const c of report.checks) {
    const status = c.status.padEnd(statusWidth);
    const shown = color ? `${colors[c.status]}${status}\u001b[0m` : status;
    const [first = '', ...rest] = c.detail.split('\n');
    lines.push(`  ${shown}  ${c.name.padEnd(nameWidth)}  ${first}`);
    for (const r of rest) lines.push(`${indent}${r}`);
    if (c.fix !== undefined) lines.push(`${indent}fix: ${c.fix}`);
  }
  lines.push('', report.summary);
  return lines.join('\n');
}
