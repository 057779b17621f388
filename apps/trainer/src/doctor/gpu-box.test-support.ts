/**
 * Tool output of GPU boxes, in the exact formats the doctor parses, for the scenario tests:
 * `ldconfig -p` (glibc's format: a count line, then `\t<soname> (<flags>) => <path>`), nvidia-smi's
 * `--format=csv,noheader` answers and error texts, and `/proc/<pid>/maps` lines. The library
 * locations are those NVIDIA's packages use (CUDA deb/runfile: /usr/local/cuda-11.2/targets/
 * x86_64-linux/lib; the libcudnn8 deb and the driver: /usr/lib/x86_64-linux-gnu, with the 32-bit
 * driver library under /usr/lib/i386-linux-gnu on multiarch systems).
 */

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Exec, ExecResult } from './doctor.js';

const cuda = '/usr/local/cuda-11.2/targets/x86_64-linux/lib';
const gnu = '/usr/lib/x86_64-linux-gnu';

/** Cache lines of the CUDA 11.2 toolkit libraries (real file names of CUDA 11.2.2). */
export const ldconfigCuda112 = [
  `\tlibcusparse.so.11 (libc6,x86-64) => ${cuda}/libcusparse.so.11`,
  `\tlibcusolver.so.11 (libc6,x86-64) => ${cuda}/libcusolver.so.11`,
  `\tlibcurand.so.10 (libc6,x86-64) => ${cuda}/libcurand.so.10`,
  `\tlibcufft.so.10 (libc6,x86-64) => ${cuda}/libcufft.so.10`,
  `\tlibcudart.so.11.0 (libc6,x86-64) => ${cuda}/libcudart.so.11.0`,
  `\tlibcublasLt.so.11 (libc6,x86-64) => ${cuda}/libcublasLt.so.11`,
  `\tlibcublas.so.11 (libc6,x86-64) => ${cuda}/libcublas.so.11`,
];

/** Cache lines of cuDNN 8.1.1 for CUDA 11.2 (the libcudnn8 deb). */
export const ldconfigCudnn8 = [
  `\tlibcudnn_ops_train.so.8 (libc6,x86-64) => ${gnu}/libcudnn_ops_train.so.8`,
  `\tlibcudnn_ops_infer.so.8 (libc6,x86-64) => ${gnu}/libcudnn_ops_infer.so.8`,
  `\tlibcudnn_cnn_train.so.8 (libc6,x86-64) => ${gnu}/libcudnn_cnn_train.so.8`,
  `\tlibcudnn_cnn_infer.so.8 (libc6,x86-64) => ${gnu}/libcudnn_cnn_infer.so.8`,
  `\tlibcudnn.so.8 (libc6,x86-64) => ${gnu}/libcudnn.so.8`,
];

/** Cache lines of the NVIDIA driver (64- and 32-bit libcuda) and ordinary system libraries. */
export const ldconfigBase = [
  `\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1`,
  `\tlibnvidia-ptxjitcompiler.so.1 (libc6,x86-64) => ${gnu}/libnvidia-ptxjitcompiler.so.1`,
  `\tlibnvidia-ml.so.1 (libc6,x86-64) => ${gnu}/libnvidia-ml.so.1`,
  `\tlibm.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libm.so.6`,
  `\tlibcuda.so.1 (libc6,x86-64) => ${gnu}/libcuda.so.1`,
  '\tlibcuda.so.1 (libc6) => /usr/lib/i386-linux-gnu/libcuda.so.1',
  `\tlibc.so.6 (libc6,x86-64, OS ABI: Linux 3.2.0) => /lib/x86_64-linux-gnu/libc.so.6`,
];

/** A whole `ldconfig -p` answer made of the given entry lines. */
export function ldconfigText(...groups: string[][]): string {
  const lines = groups.flat();
  return `${lines.length} libs found in cache \`/etc/ld.so.cache'\n${lines.join('\n')}\n`;
}

