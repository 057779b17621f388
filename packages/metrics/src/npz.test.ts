import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SbmArgumentError } from '@sbm/sde';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type NpyArray,
  readFidStatistics,
  readNpy,
  readNpz,
  writeFidStatistics,
  writeNpy,
  writeNpz,
} from './npz.js';
import { statsFixture, statsReference } from './stats.test-support.js';

const PYTHON = '/usr/bin/python3';
const hasNumpy = spawnSync(PYTHON, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
if (!hasNumpy) {
  console.warn(
    `npz.test.ts: ${PYTHON} with numpy is not available, so the numpy round-trip tests are skipped`,
  );
}

const tmp = mkdtempSync(join(tmpdir(), 'sbm-npz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Loads `path` with numpy and returns {key: {dtype, shape, values, fortran}} as JSON. */
function numpyLoad(
  path: string,
): Record<string, { dtype: string; shape: number[]; values: (number | string)[] }> {
  const code = [
    'import json, sys, numpy as np',
    'z = np.load(sys.argv[1])',
    "print(json.dumps({k: {'dtype': z[k].dtype.str, 'shape': list(z[k].shape),",
    "  'values': [str(v) if z[k].dtype.kind in 'iu' else (bool(v) if z[k].dtype.kind == 'b' else float(v)) for v in z[k].ravel()]} for k in z.files}))",
  ].join('\n');
  const out = spawnSync(PYTHON, ['-c', code, path], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`numpy could not load ${path}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

function expectError(fn: () => unknown, text: RegExp) {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SbmArgumentError);
  expect((error as Error).message).toMatch(text);
}

describe('readNpz on files written by numpy', () => {
  const expected = statsReference.npz.arrays;

  it.each(['arrays.npz', 'arrays-compressed.npz'])(
    '%s (np.savez / np.savez_compressed): float64, float32, int64, Fortran order, big-endian and 0-d arrays, exact values',
    (file) => {
      const arrays = readNpz(statsFixture(file), { name: file });
      expect([...arrays.keys()].sort()).toEqual(Object.keys(expected).sort());
      const dtypes: Record<string, string> = {
        '<f8': 'float64',
        '>f8': 'float64',
        '<f4': 'float32',
        '<i8': 'int64',
      };
      for (const [key, want] of Object.entries(expected)) {
        const got = arrays.get(key)!;
        expect(got.dtype).toBe(dtypes[want.dtype]);
        expect(got.shape).toEqual(want.shape);
        const values = Array.from(got.data as ArrayLike<number | bigint>, (v) =>
          typeof v === 'bigint' ? String(v) : v,
        );
        expect(values).toEqual(want.values);
      }
      expect(arrays.get('a32')!.data).toBeInstanceOf(Float32Array);
      expect(arrays.get('ints')!.data).toBeInstanceOf(BigInt64Array);
    },
  );

  it('readFidStatistics: a pytorch-fid style np.savez(mu=, sigma=) file (float64) and a float32 compressed one', () => {
    const ref = statsReference.npz.fidStats;
    const s64 = readFidStatistics(statsFixture('fid-stats.npz'));
    expect(s64.dim).toBe(ref.dim);
    expect(Array.from(s64.mu)).toEqual(ref.mu);
    expect(Array.from(s64.sigma)).toEqual(ref.sigma);
    const s32 = readFidStatistics(statsFixture('fid-stats-f32.npz'));
    expect(s32.mu).toBeInstanceOf(Float64Array);
    expect(Array.from(s32.mu)).toEqual(ref.mu32);
    expect(Array.from(s32.sigma)).toEqual(ref.sigma32);
  });
});

describe('writeNpz / writeFidStatistics', () => {
  const arrays: Record<string, NpyArray> = {
    f64: { dtype: 'float64', shape: [2, 3], data: Float64Array.of(0.1, -2, 3e300, 5e-324, -0, 1 / 3) },
    f32: { dtype: 'float32', shape: [4], data: Float32Array.of(1.5, -0.25, 3.4e38, 1e-45) },
    i64: { dtype: 'int64', shape: [3], data: BigInt64Array.of(-(2n ** 62n), 0n, 12345678901234n) },
    u8: { dtype: 'uint8', shape: [2, 1], data: Uint8Array.of(0, 255) },
    flags: { dtype: 'bool', shape: [2], data: Uint8Array.of(1, 0) },
    scalar: { dtype: 'float64', shape: [], data: Float64Array.of(Math.E) },
    empty: { dtype: 'float32', shape: [0, 3], data: new Float32Array(0) },
  };

  it('round-trips through readNpz', () => {
    const back = readNpz(writeNpz(arrays));
    for (const [key, a] of Object.entries(arrays)) expect(back.get(key)).toEqual(a);
  });

  it('writes the same .npy bytes as the format demands: 64-byte aligned header ending in \\n', () => {
    const npy = writeNpy(arrays.f64!);
    const headerLength = npy[8]! + 256 * npy[9]!;
    expect((10 + headerLength) % 64).toBe(0);
    expect(npy[10 + headerLength - 1]).toBe(0x0a);
    expect(readNpy(npy)).toEqual(arrays.f64);
  });

  it.skipIf(!hasNumpy)('numpy reads a written archive with the same dtypes, shapes and values', () => {
    const path = join(tmp, 'written.npz');
    writeFileSync(path, writeNpz(arrays));
    const loaded = numpyLoad(path);
    const codes: Record<string, string> = {
      float64: '<f8',
      float32: '<f4',
      int64: '<i8',
      uint8: '|u1',
      bool: '|b1',
    };
    for (const [key, a] of Object.entries(arrays)) {
      expect(loaded[key]!.dtype).toBe(codes[a.dtype]);
      expect(loaded[key]!.shape).toEqual(a.shape);
      const values = Array.from(a.data as ArrayLike<number | bigint>, (v) =>
        typeof v === 'bigint' || a.dtype === 'uint8' ? String(v) : a.dtype === 'bool' ? v === 1 : v,
      );
      expect(loaded[key]!.values).toEqual(values);
    }
  });

  it.skipIf(!hasNumpy)(
    'writeFidStatistics writes float64 mu [d] and sigma [d, d] that numpy loads exactly',
    () => {
      const stats = readFidStatistics(statsFixture('fid-stats.npz'));
      const path = join(tmp, 'stats.npz');
      writeFileSync(path, writeFidStatistics(stats));
      const loaded = numpyLoad(path);
      expect(loaded.mu).toEqual({ dtype: '<f8', shape: [stats.dim], values: Array.from(stats.mu) });
      expect(loaded.sigma).toEqual({
        dtype: '<f8',
        shape: [stats.dim, stats.dim],
        values: Array.from(stats.sigma),
      });
    },
  );

  it('rejects inconsistent arrays', () => {
    expectError(
      () => writeNpz({ a: { dtype: 'float64', shape: [3], data: new Float64Array(2) } }),
      /array.data: expected 3 elements/,
    );
    expectError(
      () => writeNpz({ a: { dtype: 'int64', shape: [1], data: new Float64Array(1) } }),
      /cannot be written as int64/,
    );
    expectError(
      () => writeFidStatistics({ mu: new Float64Array(2), sigma: new Float64Array(3), dim: 2 }),
      /stats.sigma/,
    );
  });
});

describe('readNpz / readFidStatistics errors (on real numpy archives, damaged)', () => {
  const good = statsFixture('fid-stats.npz');
  const compressed = statsFixture('arrays-compressed.npz');

  it('truncated archives name the file (and are not called checkpoints)', () => {
    for (const cut of [10, 200, good.length - 30, good.length - 1]) {
      expectError(
        () => readNpz(good.subarray(0, cut), { name: 'stats.npz' }),
        /^bytes: stats\.npz: (?!.*checkpoint)/,
      );
    }
  });

  it('a flipped data byte fails the CRC-32 check, naming the entry', () => {
    const bad = good.slice();
    bad[good.length - 200]! ^= 0x40; // inside sigma.npy's data (the central directory is the last 132 bytes)
    expectError(() => readNpz(bad, { name: 'stats.npz' }), /stats\.npz: sigma\.npy: CRC-32 mismatch/);
  });

  it('declared sizes above maxEntryBytes / maxTotalBytes are refused before inflating or copying', () => {
    expectError(
      () => readNpz(compressed, { maxEntryBytes: 100 }),
      /a64\.npy: declares 224 bytes when inflated, more than the 100 allowed \(option maxEntryBytes\)/,
    );
    expectError(
      () => readNpz(compressed, { maxTotalBytes: 500 }),
      /would pass the 500 bytes allowed in total \(option maxTotalBytes\)/,
    );
    // Stored entries (np.savez) count too: readNpy copies them into typed arrays.
    expectError(
      () => readNpz(statsFixture('arrays.npz'), { maxEntryBytes: 100 }),
      /a64\.npy: declares 224 bytes, more than the 100 allowed \(option maxEntryBytes\)/,
    );
    expectError(
      () => readNpz(statsFixture('arrays.npz'), { maxTotalBytes: 500 }),
      /would pass the 500 bytes allowed in total \(option maxTotalBytes\)/,
    );
  });

  it('a deflated entry that inflates beyond its declared size is rejected (zip bomb)', () => {
    // 1 MiB of zeros deflates to ~1 KiB; the archive then claims a size of 1000 bytes.
    const bomb = zipSync({ 'x.npy': new Uint8Array(1 << 20) }, { level: 9 });
    const view = new DataView(bomb.buffer, bomb.byteOffset, bomb.byteLength);
    let cd = bomb.length - 22;
    while (view.getUint32(cd, true) !== 0x02014b50) cd--;
    view.setUint32(cd + 24, 1000, true);
    expectError(
      () => readNpz(bomb, { name: 'bomb.npz' }),
      /bomb\.npz: x\.npy: inflates to more than its declared 1000 bytes/,
    );
  });

  it('unsupported dtypes are named (float16 written by numpy)', () => {
    expectError(
      () => readNpz(statsFixture('float16.npz'), { name: 'f16.npz' }),
      /f16\.npz\[half\.npy\]: unsupported dtype '<f2'/,
    );
  });

  it('readFidStatistics: missing or mis-shaped mu / sigma', () => {
    expectError(
      () => readFidStatistics(statsFixture('arrays.npz'), { name: 'arrays.npz' }),
      /arrays\.npz: no array 'mu' \(arrays: a64, a32, ints, fortran, big, scalar\)/,
    );
    const wrong = writeNpz({
      mu: { dtype: 'float64', shape: [3], data: new Float64Array(3) },
      sigma: { dtype: 'float64', shape: [3, 2], data: new Float64Array(6) },
    });
    expectError(
      () => readFidStatistics(wrong, { name: 'w.npz' }),
      /w\.npz: 'sigma' has shape \[3, 2\], expected \[3, 3\]/,
    );
    const ints = writeNpz({
      mu: { dtype: 'int64', shape: [1], data: new BigInt64Array(1) },
      sigma: { dtype: 'float64', shape: [1, 1], data: new Float64Array(1) },
    });
    expectError(() => readFidStatistics(ints), /<bytes>: 'mu' has dtype int64, expected float32 or float64/);
  });

  it('non-zip input and a .npy with a bad header', () => {
    expectError(() => readNpz(new TextEncoder().encode('hello world, this is not a zip file')), /not a zip/);
    const npy = writeNpy({ dtype: 'float64', shape: [2], data: new Float64Array(2) });
    expectError(
      () => readNpy(npy.subarray(0, npy.length - 3), 'a.npy'),
      /a\.npy: expected 16 data bytes for shape \(2\) of '<f8', found 13/,
    );
    const broken = npy.slice();
    broken[10] = 0x28; // '{' → '(': the dict literal becomes a broken tuple
    expectError(() => readNpy(broken, 'a.npy'), /a\.npy: cannot parse the \.npy header/);
    broken[10] = 0x7b;
    broken[12] = 0x44; // 'descr' → 'Descr'
    expectError(() => readNpy(broken, 'a.npy'), /a\.npy: the header has no 'descr'/);
  });
});
