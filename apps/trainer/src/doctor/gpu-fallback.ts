/**
 * Detects the silent CPU fallback of `@tensorflow/tfjs-node-gpu`: when a CUDA library is missing
 * (cuDNN most often, tensorflow/tfjs#8269), libtensorflow logs "Could not load dynamic library …
 * Skipping registering GPU devices" and runs every op on the CPU, while `tf.getBackend()` still
 * says `'tensorflow'`.
 *
 * The signal is the one tfjs-node exposes: its backend (`NodeJSKernelBackend`) sets
 * `isUsingGpuDevice` from the addon's `isUsingGpuDevice()`, which is true when TensorFlow's eager
 * context listed a device of type `GPU` (`binding/tfjs_backend.cc`); `isGPUPackage` says whether it
 * is the CUDA build at all. `/proc/self/maps` (which CUDA libraries the process has mapped) only
 * *explains* a fallback; it never decides one.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
import { cudaDriverLibrary, requiredCudaLibraries } from './gpu-probe.js';

/** The fields of tfjs-node's `NodeJSKernelBackend` this module reads. */
export interface TensorflowBackendLike {
  isGPUPackage?: unknown;
  isUsingGpuDevice?: unknown;
}

/** Whether training runs on a GPU, and if not, why. */
export type GpuUseVerdict =
  | { kind: 'gpu'; message: string }
  | { kind: 'cpu-fallback' | 'cpu-build' | 'not-tensorflow'; message: string; reasons: string[] };

/** Input of {@link assessGpuUse}. */
export interface GpuUseInput {
  /** `tf.getBackend()`. */
  backendName: string;
  /** `tf.backend()` (or `tf.findBackend('tensorflow')`). */
  backend: unknown;
  /** The text of `/proc/self/maps` (Linux), to explain a fallback; see {@link readProcSelfMaps}. */
  procMaps?: string | undefined;
  /** `CUDA_VISIBLE_DEVICES`, which can hide every GPU. */
  cudaVisibleDevices?: string | undefined;
}

/** The file paths mapped into a process, from `/proc/<pid>/maps` text (anonymous and `[heap]`-like regions skipped). */
export function parseMappedFiles(procMaps: string): string[] {
  const files = new Set<string>();
  for (const line of procMaps.split('\n')) {
    // address perms offset dev inode [pathname]
    const m = /^[0-9a-f]+-[0-9a-f]+\s+\S+\s+[0-9a-f]+\s+\S+\s+\d+\s+(\/.*?)(?: \(deleted\))?\s*$/i.exec(line);
    if (m) files.add(m[1]!);
  }
  return [...files];
}

/**
 * Whether a mapped file is the library opened by `soname`: the mapped name is the real file behind
 * the soname link, e.g. `libcudart.so.11.2.152` for `libcudart.so.11.0`, `libcudnn.so.8.1.1` for
 * `libcudnn.so.8`, `libcuda.so.535.154.05` for `libcuda.so.1` (the driver's own version).
 */
export function isMappedLibrary(path: string, soname: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (soname === cudaDriverLibrary) return /^libcuda\.so(\.|$)/.test(base);
  const m = /^(.*\.so)\.(\d+)/.exec(soname);
  if (!m) return base === soname;
  const prefix = `${m[1]}.${m[2]}`;
  return base === prefix || base.startsWith(`${prefix}.`);
}

/** The libraries whose absence from the process explains a CPU fallback (cuDNN's sub-libraries load lazily). */
const explainedLibraries = [
  { soname: cudaDriverLibrary, component: 'NVIDIA driver (CUDA driver API)' },
  ...requiredCudaLibraries.filter((l) => !/^libcudnn_/.test(l.soname)),
];

