import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SbmArgumentError } from '@sbm/sde';
import { expect } from 'vitest';

const fixtureDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-fixtures');

/** The bytes of a file in packages/pth/test-fixtures (written by scripts/pth-fixtures.py). */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixtureDir, name)));
}

/** A tensor as torch.load reports it (scripts/pth-fixtures.py `describe`). */
export interface ExpectedTensor {
  path: (string | number)[];
  dtype: string;
  shape: number[];
  stride: number[];
  offset: number;
  storageNumel: number;
  /** Row-major values; non-finite values as 'inf', '-inf', 'nan'. */
  values: (number | string)[];
}

/** Contents of test-fixtures/expected.json. */
export interface ExpectedFixtures {
  mixed: ExpectedTensor[];
  mixedPlain: { list: unknown[]; orderedKeys: string[] };
  module: ExpectedTensor[];
  legacyLayout: {
    magicEnd: number;
    protocolEnd: number;
    sysInfoEnd: number;
    objectEnd: number;
    keysEnd: number;
    storages: { key: string; headerOffset: number; numel: number; elementSize: number }[];
    fileSize: number;
  };
  zip64Entries: Record<string, number[]>;
}

/** test-fixtures/expected.json. */
export const expected = JSON.parse(
  readFileSync(join(fixtureDir, 'expected.json'), 'utf8'),
) as ExpectedFixtures;

/** Expected values as float32 numbers (what `TorchCheckpoint.read` returns). */
export function expectedFloat32(values: (number | string)[]): number[] {
  const special: Record<string, number> = {
    inf: Number.POSITIVE_INFINITY,
    '-inf': Number.NEGATIVE_INFINITY,
    nan: Number.NaN,
  };
  return values.map((v) => (typeof v === 'string' ? special[v]! : Math.fround(v)));
}

/** Follows a path of Map keys / array indices from a root object. */
export function atPath(root: unknown, path: (string | number)[]): unknown {
  let value = root;
  for (const key of path) value = value instanceof Map ? value.get(key) : (value as unknown[])[key as number];
  return value;
}

/** The first offset of `pattern` in `bytes` at or after `from` (fails the test if absent). */
export function indexOfBytes(bytes: Uint8Array, pattern: ArrayLike<number> | string, from = 0): number {
  const p = typeof pattern === 'string' ? new TextEncoder().encode(pattern) : Uint8Array.from(pattern);
  outer: for (let i = from; i + p.length <= bytes.length; i++) {
    for (let j = 0; j < p.length; j++) if (bytes[i + j] !== p[j]) continue outer;
    return i;
  }
  throw new Error(`pattern ${Array.from(p).join(',')} not found`);
}

/** A copy of `bytes` with `patch` written at `offset`. */
export function patched(bytes: Uint8Array, offset: number, patch: ArrayLike<number>): Uint8Array {
  const copy = bytes.slice();
  copy.set(Uint8Array.from(patch), offset);
  return copy;
}

/** Little-endian bytes of an unsigned integer (`width` bytes). */
export function littleEndian(value: number | bigint, width: number): number[] {
  let v = BigInt(value);
  return Array.from({ length: width }, () => {
    const b = Number(v & 0xffn);
    v >>= 8n;
    return b;
  });
}

/**
 * Offset of the central directory header of zip entry `name`, found by scanning for the header signature and
 * comparing names (independently of the reader under test).
 */
export function centralHeaderOffset(zip: Uint8Array, name: string): number {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const encoded = new TextEncoder().encode(name);
  for (let p = 0; p + 46 <= zip.length; p++) {
    if (view.getUint32(p, true) !== 0x02014b50 || view.getUint16(p + 28, true) !== encoded.length) continue;
    if (encoded.every((b, i) => zip[p + 46 + i] === b)) return p;
  }
  throw new Error(`no central directory header for ${name}`);
}

/**
 * Asserts that `fn` throws an SbmArgumentError (not a RangeError, TypeError or other crash) whose message names
 * the file and matches every pattern.
 */
export function expectCheckpointError(
  fn: () => unknown,
  file: string,
  ...patterns: (string | RegExp)[]
): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(SbmArgumentError);
  const message = (thrown as Error).message;
  expect(message).toContain(file);
  for (const pattern of patterns) {
    if (typeof pattern === 'string') expect(message).toContain(pattern);
    else expect(message).toMatch(pattern);
  }
}
