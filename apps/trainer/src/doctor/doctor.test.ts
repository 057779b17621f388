import { describe, expect, test } from 'vitest';
import {
  type BackendFinding,
  type DoctorOptions,
  type DoctorReport,
  formatDoctorReport,
  runDoctor,
} from './doctor.js';
import {
  fakeExec,
  ldconfigBase,
  ldconfigCuda112,
  ldconfigCudnn8,
  ldconfigText,
  libraryDirectory,
  nvidiaSmi,
  tfjsNodeGpuLayout,
} from './gpu-box.test-support.js';

const check = (r: DoctorReport, name: string) => r.checks.find((c) => c.name === name)!;
const query = 'nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader';
const legacyQuery = 'nvidia-smi --query-gpu=name,driver_version --format=csv,noheader';

const tensorflowGpu = (onGpu: boolean): BackendFinding => ({
  selection: {
    choice: 'tensorflow-gpu',
    backendName: 'tensorflow',
    candidates: [
      { choice: 'tensorflow-gpu', available: true, reason: '@tensorflow/tfjs-node-gpu (CUDA build) loaded' },
    ],
  },
  gpu: onGpu
    ? { kind: 'gpu', message: 'TensorFlow registered a GPU device: training runs on the GPU' }
    : {
        kind: 'cpu-fallback',
        message:
          '@tensorflow/tfjs-node-gpu loaded, but TensorFlow registered no GPU device and silently runs every op on the CPU',
        reasons: ['libtensorflow could not load libcudnn.so.8 (cuDNN 8)'],
      },
});

/** A Linux x64, Node 20 box with the driver, CUDA 11.2 and cuDNN 8.1 in the linker cache, set up. */
function gpuBox(overrides: Partial<DoctorOptions> & { smi?: string; ldconfig?: string } = {}): DoctorOptions {
  const {
    smi = nvidiaSmi.rtx3090,
    ldconfig = ldconfigText(ldconfigBase, ldconfigCuda112, ldconfigCudnn8),
    ...rest
  } = overrides;
  return {
    exec: fakeExec({ [query]: { stdout: smi }, 'ldconfig -p': { stdout: ldconfig } }),
    env: { CUDA_CACHE_MAXSIZE: '4294967296' },
    runtime: { platform: 'linux', arch: 'x64', nodeVersion: 'v20.20.2', napiVersion: 9 },
    tfjsNodeGpuDir: tfjsNodeGpuLayout({ addonNapi: [8], libtensorflow: true }),
    cudaInstallDirs: [],
    probeBackend: async () => tensorflowGpu(true),
    ...rest,
  };
}

describe('runDoctor on this machine (no GPU, no nvidia-smi, addon not built)', () => {
  test('says no NVIDIA GPU / driver, that the install script did not run, and that training uses wasm/cpu', async () => {
    const report = await runDoctor();
    expect(report.gpuReady).toBe(false);
    expect(check(report, 'platform').status).toBe(
      process.platform === 'linux' && process.arch === 'x64' ? 'ok' : 'missing',
    );
    expect(check(report, 'nvidia driver')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('no NVIDIA GPU / driver found'),
      fix: expect.stringContaining('460.27.03'),
    });
    expect(check(report, 'cuda 11.2').status).toBe('missing');
    expect(check(report, 'cudnn 8').status).toBe('missing');
    expect(check(report, 'tfjs-node-gpu').status).toBe('ok');
    expect(check(report, 'native addon')).toMatchObject({
      status: 'missing',
      fix: expect.stringContaining('pnpm gpu:setup'),
    });
    expect(check(report, 'libtensorflow').status).toBe('missing');
    expect(['wasm', 'cpu']).toContain(report.backendChoice);
    expect(check(report, 'backend')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining(
        'passed over tensorflow-gpu: @tensorflow/tfjs-node-gpu is installed but its native binding did not load',
      ),
    });
    expect(report.summary).toMatch(
      /^GPU training: not available — training will use the (wasm|cpu) backend \(CPU\)/,
    );

    const text = formatDoctorReport(report, { color: false });
    expect(text).not.toContain('\u001b[');
    expect(text).toMatch(/^ {2}missing {2}nvidia driver {2}no NVIDIA GPU \/ driver found/m);
  });
});

