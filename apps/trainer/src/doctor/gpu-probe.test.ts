import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { nodeFileProbe } from './doctor.js';
import {
  ldconfigBase,
  ldconfigCuda112,
  ldconfigCudnn8,
  ldconfigText,
  libraryDirectory,
  nvidiaSmi,
} from './gpu-box.test-support.js';
import {
  assessComputeCapability,
  assessDriverVersion,
  compareVersions,
  locateCudaLibraries,
  needsPtxJit,
  parseLdconfigCache,
  parseNvidiaSmiCsv,
  requiredCudaLibraries,
  splitLdLibraryPath,
} from './gpu-probe.js';

function ldconfigHere(): string | undefined {
  for (const file of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      return execFileSync(file, ['-p'], { encoding: 'utf8' });
    } catch {}
  }
  return undefined;
}

describe('parseLdconfigCache', () => {
  test("parses this machine's `ldconfig -p`: as many entries as its count line says", () => {
    const text = ldconfigHere();
    if (text === undefined) return; // no ldconfig (not glibc)
    const count = Number(/^(\d+) libs found/.exec(text)?.[1]);
    const entries = parseLdconfigCache(text);
    expect(entries.length).toBe(count);
    expect(entries.find((e) => e.soname === 'libc.so.6')?.path).toMatch(/\/libc\.so\.6$/);
  });

  test('keeps the flags (with OS ABI and 32-bit entries) and the path', () => {
    const entries = parseLdconfigCache(ldconfigText(ldconfigBase));
    expect(entries).toContainEqual({
      soname: 'libm.so.6',
      flags: 'libc6,x86-64, OS ABI: Linux 3.2.0',
      path: '/lib/x86_64-linux-gnu/libm.so.6',
    });
    expect(entries.filter((e) => e.soname === 'libcuda.so.1').map((e) => e.flags)).toEqual([
      'libc6,x86-64',
      'libc6',
    ]);
  });
});

describe('locateCudaLibraries', () => {
  const none = () => undefined;

  test('finds all twelve libraries of a CUDA 11.2 + cuDNN 8.1 box in the ldconfig cache', () => {
    const cache = parseLdconfigCache(ldconfigText(ldconfigBase, ldconfigCuda112, ldconfigCudnn8));
    const found = locateCudaLibraries({
      ldconfig: cache,
      ldLibraryPath: undefined,
      listDirectory: none,
      arch: 'x64',
    });
    expect(found.map((l) => l.library.soname)).toEqual(requiredCudaLibraries.map((l) => l.soname));
    expect(found.every((l) => l.via === 'ldconfig')).toBe(true);
    expect(found[0]!.path).toBe('/usr/local/cuda-11.2/targets/x86_64-linux/lib/libcudart.so.11.0');
  });

  test('LD_LIBRARY_PATH is searched first, as by dlopen', () => {
    const dir = libraryDirectory(['libcudnn.so.8', 'libcudnn.so.8.1.1', 'libcudnn.so']);
    const cache = parseLdconfigCache(ldconfigText(ldconfigCudnn8));
    const found = locateCudaLibraries({
      ldconfig: cache,
      ldLibraryPath: `/nonexistent::${dir}/`,
      listDirectory: nodeFileProbe.listDirectory,
      arch: 'x64',
    });
    const cudnn = found.find((l) => l.library.soname === 'libcudnn.so.8')!;
    expect(cudnn).toMatchObject({ path: `${dir}/libcudnn.so.8`, via: 'LD_LIBRARY_PATH' });
    expect(cudnn.otherVersions).toEqual(['libcudnn.so.8.1.1']);
  });

  test('reports CUDA 12 / cuDNN 9 sonames as other versions, not as found', () => {
    const text = ldconfigText([
      '\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudart.so.12',
      '\tlibcudart.so (libc6,x86-64) => /usr/local/cuda-12.4/targets/x86_64-linux/lib/libcudart.so',
      '\tlibcudnn.so.9 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcudnn.so.9',
    ]);
    const found = locateCudaLibraries({
      ldconfig: parseLdconfigCache(text),
      ldLibraryPath: '',
      listDirectory: none,
      arch: 'x64',
    });
    expect(found.find((l) => l.library.soname === 'libcudart.so.11.0')).toMatchObject({
      path: undefined,
      otherVersions: ['libcudart.so.12'],
    });
    expect(found.find((l) => l.library.soname === 'libcudnn.so.8')!.otherVersions).toEqual(['libcudnn.so.9']);
  });

  test('ignores cache entries of another architecture (32-bit libraries on x86-64)', () => {
    const text = ldconfigText(['\tlibcudart.so.11.0 (libc6) => /usr/lib/i386-linux-gnu/libcudart.so.11.0']);
    const [cudart] = locateCudaLibraries({
      ldconfig: parseLdconfigCache(text),
      ldLibraryPath: undefined,
      listDirectory: none,
      arch: 'x64',
    });
    expect(cudart!.path).toBeUndefined();
  });

  test('splitLdLibraryPath drops empty entries', () => {
    expect(splitLdLibraryPath(':/a::/b:')).toEqual(['/a', '/b']);
    expect(splitLdLibraryPath(undefined)).toEqual([]);
  });
});

