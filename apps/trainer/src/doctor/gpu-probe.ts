/**
 * Pure parsers and checks for the CUDA side of a GPU box: what `ldconfig -p`, `LD_LIBRARY_PATH` and
 * `nvidia-smi` say, measured against what libtensorflow 2.9.1 (the library `@tensorflow/tfjs-node-gpu`
 * 4.22.0 downloads) needs. Nothing here runs a command or touches the file system; see `doctor.ts`.
 *
 * Why these libraries: libtensorflow does not link CUDA; it `dlopen`s each library by soname when it
 * looks for GPUs, and when one is missing it logs "Could not load dynamic library …", then "Skipping
 * registering GPU devices" and carries on **on the CPU** (tensorflow/tfjs#8269, tensorflow#56413).
 * TensorFlow 2.9 is built against CUDA 11.2 and cuDNN 8.1, whose sonames are listed in
 * {@link requiredCudaLibraries}.
 *
 * @module
 */

/** Status of one check: fine, works with a caveat, or keeps the GPU from being used. */
export type CheckStatus = 'ok' | 'warn' | 'missing';

/** A library libtensorflow 2.9.1 (GPU) loads with `dlopen`. */
export interface CudaLibrary {
  /** The exact name it is opened by. */
  soname: string;
  /** What it is, for messages. */
  component: string;
  /** `cuda`: the CUDA 11.2 toolkit libraries; `cudnn`: cuDNN 8. */
  group: 'cuda' | 'cudnn';
}

/** The version of libtensorflow that `@tensorflow/tfjs-node-gpu` 4.22.0 downloads (its `deps-constants.js`). */
export const libtensorflowVersion = '2.9.1';

/**
 * The libraries TensorFlow 2.9's stream executor opens on Linux, by soname (CUDA 11.x keeps these
 * sonames from 11.1 on: the runtime stays `libcudart.so.11.0`, cuFFT/cuRAND are `.so.10`), then
 * cuDNN 8 and the cuDNN 8 sub-libraries `libcudnn.so.8` itself loads for training convolutions.
 */
export const requiredCudaLibraries: readonly CudaLibrary[] = [
  { soname: 'libcudart.so.11.0', component: 'CUDA runtime', group: 'cuda' },
  { soname: 'libcublas.so.11', component: 'cuBLAS', group: 'cuda' },
  { soname: 'libcublasLt.so.11', component: 'cuBLASLt', group: 'cuda' },
  { soname: 'libcufft.so.10', component: 'cuFFT', group: 'cuda' },
  { soname: 'libcurand.so.10', component: 'cuRAND', group: 'cuda' },
  { soname: 'libcusolver.so.11', component: 'cuSOLVER', group: 'cuda' },
  { soname: 'libcusparse.so.11', component: 'cuSPARSE', group: 'cuda' },
  { soname: 'libcudnn.so.8', component: 'cuDNN 8', group: 'cudnn' },
  { soname: 'libcudnn_ops_infer.so.8', component: 'cuDNN 8 ops, inference', group: 'cudnn' },
  { soname: 'libcudnn_ops_train.so.8', component: 'cuDNN 8 ops, training', group: 'cudnn' },
  { soname: 'libcudnn_cnn_infer.so.8', component: 'cuDNN 8 convolutions, inference', group: 'cudnn' },
  { soname: 'libcudnn_cnn_train.so.8', component: 'cuDNN 8 convolutions, training', group: 'cudnn' },
];

/** The CUDA driver API library, installed with the NVIDIA driver (not with the toolkit). */
export const cudaDriverLibrary = 'libcuda.so.1';

/** One line of `ldconfig -p`: `\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1`. */
export interface LdconfigEntry {
  soname: string;
  /** The parenthesized flags, e.g. `libc6,x86-64` or `libc6,x86-64, OS ABI: Linux 3.2.0`. */
  flags: string;
  path: string;
}

const ldconfigLine = /^\s+(\S+)\s+\(([^)]*)\)\s+=>\s+(\S.*?)\s*$/;