/** `nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader` answers. */
export const nvidiaSmi = {
  rtx3090: 'NVIDIA GeForce RTX 3090, 535.154.05, 8.6\n',
  h100: 'NVIDIA H100 80GB HBM3, 550.54.15, 9.0\n',
  twoT4: 'Tesla T4, 470.57.02, 7.5\nTesla T4, 470.57.02, 7.5\n',
  v100: 'Tesla V100-SXM2-16GB, 535.104.05, 7.0\n',
  /** What an older nvidia-smi prints for the `compute_cap` field (exit code 2). */
  noComputeCapField: 'Field "compute_cap" is not a valid field to query.\n',
  /** The two-column legacy answer for that driver. */
  legacyK80: 'Tesla K80, 460.32.03\n',
  /** Driver installed but its kernel module not loaded (exit code 9). */
  driverNotLoaded:
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n",
};

/** A `/proc/<pid>/maps` line for a file mapping. */
export function mapsLine(path: string, start = 0x7f1c2a400000): string {
  const s = start.toString(16);
  const e = (start + 0x6a000).toString(16);
  return `${s}-${e} r-xp 00000000 103:02 1311234                   ${path}`;
}

/** The files a process using libtensorflow 2.9.1 on a GPU maps: the real files behind each soname. */
export const mappedCudaFiles = {
  driver: `${gnu}/libcuda.so.535.154.05`,
  cudart: `${cuda}/libcudart.so.11.2.152`,
  cublas: `${cuda}/libcublas.so.11.4.1.1043`,
  cublasLt: `${cuda}/libcublasLt.so.11.4.1.1043`,
  cufft: `${cuda}/libcufft.so.10.4.1.152`,
  curand: `${cuda}/libcurand.so.10.2.3.152`,
  cusolver: `${cuda}/libcusolver.so.11.1.0.152`,
  cusparse: `${cuda}/libcusparse.so.11.4.1.1152`,
  cudnn: `${gnu}/libcudnn.so.8.1.1`,
};

/** A fake {@link Exec} answering from a table keyed by `file args…`; anything else is "not found". */
export function fakeExec(table: Record<string, Partial<ExecResult>>): Exec {
  return async (file, args) => {
    const hit = table[[file, ...args].join(' ')];
    if (hit === undefined) return { code: null, stdout: '', stderr: '', notFound: true };
    return { code: 0, stdout: '', stderr: '', notFound: false, ...hit };
  };
}

/**
 * A copy of the installed `@tensorflow/tfjs-node-gpu` layout in a temporary directory: its real
 * package.json, plus what its install script creates (`lib/napi-v<N>/tfjs_binding.node`,
 * `deps/lib/libtensorflow*.so.2.9.1`) as empty files.
 */
export function tfjsNodeGpuLayout(options: { addonNapi?: number[]; libtensorflow?: boolean } = {}): string {
  const real = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-node-gpu/package.json'));
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-node-gpu-'));
  writeFileSync(join(dir, 'package.json'), readFileSync(join(real, 'package.json')));
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist/index.js'), readFileSync(join(real, 'dist/index.js')));
  for (const n of options.addonNapi ?? []) {
    mkdirSync(join(dir, `lib/napi-v${n}`), { recursive: true });
    writeFileSync(join(dir, `lib/napi-v${n}/tfjs_binding.node`), '');
  }
  if (options.libtensorflow === true) {
    mkdirSync(join(dir, 'deps/lib'), { recursive: true });
    for (const f of ['libtensorflow.so.2.9.1', 'libtensorflow_framework.so.2.9.1']) {
      writeFileSync(join(dir, 'deps/lib', f), '');
    }
  }
  return dir;
}

/** A temporary directory holding empty files with the given names (a library directory). */
export function libraryDirectory(names: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'cuda-lib-'));
  for (const n of names) writeFileSync(join(dir, n), '');
  return dir;
}