describe('parseNvidiaSmiCsv', () => {
  test('one line per GPU: name, driver, compute capability', () => {
    expect(parseNvidiaSmiCsv(nvidiaSmi.twoT4)).toEqual([
      { index: 0, name: 'Tesla T4', driverVersion: '470.57.02', computeCapability: '7.5' },
      { index: 1, name: 'Tesla T4', driverVersion: '470.57.02', computeCapability: '7.5' },
    ]);
    expect(parseNvidiaSmiCsv(nvidiaSmi.h100)[0]).toMatchObject({
      name: 'NVIDIA H100 80GB HBM3',
      computeCapability: '9.0',
    });
  });

  test('the two-column legacy answer, [N/A], a header line and error text', () => {
    expect(parseNvidiaSmiCsv(nvidiaSmi.legacyK80)).toEqual([
      { index: 0, name: 'Tesla K80', driverVersion: '460.32.03', computeCapability: undefined },
    ]);
    expect(
      parseNvidiaSmiCsv('name, driver_version, compute_cap\nGRID A100-4C, 510.47.03, [N/A]\n')[0],
    ).toMatchObject({
      name: 'GRID A100-4C',
      computeCapability: undefined,
    });
    expect(parseNvidiaSmiCsv(nvidiaSmi.driverNotLoaded)).toEqual([]);
    expect(parseNvidiaSmiCsv(nvidiaSmi.noComputeCapField)).toEqual([]);
  });
});

describe('driver and compute capability', () => {
  test('compareVersions is numeric per component', () => {
    expect(compareVersions('460.27.03', '460.27.3')).toBe(0);
    expect(compareVersions('460.9', '460.27.03')).toBe(-1);
    expect(compareVersions('535.154.05', '460.27.03')).toBe(1);
  });

  test('driver: < 450.80.02 missing, < 460.27.03 warn (missing if PTX JIT is needed), else ok', () => {
    expect(assessDriverVersion('440.33.01', false).status).toBe('missing');
    expect(assessDriverVersion('455.45.01', false).status).toBe('warn');
    expect(assessDriverVersion('455.45.01', true)).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('PTX JIT'),
    });
    expect(assessDriverVersion('460.27.03', true).status).toBe('ok');
    expect(assessDriverVersion('550.54.15', true).status).toBe('ok');
  });

  test('compute capability: < 3.5 missing, compiled ones ok, 8.0 and newer JIT-compile from PTX', () => {
    const gpu = (cc: string | undefined) => ({
      index: 0,
      name: 'GPU',
      driverVersion: '535.154.05',
      computeCapability: cc,
    });
    expect(assessComputeCapability(gpu('3.0')).status).toBe('missing');
    expect(assessComputeCapability(gpu('3.7')).status).toBe('ok');
    expect(assessComputeCapability(gpu('7.5')).status).toBe('ok');
    expect(assessComputeCapability(gpu(undefined)).status).toBe('warn');
    for (const cc of ['8.0', '8.6', '8.9', '9.0']) {
      expect(needsPtxJit(cc)).toBe(true);
      const a = assessComputeCapability(gpu(cc));
      expect(a.status).toBe('warn');
      expect(a.detail).toContain('first steps will be slow (PTX JIT compilation');
      expect(a.fix).toBe(
        'export CUDA_CACHE_MAXSIZE=4294967296 (keeps the JIT-compiled kernels in ~/.nv/ComputeCache between runs)',
      );
    }
    expect(assessComputeCapability(gpu('9.0'), { CUDA_CACHE_MAXSIZE: '4294967296' }).fix).toBeUndefined();
    expect(
      assessComputeCapability(gpu('9.0'), { CUDA_CACHE_MAXSIZE: '4294967296', CUDA_CACHE_DISABLE: '1' }).fix,
    ).toMatch(/^unset CUDA_CACHE_DISABLE/);
  });
});