/**
 * Parses the text of `ldconfig -p` (the dynamic linker's cache). The header line
 * (`536 libs found in cache '/etc/ld.so.cache'`) and anything that is not an entry are skipped.
 */
export function parseLdconfigCache(text: string): LdconfigEntry[] {
  const entries: LdconfigEntry[] = [];
  for (const line of text.split('\n')) {
    const m = ldconfigLine.exec(line);
    if (m) entries.push({ soname: m[1]!, flags: m[2]!, path: m[3]! });
  }
  return entries;
}

/** The flag `ldconfig -p` marks libraries of `arch` (a `process.arch` value) with, if known. */
export function ldconfigArchFlag(arch: string): string | undefined {
  return ({ x64: 'x86-64', arm64: 'AArch64', ppc64: 'ppc64' } as Record<string, string>)[arch];
}

/** Where a required library was found: the first place `dlopen` would look that has it. */
export interface LibraryLocation {
  library: CudaLibrary;
  /** Its path, or `undefined` when `dlopen` would not find it. */
  path: string | undefined;
  /** How it is found: a directory of `LD_LIBRARY_PATH` (searched first) or the `ldconfig` cache. */
  via: 'LD_LIBRARY_PATH' | 'ldconfig' | undefined;
  /** Other versions of the same library that are present (e.g. `libcudart.so.12` from CUDA 12). */
  otherVersions: string[];
}

/** What {@link locateCudaLibraries} searches. */
export interface LibrarySearch {
  /** Parsed `ldconfig -p` (empty if it could not be run). */
  ldconfig: LdconfigEntry[];
  /** The value of `LD_LIBRARY_PATH`. */
  ldLibraryPath: string | undefined;
  /** Lists a directory's file names, or `undefined` if it does not exist / cannot be read. */
  listDirectory: (dir: string) => string[] | undefined;
  /** `process.arch`: cache entries of other architectures (e.g. 32-bit ones) are ignored. */
  arch: string;
}

function stemOf(soname: string): string {
  const i = soname.indexOf('.so');
  return i < 0 ? soname : soname.slice(0, i + 3);
}

/** The directories of an `LD_LIBRARY_PATH` value, in order, without empty entries. */
export function splitLdLibraryPath(value: string | undefined): string[] {
  return (value ?? '').split(':').filter((d) => d.length > 0);
}

/**
 * Finds each library the way the dynamic linker would for `dlopen("<soname>")` on Linux:
 * `LD_LIBRARY_PATH` directories first, then the `ldconfig` cache. Also lists other versions of the
 * same library (same name before `.so`) so that a message can say "CUDA 12 is installed, not 11".
 */
export function locateCudaLibraries(
  search: LibrarySearch,
  libraries: readonly CudaLibrary[] = requiredCudaLibraries,
): LibraryLocation[] {
  const archFlag = ldconfigArchFlag(search.arch);
  const cache = search.ldconfig.filter((e) => archFlag === undefined || e.flags.includes(archFlag));
  const dirs = splitLdLibraryPath(search.ldLibraryPath).map((dir) => ({
    dir,
    files: search.listDirectory(dir) ?? [],
  }));
  return libraries.map((library) => {
    const stem = stemOf(library.soname);
    const others = new Set<string>();
    const note = (name: string) => {
      if (name !== library.soname && name.startsWith(`${stem}.`)) others.add(name);
    };
    let path: string | undefined;
    let via: LibraryLocation['via'];
    for (const { dir, files } of dirs) {
      for (const f of files) note(f);
      if (path === undefined && files.includes(library.soname)) {
        path = `${dir.replace(/\/+$/, '')}/${library.soname}`;
        via = 'LD_LIBRARY_PATH';
      }
    }
    for (const e of cache) {
      note(e.soname);
      if (path === undefined && e.soname === library.soname) {
        path = e.path;
        via = 'ldconfig';
      }
    }
    return { library, path, via, otherVersions: [...others].sort() };
  });
}

/** One GPU as reported by `nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader`. */
export interface GpuInfo {
  /** Position in nvidia-smi's output (its GPU index). */
  index: number;
  name: string;
  driverVersion: string;
  /** `major.minor`, or `undefined` when the driver's nvidia-smi does not know `compute_cap` or says `[N/A]`. */
  computeCapability: string | undefined;
}