/** Why the CUDA build runs on the CPU, as far as the environment and the mapped libraries tell. */
export function explainCpuFallback(input: Pick<GpuUseInput, 'procMaps' | 'cudaVisibleDevices'>): string[] {
  const reasons: string[] = [];
  const visible = input.cudaVisibleDevices;
  if (visible !== undefined && /^\s*(|-1|none|NoDevFiles)\s*$/i.test(visible)) {
    reasons.push(`CUDA_VISIBLE_DEVICES=${JSON.stringify(visible)} hides every GPU`);
  }
  if (input.procMaps === undefined) {
    reasons.push('run `sbm doctor` to see which CUDA 11.2 / cuDNN 8 pieces are missing');
    return reasons;
  }
  const mapped = parseMappedFiles(input.procMaps);
  const absent = explainedLibraries.filter((lib) => !mapped.some((p) => isMappedLibrary(p, lib.soname)));
  if (absent.length === 0) {
    reasons.push(
      'all CUDA 11.2 and cuDNN 8 libraries are loaded, yet TensorFlow registered no GPU (a GPU below compute ' +
        'capability 3.5, or none visible); run `sbm doctor`',
    );
  } else if (absent.some((l) => l.soname === cudaDriverLibrary)) {
    reasons.push(`${cudaDriverLibrary} (the NVIDIA driver) is not loaded: no NVIDIA driver found`);
  } else {
    reasons.push(
      `libtensorflow could not load ${absent.map((l) => `${l.soname} (${l.component})`).join(', ')}; ` +
        'run `sbm doctor` for where to get them',
    );
  }
  return reasons;
}

/**
 * Decides whether the active TensorFlow.js backend computes on a GPU, from tfjs-node's own signal
 * (`isGPUPackage`, `isUsingGpuDevice`); when it does not, says why.
 */
export function assessGpuUse(input: GpuUseInput): GpuUseVerdict {
  if (input.backendName !== 'tensorflow') {
    return {
      kind: 'not-tensorflow',
      message: `training runs on the ${input.backendName} backend (CPU), not on a GPU`,
      reasons: ['@tensorflow/tfjs-node-gpu did not load; `sbm doctor` says why'],
    };
  }
  const b = (input.backend ?? {}) as TensorflowBackendLike;
  if (b.isGPUPackage !== true) {
    return {
      kind: 'cpu-build',
      message:
        'the tensorflow backend is @tensorflow/tfjs-node (libtensorflow for the CPU), not the CUDA build',
      reasons: ['install and set up @tensorflow/tfjs-node-gpu (`pnpm gpu:setup`)'],
    };
  }
  if (b.isUsingGpuDevice === true) {
    return { kind: 'gpu', message: 'TensorFlow registered a GPU device: training runs on the GPU' };
  }
  return {
    kind: 'cpu-fallback',
    message:
      '@tensorflow/tfjs-node-gpu loaded, but TensorFlow registered no GPU device and silently runs every op on the CPU',
    reasons: explainCpuFallback(input),
  };
}

/** What `train` does about a verdict. */
export interface GpuFallbackDecision {
  action: 'proceed' | 'warn' | 'refuse';
  message: string;
}

/**
 * The trainer's policy: a run that expects the GPU refuses to start on the CPU unless
 * `allowCpuFallback` (`--allow-cpu-fallback`), in which case it warns loudly.
 */
export function decideGpuFallback(
  verdict: GpuUseVerdict,
  options: { allowCpuFallback?: boolean } = {},
): GpuFallbackDecision {
  if (verdict.kind === 'gpu') return { action: 'proceed', message: verdict.message };
  const why = verdict.reasons.map((r) => `  - ${r}`).join('\n');
  if (options.allowCpuFallback === true) {
    return {
      action: 'warn',
      message: `WARNING: no GPU in use — ${verdict.message}.\n${why}\nContinuing on the CPU because of --allow-cpu-fallback; this is orders of magnitude slower.`,
    };
  }
  return {
    action: 'refuse',
    message: `Refusing to train: no GPU in use — ${verdict.message}.\n${why}\nFix the setup (\`sbm doctor\`), or pass --allow-cpu-fallback to train on the CPU anyway.`,
  };
}

/** The text of `/proc/self/maps`, or `undefined` where there is none (not Linux). */
export function readProcSelfMaps(): string | undefined {
  try {
    return readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return undefined;
  }
}
