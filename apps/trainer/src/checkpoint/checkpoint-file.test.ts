import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error.js';
import {
  CHECKPOINT_FORMAT_VERSION,
  type CheckpointArray,
  type CheckpointContent,
  readCheckpoint,
  readCheckpointHeader,
  writeCheckpoint,
} from './checkpoint-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbm-ckpt-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deterministic pseudo-random uint32 stream (xorshift32). */
function words(seed: number, n: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s;
  }
  return out;
}

/** Many arrays of every dtype and awkward shape, with special float values. */
function manyArrays(): Record<string, CheckpointArray> {
  const arrays: Record<string, CheckpointArray> = {};
  const shapes = [[], [0], [1], [3], [5, 7], [2, 0, 4], [3, 3, 16, 32], [1, 1, 1, 1, 1], [257]];
  let k = 0;
  for (const shape of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const bits = words(1000 + k, n);
    // float32 from arbitrary bit patterns: NaNs with payloads, ±0, ±Inf, denormals all appear.
    arrays[`all_modules.${k}/weight`] = {
      dtype: 'float32',
      shape,
      data: new Float32Array(bits.slice().buffer),
    };
    arrays[`int/${k}`] = { dtype: 'int32', shape, data: new Int32Array(bits.slice().buffer) };
    arrays[`uint/${k}`] = { dtype: 'uint32', shape, data: bits.slice() };
    k++;
  }
  arrays.special = {
    dtype: 'float32',
    shape: [6],
    data: new Float32Array([
      Number.NaN,
      -0,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1e-45,
      3.4028234663852886e38,
    ]),
  };
  arrays.extremes = { dtype: 'int32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) };
  // A view into a larger buffer: only the viewed elements must be written.
  const big = new Float32Array([9, 1, 2, 3, 9]);
  arrays.view = { dtype: 'float32', shape: [3], data: big.subarray(1, 4) };
  return arrays;
}

const content = (): CheckpointContent => ({
  meta: { step: 1234, config: { lr: 2e-4, nested: [1, 'two', null, { three: true }] }, note: 'ünïcødé ✓' },
  arrays: manyArrays(),
});

function bytesOf(a: CheckpointArray): Buffer {
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
}

/** Writes a fresh valid checkpoint and returns its path and bytes. */
async function fresh(name: string): Promise<{ path: string; bytes: Buffer }> {
  const path = join(dir, name);
  await writeCheckpoint(path, content());
  return { path, bytes: await readFile(path) };
}

/** Start of the payload (after the preamble and header) in a checkpoint's bytes. */
function payloadStart(bytes: Buffer): number {
  return 32 + bytes.readUInt32LE(12);
}

async function expectCheckpointError(path: string, pattern: RegExp): Promise<CheckpointError> {
  const error = await readCheckpoint(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `reading ${path} should fail`).toBeInstanceOf(CheckpointError);
  const e = error as CheckpointError;
  expect(e.path).toBe(path);
  expect(e.message).toContain(path);
  expect(e.reason).toMatch(pattern);
  return e;
}

describe('writeCheckpoint / readCheckpoint round trip', () => {
  it('restores every array bit for bit, in order, with its dtype and shape, and the metadata', async () => {
    const original = content();
    const path = join(dir, 'round-trip.sbmckpt');
    const created = new Date('2024-05-06T07:08:09.010Z');
    const { byteLength } = await writeCheckpoint(path, original, { created, chunkBytes: 1024 });
    expect((await stat(path)).size).toBe(byteLength);
    const back = await readCheckpoint(path);
    expect(back.version).toBe(CHECKPOINT_FORMAT_VERSION);
    expect(back.created).toBe(created.toISOString());
    expect(back.meta).toEqual(original.meta);
    expect(back.byteLength).toBe(byteLength);
    expect(Object.keys(back.arrays)).toEqual(Object.keys(original.arrays));
    expect(back.index.map((e) => e.name)).toEqual(Object.keys(original.arrays));
    for (const [name, a] of Object.entries(original.arrays)) {
      const b = back.arrays[name]!;
      expect(b.dtype, name).toBe(a.dtype);
      expect(b.shape, name).toEqual(a.shape);
      expect(b.data.constructor, name).toBe(a.data.constructor);
      expect(bytesOf(b).equals(bytesOf(a)), `${name} bytes`).toBe(true);
      // Each array owns its buffer (safe to hand to tf.tensor or to transfer).
      expect(b.data.byteOffset).toBe(0);
      expect(b.data.buffer.byteLength).toBe(b.data.byteLength);
    }
    expect(Object.is(back.arrays.special!.data[1], -0)).toBe(true);
    expect(Array.from(back.arrays.view!.data)).toEqual([1, 2, 3]);
    // The written checkpoint reads back and rewrites to the same bytes.
    const again = join(dir, 'round-trip-2.sbmckpt');
    await writeCheckpoint(again, { meta: back.meta, arrays: back.arrays }, { created });
    expect((await readFile(again)).equals(await readFile(path))).toBe(true);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('readCheckpointHeader gives the metadata and index without reading the arrays', async () => {
    const { path } = await fresh('header.sbmckpt');
    const header = await readCheckpointHeader(path);
    expect(header.meta.step).toBe(1234);
    const entry = header.index.find((e) => e.name === 'all_modules.6/weight')!;
    expect(entry).toMatchObject({ dtype: 'float32', shape: [3, 3, 16, 32], byteLength: 3 * 3 * 16 * 32 * 4 });
    expect(entry.offset % 8).toBe(0);
  });

  it('replaces an existing file atomically, and a failing write leaves the old file and no temp file', async () => {
    const path = join(dir, 'replace.sbmckpt');
    await writeCheckpoint(path, { meta: { step: 1 }, arrays: {} });
    await writeCheckpoint(path, { meta: { step: 2 }, arrays: {} });
    expect((await readCheckpoint(path)).meta.step).toBe(2);
    const failing = writeCheckpoint(path, content(), {
      chunkBytes: 256,
      onProgress: (written) => {
        if (written > 2000) throw new Error('disk full (simulated)');
      },
    });
    await expect(failing).rejects.toThrow('disk full (simulated)');
    expect((await readCheckpoint(path)).meta.step).toBe(2);
    expect((await readdir(dir)).filter((f) => f.startsWith('replace.sbmckpt.tmp-'))).toEqual([]);
  });

  it('rejects arrays whose dtype, data or shape disagree, naming the array', async () => {
    const path = join(dir, 'invalid.sbmckpt');
    const write = (a: CheckpointArray) =>
      writeCheckpoint(path, { meta: {}, arrays: { 'all_modules.3/bias': a } });
    await expect(write({ dtype: 'float32', shape: [2], data: new Int32Array(2) })).rejects.toThrow(
      /arrays\['all_modules.3\/bias'\]\.data: expected a Float32Array for dtype 'float32', got Int32Array/,
    );
    await expect(write({ dtype: 'float32', shape: [2, 2], data: new Float32Array(3) })).rejects.toThrow(
      /arrays\['all_modules.3\/bias'\]: shape \[2,2\] has 4 elements but data has 3/,
    );
    await expect(
      write({ dtype: 'float64' as 'float32', shape: [1], data: new Float32Array(1) }),
    ).rejects.toThrow(/dtype: expected 'float32', 'int32' or 'uint32', got float64/);
    await expect(stat(path)).rejects.toThrow();
  });
});

describe('readCheckpoint on corrupt files', () => {
  it('reports truncation at any offset with the expected and actual size', async () => {
    const { bytes } = await fresh('truncate-source.sbmckpt');
    const full = bytes.length;
    const start = payloadStart(bytes);
    for (const [i, length] of [0, 7, 31].entries()) {
      const path = join(dir, `short-${i}.sbmckpt`);
      await writeFile(path, bytes.subarray(0, length));
      await expectCheckpointError(
        path,
        new RegExp(`^truncated: expected at least 32 bytes \\(the preamble\\), got ${length}$`),
      );
    }
    for (const length of [
      32,
      40,
      start - 1,
      start,
      start + 1,
      Math.floor((start + full) / 2),
      full - 64,
      full - 1,
    ]) {
      const path = join(dir, `truncated-${length}.sbmckpt`);
      await writeFile(path, bytes);
      await truncate(path, length);
      await expectCheckpointError(path, new RegExp(`^truncated: expected ${full} bytes, got ${length}$`));
    }
  });

  it('reports appended data', async () => {
    const { path, bytes } = await fresh('appended.sbmckpt');
    await writeFile(path, Buffer.concat([bytes, Buffer.from('x')]));
    await expectCheckpointError(
      path,
      new RegExp(`expected ${bytes.length} bytes, got ${bytes.length + 1} \\(unexpected data`),
    );
  });

  it('reports a flipped byte in the header, the payload and either checksum', async () => {
    const { bytes } = await fresh('flip-source.sbmckpt');
    const start = payloadStart(bytes);
    const cases: [string, number, RegExp][] = [
      ['header-start', 32, /^header checksum mismatch/],
      ['header-middle', Math.floor((32 + start) / 2), /^header checksum mismatch/],
      ['header-last', start - 1, /^header checksum mismatch/],
      ['payload-first', start, /^payload checksum mismatch/],
      ['payload-middle', Math.floor((start + bytes.length - 64) / 2), /^payload checksum mismatch/],
      ['payload-last', bytes.length - 65, /^payload checksum mismatch/],
      ['header-hash', bytes.length - 64, /^header checksum mismatch/],
      ['payload-hash', bytes.length - 1, /^payload checksum mismatch/],
      ['length-field', 13, /^preamble checksum mismatch/],
      ['payload-length-field', 16, /^preamble checksum mismatch/],
      ['preamble-hash', 30, /^preamble checksum mismatch/],
    ];
    for (const [label, offset, pattern] of cases) {
      const path = join(dir, `flip-${label}.sbmckpt`);
      const copy = Buffer.from(bytes);
      copy[offset]! ^= 0x10;
      await writeFile(path, copy);
      await expectCheckpointError(path, pattern);
    }
  });

  it('reports wrong magic bytes and an unknown format version', async () => {
    const { bytes } = await fresh('magic-source.sbmckpt');
    const magic = join(dir, 'wrong-magic.sbmckpt');
    const copy = Buffer.from(bytes);
    copy.write('PK\x03\x04', 0, 'latin1');
    await writeFile(magic, copy);
    await expectCheckpointError(
      magic,
      /^not an sbm checkpoint: wrong magic bytes \(expected 53424d434b505400 'SBMCKPT\\0', got 504b0304/,
    );
    const version = join(dir, 'wrong-version.sbmckpt');
    const v2 = Buffer.from(bytes);
    v2.writeUInt32LE(2, 8);
    await writeFile(version, v2);
    await expectCheckpointError(version, /^unknown format version 2 \(this reader knows version 1/);
    const json = join(dir, 'not-a-checkpoint.json');
    await writeFile(json, '{"step": 1}');
    await expectCheckpointError(json, /^truncated: expected at least 32 bytes/);
  });

  it('reports a missing file as a CheckpointError naming it', async () => {
    await expectCheckpointError(join(dir, 'missing.sbmckpt'), /^cannot open: ENOENT/);
  });
});
