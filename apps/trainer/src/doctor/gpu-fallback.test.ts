import { realpathSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { mappedCudaFiles, mapsLine } from './gpu-box.test-support.js';
import {
  assessGpuUse,
  decideGpuFallback,
  explainCpuFallback,
  isMappedLibrary,
  parseMappedFiles,
  readProcSelfMaps,
} from './gpu-fallback.js';

const ownMaps = readProcSelfMaps() ?? '';
const withCuda = (files: string[]) =>
  [ownMaps.trimEnd(), ...files.map((f, i) => mapsLine(f, 0x7f1c2a400000 + i * 0x100000))].join('\n');
const all = Object.values(mappedCudaFiles);

describe('/proc/self/maps', () => {
  test("parses this process's real maps: the node binary is mapped", () => {
    if (ownMaps === '') return; // not Linux
    expect(parseMappedFiles(ownMaps)).toContain(realpathSync(process.execPath));
  });

  test('file mappings only, "(deleted)" stripped', () => {
    const text = [
      '55c31af78000-55c31af7a000 r--p 00000000 fe:00 260131                     /usr/bin/cat',
      '7ffd1c9e5000-7ffd1ca06000 rw-p 00000000 00:00 0                          [stack]',
      '7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ',
      '7f1c2a400000-7f1c2a46a000 r-xp 00000000 103:02 99 /tmp/x.so (deleted)',
    ].join('\n');
    expect(parseMappedFiles(text)).toEqual(['/usr/bin/cat', '/tmp/x.so']);
  });

  test('a mapped real file matches its soname', () => {
    expect(isMappedLibrary(mappedCudaFiles.cudart, 'libcudart.so.11.0')).toBe(true);
    expect(isMappedLibrary(mappedCudaFiles.cudnn, 'libcudnn.so.8')).toBe(true);
    expect(isMappedLibrary(mappedCudaFiles.driver, 'libcuda.so.1')).toBe(true);
    expect(isMappedLibrary('/usr/local/cuda-12.4/lib64/libcudart.so.12.4.127', 'libcudart.so.11.0')).toBe(
      false,
    );
    expect(isMappedLibrary('/usr/lib/x86_64-linux-gnu/libcudnn.so.80', 'libcudnn.so.8')).toBe(false);
  });
});

describe('assessGpuUse', () => {
  const gpuBuild = (onGpu: boolean) => ({ isGPUPackage: true, isUsingGpuDevice: onGpu });

  test('the real signal: isUsingGpuDevice of the CUDA build', () => {
    expect(
      assessGpuUse({ backendName: 'tensorflow', backend: gpuBuild(true), procMaps: withCuda(all) }).kind,
    ).toBe('gpu');
  });

  test('GPU build without a GPU device is a CPU fallback, explained by the missing cuDNN mapping', () => {
    const v = assessGpuUse({
      backendName: 'tensorflow',
      backend: gpuBuild(false),
      procMaps: withCuda(all.filter((f) => f !== mappedCudaFiles.cudnn)),
    });
    expect(v.kind).toBe('cpu-fallback');
    expect('reasons' in v && v.reasons.join(' ')).toContain(
      'libtensorflow could not load libcudnn.so.8 (cuDNN 8)',
    );
  });

  test('no driver library mapped: no NVIDIA driver', () => {
    expect(explainCpuFallback({ procMaps: ownMaps })[0]).toContain(
      'libcuda.so.1 (the NVIDIA driver) is not loaded',
    );
  });

  test('everything mapped but no device; CUDA_VISIBLE_DEVICES=-1; no maps', () => {
    expect(explainCpuFallback({ procMaps: withCuda(all) })[0]).toContain('registered no GPU');
    expect(explainCpuFallback({ procMaps: withCuda(all), cudaVisibleDevices: '-1' })[0]).toBe(
      'CUDA_VISIBLE_DEVICES="-1" hides every GPU',
    );
    expect(explainCpuFallback({})).toEqual([
      'run `sbm doctor` to see which CUDA 11.2 / cuDNN 8 pieces are missing',
    ]);
  });

  test('tfjs-node (CPU build) and non-tensorflow backends', () => {
    expect(
      assessGpuUse({ backendName: 'tensorflow', backend: { isGPUPackage: false, isUsingGpuDevice: false } })
        .kind,
    ).toBe('cpu-build');
    expect(assessGpuUse({ backendName: 'wasm', backend: {} }).kind).toBe('not-tensorflow');
  });
});

describe('decideGpuFallback', () => {
  const fallback = assessGpuUse({
    backendName: 'tensorflow',
    backend: { isGPUPackage: true, isUsingGpuDevice: false },
    procMaps: ownMaps,
  });

  test('refuses by default, naming the flag', () => {
    const d = decideGpuFallback(fallback);
    expect(d.action).toBe('refuse');
    expect(d.message).toMatch(/^Refusing to train: no GPU in use/);
    expect(d.message).toContain('--allow-cpu-fallback');
  });

  test('warns loudly with allowCpuFallback; proceeds on a GPU', () => {
    expect(decideGpuFallback(fallback, { allowCpuFallback: true })).toMatchObject({
      action: 'warn',
      message: expect.stringMatching(/^WARNING: no GPU in use/),
    });
    expect(decideGpuFallback({ kind: 'gpu', message: 'x' }).action).toBe('proceed');
  });
});
