import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CIFAR10_RECORD_BYTES, loadCifar10, parseCifar10Batch } from './cifar10.js';

/** The value written for record `r` (global index), channel `c`, row `y`, column `x`. */
function pixel(r: number, c: number, y: number, x: number): number {
  return (r * 31 + c * 101 + y * 7 + x * 3 + ((x * y) >> 2)) & 255;
}

/**
 * Writes a batch in the CIFAR-10 binary format straight from its specification: per record, one label
 * byte, then the R plane (1024 bytes, rows top to bottom), then G, then B.
 */
function encodeBatch(first: number, labels: number[]): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  let o = 0;
  for (const [k, label] of labels.entries()) {
    out[o++] = label;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) out[o++] = pixel(first + k, c, y, x);
      }
    }
  }
  expect(o).toBe(out.length);
  return out;
}

function expectHwc(data: Uint8Array, count: number): void {
  expect(data.length).toBe(count * 32 * 32 * 3);
  let bad = 0;
  for (let r = 0; r < count; r++) {
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        for (let c = 0; c < 3; c++) {
          if (data[r * 3072 + (y * 32 + x) * 3 + c] !== pixel(r, c, y, x)) bad++;
        }
      }
    }
  }
  expect(bad).toBe(0);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cifar10-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseCifar10Batch', () => {
  it('moves every byte from the CHW planes to HWC and keeps the labels', () => {
    const labels = [3, 0, 9, 5];
    const b = parseCifar10Batch(encodeBatch(0, labels), 'x.bin');
    expect(b.count).toBe(4);
    expect(Array.from(b.labels)).toEqual(labels);
    expectHwc(b.images, 4);
  });

  it('names the file and the expected layout on a bad length', () => {
    expect(() => parseCifar10Batch(new Uint8Array(5000), 'data_batch_1.bin')).toThrow(
      'data_batch_1.bin: expected a positive multiple of 3073 bytes (1 label + 3072 pixels per image), got 5000',
    );
    expect(() => parseCifar10Batch(new Uint8Array(0), 'e.bin')).toThrow(/e.bin: .* got 0/);
  });

  it('rejects a label byte above 9, naming the record', () => {
    const bytes = encodeBatch(0, [1, 2, 3]);
    bytes[2 * CIFAR10_RECORD_BYTES] = 10;
    expect(() => parseCifar10Batch(bytes, 'test_batch.bin')).toThrow(
      'test_batch.bin: record 2 (byte offset 6146) has label 10, expected 0–9',
    );
  });
});

describe('loadCifar10', () => {
  const sizes = [3, 1, 2, 4, 2];

  async function writeTrain(): Promise<number[]> {
    const all: number[] = [];
    let first = 0;
    for (const [i, n] of sizes.entries()) {
      const labels = Array.from({ length: n }, (_, k) => (first + k) % 10);
      await writeFile(join(dir, `data_batch_${i + 1}.bin`), encodeBatch(first, labels));
      all.push(...labels);
      first += n;
    }
    return all;
  }

  it('concatenates batches 1–5 in order for the train split', async () => {
    const labels = await writeTrain();
    const ds = await loadCifar10(dir, 'train');
    expect(ds.name).toBe('cifar10-train');
    expect(ds.size).toBe(12);
    expect(ds.shape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(Array.from(ds.labels!)).toEqual(labels);
    expectHwc(ds.data as Uint8Array, 12);
  });

  it('reads test_batch.bin for the test split', async () => {
    await writeFile(join(dir, 'test_batch.bin'), encodeBatch(0, [7, 8]));
    const ds = await loadCifar10(dir, 'test');
    expect(ds.size).toBe(2);
    expect(Array.from(ds.labels!)).toEqual([7, 8]);
    expectHwc(ds.data as Uint8Array, 2);
  });

  it('names a missing batch file', async () => {
    await writeTrain();
    await rm(join(dir, 'data_batch_4.bin'));
    await expect(loadCifar10(dir, 'train')).rejects.toThrow(
      `loadCifar10: missing ${join(dir, 'data_batch_4.bin')}`,
    );
    await expect(loadCifar10(dir, 'test')).rejects.toThrow(/missing .*test_batch\.bin/);
  });

  it('names a truncated batch file', async () => {
    await writeTrain();
    const bytes = encodeBatch(0, [1, 2]);
    await writeFile(join(dir, 'data_batch_3.bin'), bytes.subarray(0, bytes.length - 100));
    await expect(loadCifar10(dir, 'train')).rejects.toThrow(
      `${join(dir, 'data_batch_3.bin')}: expected a positive multiple of 3073 bytes (1 label + 3072 pixels per image), got 6046`,
    );
  });

  it('names a corrupt label in a batch file', async () => {
    await writeTrain();
    const bytes = encodeBatch(0, [1, 2]);
    bytes[CIFAR10_RECORD_BYTES] = 200;
    await writeFile(join(dir, 'data_batch_5.bin'), bytes);
    await expect(loadCifar10(dir, 'train')).rejects.toThrow(
      /data_batch_5\.bin: record 1 .* has label 200, expected 0–9/,
    );
  });

  it('rejects an unknown split', async () => {
    await expect(loadCifar10(dir, 'val' as 'test')).rejects.toThrow(
      `split must be 'train' or 'test', got "val"`,
    );
  });
});