/** The nvidia-smi query the doctor runs. */
export const nvidiaSmiQueryArgs = ['--query-gpu=name,driver_version,compute_cap', '--format=csv,noheader'];

/**
 * The query without `compute_cap`, for drivers whose nvidia-smi predates that field (it answers
 * `Field "compute_cap" is not a valid field to query.`).
 */
export const nvidiaSmiLegacyQueryArgs = ['--query-gpu=name,driver_version', '--format=csv,noheader'];

function csvValue(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t === undefined || t === '' || /^\[?N\/A\]?$/i.test(t) || /^\[Not Supported\]$/i.test(t)
    ? undefined
    : t;
}

/**
 * Parses the CSV of {@link nvidiaSmiQueryArgs} (or {@link nvidiaSmiLegacyQueryArgs}: two columns),
 * e.g. `NVIDIA GeForce RTX 3090, 535.154.05, 8.6`. A header line, if present, is skipped.
 */
export function parseNvidiaSmiCsv(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || /^name\s*,/i.test(line)) continue;
    const cols = line.split(',');
    const hasCc = cols.length >= 3 && /^(\d+\.\d+|\[N\/A\])$/i.test(cols[cols.length - 1]!.trim());
    const driver = csvValue(cols[hasCc ? cols.length - 2 : cols.length - 1]);
    const name = cols
      .slice(0, hasCc ? -2 : -1)
      .join(',')
      .trim();
    if (driver === undefined || !/^\d+(\.\d+)+$/.test(driver) || name === '') continue;
    gpus.push({
      index: gpus.length,
      name,
      driverVersion: driver,
      computeCapability: hasCc ? csvValue(cols[cols.length - 1]) : undefined,
    });
  }
  return gpus;
}

/** Compares dotted driver versions numerically (`470.57.02` < `535.54.03`). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** Linux driver CUDA 11.2.0 requires (CUDA 11.2 release notes, table of toolkit and driver versions). */
export const cuda112MinimumDriver = '460.27.03';

/**
 * Oldest Linux driver that runs any CUDA 11.x application through CUDA's minor-version
 * compatibility — except PTX JIT compilation, which needs the 11.2 driver.
 */
export const cuda11MinimumDriver = '450.80.02';

/** The result of one check. */
export interface Assessment {
  status: CheckStatus;
  detail: string;
  /** What to do about it (absent when nothing needs doing). */
  fix?: string;
}

/**
 * Checks the driver version against CUDA 11.2. `needsPtxJit`: some GPU has no compiled kernels in
 * libtensorflow 2.9.1 (see {@link assessComputeCapability}), so kernels are JIT-compiled from PTX,
 * which minor-version compatibility does not cover.
 */
export function assessDriverVersion(version: string, needsPtxJit: boolean): Assessment {
  const upgrade = `upgrade the NVIDIA driver to ${cuda112MinimumDriver} or newer (any newer driver, including CUDA 12 drivers, runs CUDA 11.2 applications)`;
  if (compareVersions(version, cuda11MinimumDriver) < 0) {
    return {
      status: 'missing',
      detail: `driver ${version} is older than ${cuda11MinimumDriver}, the oldest that runs CUDA 11 (needed: ${cuda112MinimumDriver} for CUDA 11.2)`,
      fix: upgrade,
    };
  }
  if (compareVersions(version, cuda112MinimumDriver) < 0) {
    return needsPtxJit
      ? {
          status: 'missing',
          detail: `driver ${version} runs CUDA 11.2 only through minor-version compatibility, which excludes PTX JIT compilation, and this GPU needs it (driver ≥ ${cuda112MinimumDriver} required)`,
          fix: upgrade,
        }
      : {
          status: 'warn',
          detail: `driver ${version} is older than ${cuda112MinimumDriver} (CUDA 11.2); it runs CUDA 11.2 libraries through minor-version compatibility`,
          fix: upgrade,
        };
  }
  return { status: 'ok', detail: `driver ${version} (CUDA 11.2 needs ≥ ${cuda112MinimumDriver})` };
}