describe('runDoctor on GPU boxes (injected tool output)', () => {
  test('everything present: ready', async () => {
    const report = await runDoctor(gpuBox());
    expect(report.checks.filter((c) => c.status !== 'ok')).toEqual([
      expect.objectContaining({ name: 'gpu 0', status: 'warn' }), // RTX 3090 (8.6) JIT-compiles from PTX; cache is set
    ]);
    expect(check(report, 'gpu 0').fix).toBeUndefined();
    expect(check(report, 'nvidia driver').detail).toBe('driver 535.154.05 (CUDA 11.2 needs ≥ 460.27.03)');
    expect(check(report, 'cudnn 8').detail).toContain(
      'libcudnn.so.8 → /usr/lib/x86_64-linux-gnu/libcudnn.so.8 (ldconfig)',
    );
    expect(report.gpuReady).toBe(true);
    expect(report.summary).toBe('GPU training: ready (tensorflow-gpu, TensorFlow registered a GPU device).');
  });

  test('cuDNN missing: cudnn 8 missing with the cuDNN 8.1 fix, and the silent CPU fallback is called out', async () => {
    const report = await runDoctor(
      gpuBox({
        ldconfig: ldconfigText(ldconfigBase, ldconfigCuda112),
        probeBackend: async () => tensorflowGpu(false),
      }),
    );
    expect(check(report, 'cuda 11.2').status).toBe('ok');
    expect(check(report, 'cudnn 8')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('libcudnn.so.8 (cuDNN 8) not found'),
      fix: expect.stringContaining('libcudnn8=8.1.1.33-1+cuda11.2'),
    });
    expect(check(report, 'backend')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('registered no GPU device'),
    });
    expect(report.gpuReady).toBe(false);
    expect(report.summary).toContain('--allow-cpu-fallback');
  });

  test('CUDA installed in /usr/local/cuda-11.2/lib64 but not on the linker path: the fix is the export', async () => {
    const dir = libraryDirectory([
      'libcudart.so.11.0',
      'libcublas.so.11',
      'libcublasLt.so.11',
      'libcufft.so.10',
      'libcurand.so.10',
      'libcusolver.so.11',
      'libcusparse.so.11',
    ]);
    const report = await runDoctor(
      gpuBox({ ldconfig: ldconfigText(ldconfigBase, ldconfigCudnn8), cudaInstallDirs: [dir] }),
    );
    expect(check(report, 'cuda 11.2').fix).toBe(
      `export LD_LIBRARY_PATH=${dir}:$LD_LIBRARY_PATH (the libraries are in ${dir}, which the dynamic linker does not search)`,
    );
    const fixed = await runDoctor(
      gpuBox({ ldconfig: ldconfigText(ldconfigBase, ldconfigCudnn8), env: { LD_LIBRARY_PATH: dir } }),
    );
    expect(check(fixed, 'cuda 11.2').detail).toContain(
      `libcudart.so.11.0 → ${dir}/libcudart.so.11.0 (LD_LIBRARY_PATH)`,
    );
  });

  test('Node 22: loads napi-v8 like Node 20, warned about util.isNullOrUndefined', async () => {
    const report = await runDoctor(
      gpuBox({ runtime: { platform: 'linux', arch: 'x64', nodeVersion: 'v22.14.0', napiVersion: 10 } }),
    );
    expect(check(report, 'node')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('util.isNullOrUndefined'),
    });
    expect(check(report, 'node').detail).toMatch(/, N-API 10$/);
    expect(check(report, 'native addon')).toMatchObject({
      status: 'ok',
      detail: 'lib/napi-v8/tfjs_binding.node (N-API 10 → napi-v8)',
    });
  });

  test('H100 (sm_90): PTX JIT warning with CUDA_CACHE_MAXSIZE, driver 550 fine', async () => {
    const report = await runDoctor(gpuBox({ smi: nvidiaSmi.h100, env: {} }));
    expect(check(report, 'gpu 0')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('NVIDIA H100 80GB HBM3, compute capability 9.0'),
      fix: expect.stringContaining('export CUDA_CACHE_MAXSIZE=4294967296'),
    });
    expect(check(report, 'gpu 0').detail).toContain('first steps will be slow (PTX JIT compilation');
    expect(check(report, 'nvidia driver').status).toBe('ok');
  });

  test('old nvidia-smi without compute_cap: falls back to the two-column query', async () => {
    const report = await runDoctor(
      gpuBox({
        exec: fakeExec({
          [query]: { code: 2, stdout: nvidiaSmi.noComputeCapField },
          [legacyQuery]: { stdout: nvidiaSmi.legacyK80 },
          'ldconfig -p': { stdout: ldconfigText(ldconfigBase, ldconfigCuda112, ldconfigCudnn8) },
        }),
      }),
    );
    expect(check(report, 'gpu 0')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('Tesla K80, compute capability unknown'),
    });
    expect(check(report, 'nvidia driver').status).toBe('ok');
  });

  test('driver not loaded: nvidia-smi failure text is shown', async () => {
    const report = await runDoctor(
      gpuBox({
        exec: fakeExec({
          [query]: { code: 9, stdout: nvidiaSmi.driverNotLoaded },
          'ldconfig -p': { stdout: ldconfigText(ldconfigBase) },
        }),
      }),
    );
    expect(check(report, 'nvidia driver').detail).toBe(
      "nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
    );
  });
});

describe('formatDoctorReport', () => {
  test('aligned columns, indented continuation and fix lines; colors only on request', async () => {
    const report = await runDoctor(gpuBox({ smi: nvidiaSmi.h100, env: {} }));
    const text = formatDoctorReport(report, { color: false });
    const rows = text.split('\n').filter((l) => /^ {2}(ok|warn|missing) /.test(l));
    expect(rows.length).toBe(report.checks.length);
    const column = 2 + 'missing'.length + 2 + 'tfjs-node-gpu'.length + 2; // details start at 26
    for (const row of rows) expect(row.slice(column - 2, column + 1)).toMatch(/^ {2}\S$/);
    expect(text).toMatch(/\n {2}warn {5}gpu 0 {10}GPU 0: NVIDIA H100/);
    expect(text).toMatch(/\n {26}fix: export CUDA_CACHE_MAXSIZE=4294967296/);
    expect(formatDoctorReport(report, { color: true })).toContain('\u001b[33mwarn   \u001b[0m');
  });
});