/**
 * The GPU code compiled into TensorFlow 2.9's CUDA 11.2 builds (its build_info: `sm_35, sm_50,
 * sm_60, sm_70, sm_75, compute_80`): machine code for these compute capabilities (a binary for
 * `X.y` runs on `X.z` with z ≥ y) and PTX for 8.0, which the driver JIT-compiles for 8.0 and newer.
 */
export const libtensorflowGpuCode = { sass: ['3.5', '5.0', '6.0', '7.0', '7.5'], ptx: '8.0' } as const;

/** The lowest compute capability TensorFlow 2.9 uses; it ignores older GPUs (and runs on the CPU). */
export const minimumComputeCapability = '3.5';

/** Whether libtensorflow 2.9.1 has no machine code for `cc`, so its kernels are JIT-compiled from PTX. */
export function needsPtxJit(cc: string | undefined): boolean {
  return cc !== undefined && compareVersions(cc, libtensorflowGpuCode.ptx) >= 0;
}

/** CUDA's JIT cache size that holds all of TensorFlow's kernels (the maximum, 4 GiB). */
export const recommendedCudaCacheMaxSize = 4294967296;

/**
 * Checks one GPU's compute capability against {@link libtensorflowGpuCode}. For a GPU newer than
 * the compiled kernels (Ampere 8.0/8.6, Ada 8.9, Hopper 9.0) every kernel is JIT-compiled from PTX
 * on first use; CUDA's cache (`~/.nv/ComputeCache`, 256 MiB by default) is too small to keep them
 * all, so the compilation comes back on every run unless `CUDA_CACHE_MAXSIZE` is raised.
 */
export function assessComputeCapability(
  gpu: GpuInfo,
  env: { CUDA_CACHE_MAXSIZE?: string | undefined; CUDA_CACHE_DISABLE?: string | undefined } = {},
): Assessment {
  const cc = gpu.computeCapability;
  const what = `GPU ${gpu.index}: ${gpu.name}`;
  if (cc === undefined) {
    return {
      status: 'warn',
      detail: `${what}, compute capability unknown (this nvidia-smi cannot report compute_cap)`,
      fix: 'look the GPU up on https://developer.nvidia.com/cuda-gpus: below 3.5 it is not used; 8.0 and above JIT-compiles kernels on first use',
    };
  }
  if (compareVersions(cc, minimumComputeCapability) < 0) {
    return {
      status: 'missing',
      detail: `${what}, compute capability ${cc}: TensorFlow 2.9 ignores GPUs below ${minimumComputeCapability} and runs on the CPU`,
      fix: 'use a GPU with compute capability 3.5 or newer',
    };
  }
  if (needsPtxJit(cc)) {
    const cacheSize = Number(env.CUDA_CACHE_MAXSIZE ?? 0);
    const disabled = env.CUDA_CACHE_DISABLE === '1';
    const cached = !disabled && cacheSize >= recommendedCudaCacheMaxSize / 2;
    return {
      status: 'warn',
      detail:
        `${what}, compute capability ${cc}: libtensorflow ${libtensorflowVersion} has compiled kernels up to ` +
        `${libtensorflowGpuCode.sass.at(-1)} and PTX for ${libtensorflowGpuCode.ptx}, so the first steps will be slow ` +
        `(PTX JIT compilation of every kernel, possibly many minutes)` +
        (cached
          ? `; CUDA_CACHE_MAXSIZE=${env.CUDA_CACHE_MAXSIZE} keeps them for later runs`
          : disabled
            ? '; CUDA_CACHE_DISABLE=1 makes every run recompile them'
            : '; with the default 256 MiB JIT cache every run recompiles them'),
      ...(cached
        ? {}
        : {
            fix: `${disabled ? 'unset CUDA_CACHE_DISABLE and ' : ''}export CUDA_CACHE_MAXSIZE=${recommendedCudaCacheMaxSize} (keeps the JIT-compiled kernels in ~/.nv/ComputeCache between runs)`,
          }),
    };
  }
  return { status: 'ok', detail: `${what}, compute capability ${cc}` };
}
